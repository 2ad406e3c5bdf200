package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// EC2 error codes by the sentinel error they are. Codes not listed are
// classified by their HTTP status (5xx: ErrTransient) or prefix
// ("Invalid...": ErrInvalid).
var errorKinds = map[string]error{
	"InsufficientInstanceCapacity":         cloud.ErrCapacity,
	"InsufficientCapacity":                 cloud.ErrCapacity,
	"InsufficientHostCapacity":             cloud.ErrCapacity,
	"InsufficientReservedInstanceCapacity": cloud.ErrCapacity,
	"InsufficientFreeAddressesInSubnet":    cloud.ErrCapacity,
	"SpotMaxPriceTooLow":                   cloud.ErrCapacity,

	"InstanceLimitExceeded":        cloud.ErrQuota,
	"VcpuLimitExceeded":            cloud.ErrQuota,
	"MaxSpotInstanceCountExceeded": cloud.ErrQuota,

	"UnauthorizedOperation":       cloud.ErrPermission,
	"AuthFailure":                 cloud.ErrPermission,
	"Blocked":                     cloud.ErrPermission,
	"OptInRequired":               cloud.ErrPermission,
	"PendingVerification":         cloud.ErrPermission,
	"SignatureDoesNotMatch":       cloud.ErrPermission,
	"InvalidClientTokenId":        cloud.ErrPermission,
	"UnrecognizedClientException": cloud.ErrPermission,
	"ExpiredToken":                cloud.ErrPermission,
	"RequestExpired":              cloud.ErrPermission,

	"InvalidInstanceID.NotFound":  cloud.ErrNotFound,
	"InvalidInstanceID.Malformed": cloud.ErrNotFound,

	"MissingParameter":            cloud.ErrInvalid,
	"Unsupported":                 cloud.ErrInvalid,
	"UnsupportedOperation":        cloud.ErrInvalid,
	"IdempotentParameterMismatch": cloud.ErrInvalid,

	"RequestLimitExceeded": cloud.ErrTransient,
	"Throttling":           cloud.ErrTransient,
	"InternalError":        cloud.ErrTransient,
	"InternalFailure":      cloud.ErrTransient,
	"ServiceUnavailable":   cloud.ErrTransient,
	"Unavailable":          cloud.ErrTransient,
}

// apiCode returns the EC2 error code and message of err, if it is an
// answer of EC2.
func apiCode(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// classify returns the sentinel error err is (nil: unclassified) and, for
// an EC2 answer, "<code>: <EC2's message>".
func classify(err error) (kind error, message string) {
	code, msg := apiCode(err)
	if code == "" {
		var send *smithyhttp.RequestSendError
		switch {
		case isCredentials(err):
			return cloud.ErrPermission, ""
		case errors.As(err, &send):
			return cloud.ErrTransient, ""
		}
		return nil, ""
	}
	message = code + ": " + msg
	if k, ok := errorKinds[code]; ok {
		return k, message
	}
	var re *awshttp.ResponseError
	switch {
	case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		return cloud.ErrTransient, message
	case strings.HasPrefix(code, "Invalid"):
		return cloud.ErrInvalid, message
	}
	return nil, message
}

// isCredentials reports an error of the SDK's credential resolution (no
// credentials in the default chain, or a provider of it failing): the
// signing step wraps those as "get identity: ...".
func isCredentials(err error) bool {
	s := err.Error()
	return strings.Contains(s, "get identity: ") || strings.Contains(s, "failed to retrieve credentials")
}

// mapError turns an SDK error of op on what into a *cloud.Error carrying
// EC2's own code and message. Context errors stay themselves (wrapped).
func mapError(err error, op, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("aws: %s %s: %w", op, what, err)
	}
	kind, message := classify(err)
	switch {
	case kind == nil:
		return fmt.Errorf("aws: %s %s: %w", op, what, err)
	case message != "":
		return cloud.Errorf(kind, provider, op, "%s: %s", what, message)
	case kind == cloud.ErrPermission:
		return cloud.Wrap(kind, provider, op, err, what+": no usable AWS credentials")
	}
	return cloud.Wrap(kind, provider, op, err, what)
}
