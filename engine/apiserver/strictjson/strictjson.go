// Package strictjson decodes API request bodies strictly, and says where a
// body is wrong: every error it returns for a well-formed document is an
// api.ErrorList whose entries name the field by its path
// (`spec.template.spec.containers[0].image`, `metadata.labels["app"]`).
//
// On top of encoding/json it rejects what encoding/json lets through
// silently: a repeated key in any object (encoding/json keeps the last),
// a field name in the wrong case (encoding/json matches case-insensitively),
// and data after the value. Unknown fields are rejected with their path.
// Value errors that encoding/json reports without a path (a quantity that
// does not parse, invalid base64, a string for a number) get one.
//
// The checks cost one extra pass over the bytes, guided by a schema of the
// target type built once per type; the pass allocates nothing on valid
// input except for maps with more than 16 keys. Finding the path of a
// value error re-decodes pieces of the body, but only when decoding failed.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/maestro-dev/maestro/engine/api"
)

// Unmarshal decodes data into v, a non-nil pointer. Errors are an
// api.ErrorList (with field paths), or a syntax error saying where the
// JSON breaks.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("strictjson: Unmarshal needs a non-nil pointer, not %T", v)
	}
	s := schemaOf(rv.Type().Elem())
	sc := scanner{data: data}
	err := sc.value(s, 0)
	if err == nil {
		if sc.space(); sc.pos < len(data) {
			return fmt.Errorf("unexpected data after the object at byte %d: send one JSON object", sc.pos)
		}
	}
	var pe *pathError
	if errors.As(err, &pe) {
		return api.ErrorList{{Field: pe.path().String(), Type: pe.typ, Detail: pe.detail}}
	}
	// Well-formed and strict so far (or malformed, which decoding reports).
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("invalid JSON at byte %d: %w", syn.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return fmt.Errorf("invalid JSON: the body ends before the object does")
		}
		errs := locate(data, s, "")
		if len(errs) == 1 && errs[0].Field == "" {
			return fmt.Errorf("the body %s", errs[0].Detail)
		}
		if len(errs) > 0 {
			return errs
		}
		return err
	}
	// The scan passes over malformed literals ("null0"); the decoder
	// stops where the value ends.
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return fmt.Errorf("unexpected data after the object at byte %d: send one JSON object", len(data)-len(rest))
	}
	return nil
}
