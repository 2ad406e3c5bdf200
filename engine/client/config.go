package client

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// ConfigEnv names the environment variable holding the client config path.
const ConfigEnv = "MAESTRO_CONFIG"

// Config is how a client reaches and authenticates to an API server. It is
// written by `maestro server` and `maestro up`, and read by the CLI and the
// Terraform provider.
type Config struct {
	// Server is the API URL, e.g. https://127.0.0.1:6443.
	Server string `json:"server"`
	// CertificateAuthorityData is the PEM of the cluster CA.
	CertificateAuthorityData string `json:"certificateAuthorityData,omitempty"`
	// CertificateAuthority is a path to the CA PEM (used when the data is empty).
	CertificateAuthority string `json:"certificateAuthority,omitempty"`
	// Token is the bearer token.
	Token string `json:"token"`
}

// DefaultConfigPath is $MAESTRO_CONFIG, or ~/.maestro/config.
func DefaultConfigPath() string {
	if p := os.Getenv(ConfigEnv); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".maestro", "config")
	}
	return filepath.Join(home, ".maestro", "config")
}

// ErrNoConfig says there is no client config file.
var ErrNoConfig = errors.New("no maestro client config")

// LoadConfig reads a client config file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf("%w at %s: start a cluster with `maestro server` or `maestro up`, or set %s", ErrNoConfig, path, ConfigEnv)
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading client config %s: %w", path, err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("client config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads and checks the contents of a client config file
// (YAML or JSON): an unknown field, a value of the wrong type or a value
// a client cannot use is an error naming the field. No error carries the
// token.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("parsing: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks the config has what a client needs, in a form it can
// use: an http(s) URL with a host and no query, a token that fits an HTTP
// header, and a CA (when given inline) with a PEM certificate in it.
func (c Config) Validate() error {
	var problems []string
	if msg := checkServerURL(c.Server); msg != "" {
		problems = append(problems, "server: "+msg)
	}
	switch {
	case c.Token == "":
		problems = append(problems, "token: required")
	case strings.IndexFunc(c.Token, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }) >= 0:
		problems = append(problems, "token: must be printable ASCII without spaces (it is sent in an HTTP header)")
	}
	if c.CertificateAuthorityData != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(c.CertificateAuthorityData)) {
		problems = append(problems, "certificateAuthorityData: no PEM certificate found")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkServerURL says what is wrong with an API URL, or "". It never
// quotes the value: a token pasted into the wrong field must not end up
// in an error message.
func checkServerURL(s string) string {
	if s == "" {
		return "required"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme != "https" && u.Scheme != "http":
		return "must be an http(s) URL, like https://127.0.0.1:6443"
	case u.Host == "":
		return "the URL has no host"
	case u.User != nil:
		return "must not carry a user or password (the token authenticates)"
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "the URL must not have a query or fragment"
	}
	return ""
}

// WriteConfig writes a client config readable only by its owner.
func WriteConfig(path string, cfg Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing client config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing client config: %w", err)
	}
	return nil
}
