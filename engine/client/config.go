package client

import (
	"errors"
	"fmt"
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
	var cfg Config
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("parsing client config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("client config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks the config has what a client needs.
func (c Config) Validate() error {
	var problems []string
	if c.Server == "" {
		problems = append(problems, "server: required")
	} else if !strings.HasPrefix(c.Server, "https://") && !strings.HasPrefix(c.Server, "http://") {
		problems = append(problems, fmt.Sprintf("server: %q must be an http(s) URL", c.Server))
	}
	if c.Token == "" {
		problems = append(problems, "token: required")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
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
