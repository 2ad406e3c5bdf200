package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// noLibraryRetry turns the library's own retries off: Cloud.call retries
// every call, bounded by Options.RetryMaxAttempts (the library's retry
// Get and List on 503 until the context ends).
var noLibraryRetry = gax.WithRetry(nil)

// call runs f, again after a backoff while it fails with a throttling or
// server error or a dropped connection, at most RetryMaxAttempts times.
// Every call maestro makes may be repeated: inserts carry a requestId,
// deletes of a gone instance are 404, the rest read.
func (c *Cloud) call(ctx context.Context, what string, f func(context.Context) error) error {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil || !retryable(err) || attempt >= c.o.RetryMaxAttempts || ctx.Err() != nil {
			return err
		}
		d := min(wait, c.o.RetryMaxBackoff)
		d = d/2 + rand.N(d/2+1)
		c.log.Debug("retrying a Compute Engine call", "call", what, "attempt", attempt, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// retryable: throttling, server errors (but a stockout) and dropped
// connections.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if code, reason, msg, ok := apiError(err); ok {
		// Not a stockout: the same call a moment later finds none either;
		// the caller tries another zone.
		return kindOf("", code, reason, msg) == cloud.ErrTransient
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		return false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func transientCode(code int, reason string) bool {
	switch norm(reason) {
	case "RATELIMITEXCEEDED", "USERRATELIMITEXCEEDED", "BACKENDERROR", "INTERNALERROR", "RESOURCENOTREADY":
		return true
	}
	return code == http.StatusTooManyRequests || code >= 500
}

// apiError is the HTTP status, first reason and message of a Compute
// Engine error answer.
func apiError(err error) (code int, reason, message string, ok bool) {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return 0, "", "", false
	}
	if len(ge.Errors) > 0 {
		reason = ge.Errors[0].Reason
	}
	message = ge.Message
	if message == "" && len(ge.Errors) > 0 {
		message = ge.Errors[0].Message
	}
	return ge.Code, reason, message, true
}

// norm makes quotaExceeded and QUOTA_EXCEEDED one reason.
func norm(reason string) string {
	return strings.ToUpper(strings.ReplaceAll(reason, "_", ""))
}

// kindOf classifies a Compute Engine failure of op by its HTTP status, its
// reason (an error answer's reason, or an operation error's code) and, for
// a stockout answered at once under another reason, its message.
func kindOf(op string, code int, reason, message string) error {
	switch norm(reason) {
	case "ZONERESOURCEPOOLEXHAUSTED", "ZONERESOURCEPOOLEXHAUSTEDWITHDETAILS", "RESOURCEPOOLEXHAUSTED":
		return cloud.ErrCapacity
	case "QUOTAEXCEEDED", "LIMITEXCEEDED":
		return cloud.ErrQuota
	}
	if strings.Contains(message, "does not have enough resources available to fulfill the request") {
		return cloud.ErrCapacity
	}
	switch {
	case transientCode(code, reason):
		return cloud.ErrTransient
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return cloud.ErrPermission
	case code == http.StatusNotFound && op == "create":
		// A zone, machine type, image or network the request names.
		return cloud.ErrInvalid
	case code == http.StatusNotFound:
		return cloud.ErrNotFound
	}
	return cloud.ErrInvalid
}

// classify turns a failed call into a *cloud.Error of provider gcp whose
// message is what was done and Google's own words.
func classify(op, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("gcp %s: %s: %w", op, what, err)
	}
	if code, reason, msg, ok := apiError(err); ok {
		return &cloud.Error{Kind: kindOf(op, code, reason, msg), Provider: provider, Op: op,
			Message: what + ": " + msg, Err: &status{code: code, reason: reason, err: err}}
	}
	var ae *auth.Error
	if errors.As(err, &ae) || strings.Contains(err.Error(), "credentials") {
		return cloud.Wrap(cloud.ErrPermission, provider, op, err, what+": Google Cloud credentials")
	}
	if retryable(err) {
		return cloud.Wrap(cloud.ErrTransient, provider, op, err, what)
	}
	return fmt.Errorf("gcp %s: %s: %w", op, what, err)
}

// opError is the error of a DONE operation that failed, classified by its
// first error's code (ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED, ...).
func opError(op, what string, o *computepb.Operation) error {
	errs := o.GetError().GetErrors()
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.GetMessage())
	}
	code, msg := int(o.GetHttpErrorStatusCode()), strings.Join(msgs, "; ")
	return &cloud.Error{Kind: kindOf(op, code, errs[0].GetCode(), msg), Provider: provider, Op: op,
		Message: what + ": " + msg,
		Err:     &status{code: code, reason: errs[0].GetCode(), op: o.GetName()}}
}

// status is the short form of a Compute Engine error under a cloud.Error
// (whose message already has Google's words): HTTP status and reason.
type status struct {
	code   int
	reason string
	op     string // the failed operation, if any
	err    error
}

func (s *status) Error() string {
	t := fmt.Sprintf("HTTP %d %s", s.code, s.reason)
	if s.op != "" {
		t += " (operation " + s.op + ")"
	}
	return t
}

func (s *status) Unwrap() error { return s.err }
