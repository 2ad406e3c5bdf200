package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Reasons carried by API errors; clients branch on them with the Is* helpers.
const (
	ReasonBadRequest            = "BadRequest"
	ReasonUnauthorized          = "Unauthorized"
	ReasonForbidden             = "Forbidden"
	ReasonNotFound              = "NotFound"
	ReasonAlreadyExists         = "AlreadyExists"
	ReasonConflict              = "Conflict"
	ReasonGone                  = "Expired"
	ReasonInvalid               = "Invalid"
	ReasonRequestEntityTooLarge = "RequestEntityTooLarge"
	ReasonTooManyRequests       = "TooManyRequests"
	ReasonRequestTimeout        = "RequestTimeout"
	ReasonMethodNotAllowed      = "MethodNotAllowed"
	ReasonUnsupportedMediaType  = "UnsupportedMediaType"
	ReasonInternalError         = "InternalError"
	ReasonServiceUnavailable    = "ServiceUnavailable"
)

// Status is the JSON body of every API error.
type Status struct {
	TypeMeta `json:",inline"`
	Status   string         `json:"status"` // "Failure"
	Code     int            `json:"code"`
	Reason   string         `json:"reason"`
	Message  string         `json:"message"`
	Details  *StatusDetails `json:"details,omitempty"`
}

// StatusDetails names the object and lists field errors.
type StatusDetails struct {
	Kind   string        `json:"kind,omitempty"`
	Name   string        `json:"name,omitempty"`
	Causes []*FieldError `json:"causes,omitempty"`
	// RetryAfterSeconds is set on 429 and 503 answers.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
}

// StatusError is an API error as a Go error, on both sides of the wire.
type StatusError struct {
	Status Status
}

func (e *StatusError) Error() string { return e.Status.Message }

// NewStatusError builds an error with an HTTP code, reason and message.
func NewStatusError(code int, reason, format string, args ...any) *StatusError {
	return &StatusError{Status: Status{
		TypeMeta: TypeMeta{Kind: "Status", APIVersion: APIVersion},
		Status:   "Failure", Code: code, Reason: reason, Message: fmt.Sprintf(format, args...),
	}}
}

// NewNotFound says an object does not exist.
func NewNotFound(kind, name string) *StatusError {
	e := NewStatusError(http.StatusNotFound, ReasonNotFound, "%s %q not found", kind, name)
	e.Status.Details = &StatusDetails{Kind: kind, Name: name}
	return e
}

// NewAlreadyExists says a create collided with an existing object.
func NewAlreadyExists(kind, name string) *StatusError {
	e := NewStatusError(http.StatusConflict, ReasonAlreadyExists, "%s %q already exists", kind, name)
	e.Status.Details = &StatusDetails{Kind: kind, Name: name}
	return e
}

// NewConflict says a compare-and-swap lost: the object changed since it was read.
func NewConflict(kind, name string, detail string) *StatusError {
	e := NewStatusError(http.StatusConflict, ReasonConflict,
		"%s %q was modified (%s); read it again and retry", kind, name, detail)
	e.Status.Details = &StatusDetails{Kind: kind, Name: name}
	return e
}

// NewInvalid reports every field error of an object at once.
func NewInvalid(kind, name string, errs ErrorList) *StatusError {
	e := NewStatusError(http.StatusUnprocessableEntity, ReasonInvalid, "%s %q is invalid: %s", kind, name, errs.Error())
	e.Status.Details = &StatusDetails{Kind: kind, Name: name, Causes: errs}
	return e
}

// NewBadRequest reports a malformed request.
func NewBadRequest(format string, args ...any) *StatusError {
	return NewStatusError(http.StatusBadRequest, ReasonBadRequest, format, args...)
}

// NewForbidden reports a request the caller's role does not allow.
func NewForbidden(format string, args ...any) *StatusError {
	return NewStatusError(http.StatusForbidden, ReasonForbidden, format, args...)
}

// NewInternal wraps an unexpected server-side failure.
func NewInternal(err error) *StatusError {
	return NewStatusError(http.StatusInternalServerError, ReasonInternalError, "internal error: %v", err)
}

// ReasonOf returns the reason of an API error anywhere in err's chain, or "".
func ReasonOf(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status.Reason
	}
	return ""
}

// CodeOf returns the HTTP code of an API error, or 0.
func CodeOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status.Code
	}
	return 0
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool { return ReasonOf(err) == ReasonNotFound }

// IsAlreadyExists reports a create of an existing name.
func IsAlreadyExists(err error) bool { return ReasonOf(err) == ReasonAlreadyExists }

// IsConflict reports a lost compare-and-swap.
func IsConflict(err error) bool { return ReasonOf(err) == ReasonConflict }

// IsInvalid reports a validation failure.
func IsInvalid(err error) bool { return ReasonOf(err) == ReasonInvalid }

// IsExpired reports a watch from a compacted resourceVersion: relist.
func IsExpired(err error) bool { return ReasonOf(err) == ReasonGone }

// IsForbidden reports a 403.
func IsForbidden(err error) bool { return ReasonOf(err) == ReasonForbidden }

// IsUnauthorized reports a 401.
func IsUnauthorized(err error) bool { return ReasonOf(err) == ReasonUnauthorized }

// IsTooManyRequests reports a 429.
func IsTooManyRequests(err error) bool { return ReasonOf(err) == ReasonTooManyRequests }
