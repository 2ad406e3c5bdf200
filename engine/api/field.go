package api

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path is a field path such as spec.template.spec.containers[0].image.
type Path string

// NewPath starts a path at a top-level field.
func NewPath(name string) Path { return Path(name) }

// Child appends a field name.
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return p + "." + Path(name)
}

// Index appends a list index.
func (p Path) Index(i int) Path { return p + "[" + Path(strconv.Itoa(i)) + "]" }

// Key appends a map key, quoted (`metadata.labels["app"]`), so a key with
// dots, slashes or spaces still reads as one key.
func (p Path) Key(k string) Path { return p + "[" + Path(strconv.Quote(k)) + "]" }

func (p Path) String() string { return string(p) }

// ErrorType classifies a field error.
type ErrorType string

// Field error types; they appear in API error causes.
const (
	ErrRequired     ErrorType = "FieldValueRequired"
	ErrInvalid      ErrorType = "FieldValueInvalid"
	ErrNotSupported ErrorType = "FieldValueNotSupported"
	ErrDuplicate    ErrorType = "FieldValueDuplicate"
	ErrForbidden    ErrorType = "FieldValueForbidden"
	ErrTooLong      ErrorType = "FieldValueTooLong"
	ErrTooMany      ErrorType = "FieldValueTooMany"
	// ErrUnknown is a field the kind does not have (strict decoding).
	ErrUnknown ErrorType = "FieldValueUnknown"
	// ErrTypeInvalid is a value the field's type cannot hold: a string for
	// a number, a quantity that does not parse, invalid base64 (decoding).
	ErrTypeInvalid ErrorType = "FieldValueTypeInvalid"
)

// FieldError is one problem with one field. Its message never includes the
// value of a secret: validators of secret data pass no value.
type FieldError struct {
	Field  string    `json:"field"`
	Type   ErrorType `json:"reason"`
	Detail string    `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// Required reports a missing field.
func Required(p Path, detail string) *FieldError {
	d := "required"
	if detail != "" {
		d += ": " + detail
	}
	return &FieldError{Field: p.String(), Type: ErrRequired, Detail: d}
}

// Invalid reports a bad value; value is shown quoted in the message.
func Invalid(p Path, value any, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrInvalid, Detail: fmt.Sprintf("invalid value %s: %s", showValue(value), detail)}
}

// NotSupported reports a value outside an enumeration.
func NotSupported[T ~string](p Path, value T, supported ...T) *FieldError {
	names := make([]string, len(supported))
	for i, s := range supported {
		names[i] = strconv.Quote(string(s))
	}
	return &FieldError{Field: p.String(), Type: ErrNotSupported,
		Detail: fmt.Sprintf("unsupported value %q: supported values: %s", string(value), strings.Join(names, ", "))}
}

// Duplicate reports a value that must be unique.
func Duplicate(p Path, value any) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrDuplicate, Detail: fmt.Sprintf("duplicate value %s", showValue(value))}
}

// Forbidden reports a field that may not be set (or changed) here.
func Forbidden(p Path, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrForbidden, Detail: "forbidden: " + detail}
}

// TooLong reports a value over its length limit.
func TooLong(p Path, max int) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrTooLong, Detail: fmt.Sprintf("must have at most %d bytes", max)}
}

// TooMany reports a list or map with more entries than allowed.
func TooMany(p Path, actual, max int) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrTooMany, Detail: fmt.Sprintf("has %d entries: must have at most %d", actual, max)}
}

func showValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case fmt.Stringer:
		return strconv.Quote(v.String())
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// ErrorList collects every problem of an object, so a user fixes them all in one go.
type ErrorList []*FieldError

// Error joins the messages, sorted by field path.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return strings.Join(msgs, "; ")
}

// ErrOrNil returns the list as an error, or nil when it is empty.
func (l ErrorList) ErrOrNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
