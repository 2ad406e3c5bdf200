package strictjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// maxLocated bounds how many value errors one answer lists.
const maxLocated = 20

// locate finds every value in data (of schema s, at path p) that
// encoding/json cannot decode, and says what is wrong with each. It runs
// only after decoding failed, so it may be slow: it decodes each piece on
// its own.
func locate(data []byte, s *schema, p api.Path) api.ErrorList {
	var errs api.ErrorList
	switch s.shape {
	case object:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return api.ErrorList{valueError(p, s.typ, err)}
		}
		for _, f := range s.order {
			if raw, ok := m[f.name]; ok && len(errs) < maxLocated {
				errs = append(errs, locate(raw, f.schema, p.Child(f.name))...)
			}
		}
	case dict:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return api.ErrorList{valueError(p, s.typ, err)}
		}
		for _, k := range slices.Sorted(mapKeys(m)) {
			if len(errs) < maxLocated {
				errs = append(errs, locate(m[k], s.elem, p.Key(k))...)
			}
		}
	case list:
		var l []json.RawMessage
		if err := json.Unmarshal(data, &l); err != nil {
			return api.ErrorList{valueError(p, s.typ, err)}
		}
		for i, raw := range l {
			if len(errs) < maxLocated {
				errs = append(errs, locate(raw, s.elem, p.Index(i))...)
			}
		}
	default:
		if s.typ == nil {
			break // a `,string` field: only its struct decodes it
		}
		if err := json.Unmarshal(data, reflect.New(s.typ).Interface()); err != nil {
			return api.ErrorList{valueError(p, s.typ, err)}
		}
	}
	return errs
}

func mapKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// valueError says what is wrong with one value, without showing it
// (it may be a secret): only its JSON type, or the decoder's own message.
func valueError(p api.Path, t reflect.Type, err error) *api.FieldError {
	fe := &api.FieldError{Field: p.String(), Type: api.ErrTypeInvalid, Detail: err.Error()}
	var te *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &te):
		got, isNumber := strings.CutPrefix(te.Value, "number ")
		if isNumber {
			fe.Detail = fmt.Sprintf("must be %s; %s is out of range or not whole", describe(t), got)
		} else {
			fe.Detail = fmt.Sprintf("must be %s, not %s", describe(t), article(te.Value))
		}
	case errors.As(err, &b64):
		fe.Detail = fmt.Sprintf("must be base64-encoded (%v)", b64)
	}
	return fe
}

// describe names what JSON a Go type takes.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer (%d bits)", t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a non-negative integer (%d bits)", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64-encoded string"
		}
		return "an array"
	case reflect.Array:
		return "an array"
	}
	return t.String()
}

func article(jsonType string) string {
	switch jsonType {
	case "array", "object":
		return "an " + jsonType
	case "bool":
		return "a boolean"
	}
	return "a " + jsonType
}
