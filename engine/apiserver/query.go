package apiserver

import (
	"math"
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
	if opts.ResourceVersion, err = queryInt(q, "resourceVersion", 0, math.MaxInt64); err != nil {
		return opts, err
	}
	secs, err := queryInt(q, "timeoutSeconds", 1, maxWatchTimeoutSeconds)
	opts.Timeout = time.Duration(secs) * time.Second
	return opts, err
}

// maxGracePeriodSeconds bounds a delete's gracePeriodSeconds (a year),
// far below where the pod's deletion deadline overflows.
const maxGracePeriodSeconds = 365 * 24 * 60 * 60

// deleteOptions reads a delete's query parameters (dryRun,
// propagationPolicy, resourceVersion, gracePeriodSeconds); a bad value is
// a 400 naming its parameter.
func deleteOptions(q url.Values) (registry.DeleteOptions, error) {
	opts := registry.DeleteOptions{DryRun: truthy(q.Get("dryRun")), PropagationPolicy: q.Get("propagationPolicy")}
	switch opts.PropagationPolicy {
	case "", registry.PropagationBackground, registry.PropagationForeground, registry.PropagationOrphan:
	default:
		return opts, api.NewBadRequest("propagationPolicy %q: must be Background, Foreground or Orphan", opts.PropagationPolicy)
	}
	var err error
	if opts.Precondition, err = queryInt(q, "resourceVersion", 0, math.MaxInt64); err != nil {
		return opts, err
	}
	if q.Get("gracePeriodSeconds") != "" {
		g, err := queryInt(q, "gracePeriodSeconds", 0, maxGracePeriodSeconds)
		if err != nil {
			return opts, err
		}
		opts.GracePeriodSeconds = &g
	}
	return opts, nil
}

// queryInt reads an integer query parameter in [lo, hi]; 0 when absent.
func queryInt(q url.Values, name string, lo, hi int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		if hi == math.MaxInt64 {
			return 0, api.NewBadRequest("%s %q: must be an integer of at least %d", name, v, lo)
		}
		return 0, api.NewBadRequest("%s %q: must be an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}
