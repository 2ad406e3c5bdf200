package apiserver

import (
	"net/url"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// maxWatchTimeoutSeconds bounds a watch's timeoutSeconds: one day, far
// beyond any client's need, and far below where the duration overflows.
const maxWatchTimeoutSeconds = 24 * 60 * 60

// listOptions are what a list's or a watch's query parameters ask for.
type listOptions struct {
	Selectors registry.Selectors
	// ResourceVersion is the revision a watch starts after (0: the
	// current objects first, as ADDED events).
	ResourceVersion int64
	// Timeout ends a watch; 0 means the server's randomized default.
	Timeout time.Duration
}

// parseListOptions reads the query parameters of a list (labelSelector,
// fieldSelector) or, when watch is set, of a watch (also resourceVersion
// and timeoutSeconds). A bad value is a 400 naming its parameter; it is
// pure, so the fuzz tests run exactly what the handlers run.
func parseListOptions(kind *api.KindInfo, q url.Values, watch bool) (listOptions, error) {
	var opts listOptions
	if ls := q.Get("labelSelector"); ls != "" {
		parsed, err := labels.Parse(ls)
		if err != nil {
			return opts, api.NewBadRequest("labelSelector: %v", err)
		}
		opts.Selectors.Labels = parsed
	}
	fs, err := registry.ParseFieldSelector(kind, q.Get("fieldSelector"))
	if err != nil {
		return opts, api.NewBadRequest("fieldSelector: %v", err)
	}
	opts.Selectors.Fields = fs
	if !watch {
		return opts, nil
	}
	if v := q.Get("resourceVersion"); v != "" {
		rv, err := strconv.ParseInt(v, 10, 64)
		if err != nil || rv < 0 {
			return opts, api.NewBadRequest("resourceVersion %q: must be a non-negative integer", v)
		}
		opts.ResourceVersion = rv
	}
	if v := q.Get("timeoutSeconds"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 1 || secs > maxWatchTimeoutSeconds {
			return opts, api.NewBadRequest("timeoutSeconds %q: must be a whole number of seconds from 1 to %d", v, maxWatchTimeoutSeconds)
		}
		opts.Timeout = time.Duration(secs) * time.Second
	}
	return opts, nil
}
