package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/maestro-dev/maestro/engine/api"
)

var yamlSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// readObjects reads API objects from a JSON or YAML file ("-" is stdin):
// one object, several YAML documents, or a List. Decoding is strict, so a
// misspelt field is an error naming it rather than a setting silently lost.
func readObjects(path string, stdin io.Reader) ([]api.Object, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var objs []api.Object
	for i, doc := range yamlSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s (document %d): %w", path, i+1, err)
		}
		decoded, err := decodeObjects(js)
		if err != nil {
			return nil, fmt.Errorf("%s (document %d): %w", path, i+1, err)
		}
		objs = append(objs, decoded...)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s: no objects found", path)
	}
	return objs, nil
}

func decodeObjects(js []byte) ([]api.Object, error) {
	var head struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, err
	}
	if head.Kind == "" {
		return nil, fmt.Errorf("kind: required")
	}
	if strings.HasSuffix(head.Kind, "List") {
		var out []api.Object
		for i, item := range head.Items {
			objs, err := decodeObjects(item)
			if err != nil {
				return nil, fmt.Errorf("items[%d]: %w", i, err)
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	kind, err := api.LookupKind(head.Kind)
	if err != nil {
		return nil, fmt.Errorf("kind: %w", err)
	}
	obj := kind.New()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", kind.Kind, err)
	}
	return []api.Object{obj}, nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return f, nil
}
