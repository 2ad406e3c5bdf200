package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Registry credentials for image pulls, in Kubernetes' shape: a secret of
// type kubernetes.io/dockerconfigjson whose .dockerconfigjson key holds a
// Docker config file ({"auths": {"registry:5000": {"username": ...,
// "password": ...}}}), named by a pod's spec.imagePullSecrets.

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// Registry credential secrets.
const (
	SecretTypeDockerConfigJSON = "kubernetes.io/dockerconfigjson"
	// DockerConfigJSONKey is the key of a SecretTypeDockerConfigJSON secret
	// holding the config file.
	DockerConfigJSONKey = ".dockerconfigjson"
)

// DockerConfigJSON is the part of a Docker config file that holds
// registry credentials.
type DockerConfigJSON struct {
	Auths map[string]DockerConfigEntry `json:"auths"`
}

// DockerConfigEntry is the credential of one registry: a user name and
// password (or "auth", base64 of "user:password"), or an identity token.
type DockerConfigEntry struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	Email         string `json:"email,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// ParseDockerConfigJSON reads a .dockerconfigjson value, filling Username
// and Password from Auth where only Auth is given. Errors say what is
// wrong and where, never what the value holds.
func ParseDockerConfigJSON(b []byte) (*DockerConfigJSON, error) {
	var cfg DockerConfigJSON
	if err := json.Unmarshal(b, &cfg); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("not valid JSON (at byte %d)", syn.Offset)
		}
		return nil, errors.New(`not a Docker config file: want {"auths": {"<registry>": {"username": "...", "password": "..."}}}`)
	}
	if len(cfg.Auths) == 0 {
		return nil, errors.New(`no registry in "auths"`)
	}
	for _, server := range slices.Sorted(maps.Keys(cfg.Auths)) {
		e := cfg.Auths[server]
		if server == "" {
			return nil, errors.New(`"auths" has an empty registry name`)
		}
		if e.Auth != "" && e.Username == "" && e.Password == "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return nil, fmt.Errorf("registry %q: auth is not base64", server)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf(`registry %q: auth is not base64 of "user:password"`, server)
			}
			e.Username, e.Password = user, pass
		}
		if e.Username == "" && e.IdentityToken == "" {
			return nil, fmt.Errorf("registry %q: no username, auth or identitytoken", server)
		}
		cfg.Auths[server] = e
	}
	return &cfg, nil
}

// validateTypedSecret checks the keys a secret's type requires. Like
// every secret check it names keys, never values.
func validateTypedSecret(s *Secret) ErrorList {
	if s.Type != SecretTypeDockerConfigJSON {
		return nil
	}
	p := NewPath("data").Key(DockerConfigJSONKey)
	b, ok := s.Data[DockerConfigJSONKey]
	if !ok {
		return ErrorList{Required(p, "a secret of type "+SecretTypeDockerConfigJSON+" holds a Docker config file under this key")}
	}
	if _, err := ParseDockerConfigJSON(b); err != nil {
		return ErrorList{{Field: p.String(), Type: ErrInvalid, Detail: err.Error()}}
	}
	return nil
}

func validatePullSecrets(refs []LocalObjectReference, p Path) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	for i, r := range refs {
		np := p.Index(i).Child("name")
		errs = append(errs, validateSubdomainRef(r.Name, np)...)
		if r.Name != "" && seen[r.Name] {
			errs = append(errs, Duplicate(np, r.Name))
		}
		seen[r.Name] = true
	}
	return errs
}
