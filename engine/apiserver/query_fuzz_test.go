package apiserver

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// FuzzListWatchQuery feeds any method, path and query through what the
// server runs before a list or a watch: path routing, the watch and
// long-running checks of flow control, and parseListOptions. It never
// panics; a refusal is a 400 naming the parameter; what it accepts is in
// range and, printed back as a query, parses to the same options.
func FuzzListWatchQuery(f *testing.F) {
	for _, seed := range [][3]string{
		{"GET", "/v1/namespaces/default/pods", "watch=1&resourceVersion=42&timeoutSeconds=30&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dnode-1"},
		{"GET", "/v1/pods", "labelSelector=app+in+(a,b),!canary&fieldSelector=status.phase!%3DRunning"},
		{"GET", "/v1/nodes", "watch=true&resourceVersion=0"},
		{"GET", "/v1/namespaces/default/pods", "watch=0"},
		{"POST", "/v1/namespaces/default/pods", "watch=1"},
		{"GET", "/v1/namespaces/default/pods/web", "watch=1"},
		{"GET", "/v1/namespaces/default/pods/web/log", "follow=1"},
		{"GET", "/v1/events", "watch=1&fieldSelector=involvedObject.name%3Dweb,reason%3DPulled"},
		{"GET", "/v1/namespaces/default/volumes", "watch=1&fieldSelector=status.nodeName%3Dnode-1"},
		{"GET", "/v1/pods", "watch=1&timeoutSeconds=99999999999999"},
		{"GET", "/v1/pods", "watch=1&resourceVersion=-1"},
		{"GET", "/v1/pods", "watch=1&timeoutSeconds=0"},
		{"GET", "/v1/pods", "watch=1&resourceVersion=1&resourceVersion=2"},
		{"GET", "/v1/pods", "labelSelector=%zz"},
		{"GET", "/v1/nopes", "watch=1"},
		{"GET", "/v1/namespaces//pods", ""},
		{"DELETE", "/v1/namespaces/default/pods/web", "gracePeriodSeconds=0&propagationPolicy=Foreground&resourceVersion=7&dryRun=1"},
		{"DELETE", "/v1/namespaces/default/pods/web", "gracePeriodSeconds=99999999999999&propagationPolicy=Sideways"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}}
		long := isLongRunning(r)
		info, err := parsePath(path)
		if err != nil {
			if long {
				t.Fatalf("%s %s?%s: long-running but not an API path", method, path, rawQuery)
			}
			return
		}
		watch := isWatch(r, info)
		if watch && (method != http.MethodGet || info.Name != "") {
			t.Fatalf("%s %s?%s counts as a watch", method, path, rawQuery)
		}
		if long && !watch && !(info.Subresource == "log" && info.Name != "") {
			t.Fatalf("%s %s?%s: long-running but neither a watch nor a log", method, path, rawQuery)
		}
		if method == http.MethodDelete {
			checkDeleteOptions(t, r.URL.Query())
		}
		opts, err := parseListOptions(info.Kind, r.URL.Query(), watch)
		if err != nil {
			assertNamesParameter(t, err)
			return
		}
		if opts.ResourceVersion < 0 || opts.Timeout < 0 || opts.Timeout.Seconds() > maxWatchTimeoutSeconds {
			t.Fatalf("?%s: out of range: %+v", rawQuery, opts)
		}
		again, err := parseListOptions(info.Kind, queryOf(opts), watch)
		if err != nil {
			t.Fatalf("?%s: printed back as %q, refused: %v", rawQuery, queryOf(opts).Encode(), err)
		}
		if !sameOptions(opts, again) {
			t.Fatalf("?%s: printed back as %q, parses differently:\n%+v\n%+v", rawQuery, queryOf(opts).Encode(), opts, again)
		}
	})
}

// checkDeleteOptions: a delete's parameters give a 400 naming the
// parameter, or options in range.
func checkDeleteOptions(t *testing.T, q url.Values) {
	t.Helper()
	opts, err := deleteOptions(q)
	if err != nil {
		assertNamesParameter(t, err)
		return
	}
	if opts.Precondition < 0 || opts.GracePeriodSeconds != nil && (*opts.GracePeriodSeconds < 0 || *opts.GracePeriodSeconds > maxGracePeriodSeconds) {
		t.Fatalf("?%s: out of range: %+v", q.Encode(), opts)
	}
}

// assertNamesParameter fails unless err is a 400 whose message starts
// with the query parameter it is about.
func assertNamesParameter(t *testing.T, err error) {
	t.Helper()
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status.Code != http.StatusBadRequest {
		t.Fatalf("want a 400, got %v", err)
	}
	for _, p := range []string{"labelSelector", "fieldSelector", "resourceVersion", "timeoutSeconds", "propagationPolicy", "gracePeriodSeconds"} {
		if strings.HasPrefix(se.Status.Message, p+" ") || strings.HasPrefix(se.Status.Message, p+":") {
			return
		}
	}
	t.Fatalf("the error names no parameter: %v", err)
}

// queryOf prints options as the query a client would send for them.
func queryOf(o listOptions) url.Values {
	q := url.Values{}
	if o.Selectors.Labels != nil && !o.Selectors.Labels.Empty() {
		q.Set("labelSelector", o.Selectors.Labels.String())
	}
	if len(o.Selectors.Fields) > 0 {
		q.Set("fieldSelector", o.Selectors.Fields.String())
	}
	if o.ResourceVersion != 0 {
		q.Set("resourceVersion", strconv.FormatInt(o.ResourceVersion, 10))
	}
	if o.Timeout != 0 {
		q.Set("timeoutSeconds", strconv.Itoa(int(o.Timeout.Seconds())))
	}
	return q
}

func sameOptions(a, b listOptions) bool {
	la, lb := "", ""
	if a.Selectors.Labels != nil {
		la = a.Selectors.Labels.String()
	}
	if b.Selectors.Labels != nil {
		lb = b.Selectors.Labels.String()
	}
	return la == lb && a.ResourceVersion == b.ResourceVersion && a.Timeout == b.Timeout &&
		(len(a.Selectors.Fields) == 0 && len(b.Selectors.Fields) == 0 || reflect.DeepEqual(a.Selectors.Fields, b.Selectors.Fields))
}

func TestParseListOptions(t *testing.T) {
	pods := api.MustKind("Pod")
	cases := []queryCase{
		{"nothing", "", true, ""},
		{"every parameter", "labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1&resourceVersion=5&timeoutSeconds=60", true, ""},
		{"a list ignores watch parameters", "resourceVersion=x&timeoutSeconds=-1", false, ""},
		{"bad label selector", "labelSelector=a+in+(", false, "labelSelector: "},
		{"unsupported field", "fieldSelector=spec.image%3Dx", false, "fieldSelector: "},
		{"negative revision", "resourceVersion=-1", true, `resourceVersion "-1"`},
		{"zero timeout", "timeoutSeconds=0", true, `timeoutSeconds "0"`},
		{"timeout of a day", "timeoutSeconds=86400", true, ""},
		{"timeout over a day", "timeoutSeconds=86401", true, `timeoutSeconds "86401"`},
		// time.Duration(secs)*time.Second overflowed to a negative timeout.
		{"timeout that overflows a duration", "timeoutSeconds=9223372037", true, `timeoutSeconds "9223372037"`},
	}
	runQueryCases(t, cases, func(q url.Values, watch bool) error {
		_, err := parseListOptions(pods, q, watch)
		return err
	})
}

func TestDeleteOptions(t *testing.T) {
	runQueryCases(t, []queryCase{
		{"nothing", "", false, ""},
		{"every parameter", "dryRun=1&propagationPolicy=Orphan&resourceVersion=3&gracePeriodSeconds=0", false, ""},
		{"unknown policy", "propagationPolicy=Sideways", false, `propagationPolicy "Sideways"`},
		{"negative revision", "resourceVersion=-2", false, `resourceVersion "-2"`},
		{"grace of a year", "gracePeriodSeconds=31536000", false, ""},
		// time.Duration(grace)*time.Second overflowed: the pod's deletion
		// deadline landed in the past.
		{"grace that overflows a duration", "gracePeriodSeconds=9300000000", false, `gracePeriodSeconds "9300000000"`},
	}, func(q url.Values, _ bool) error {
		_, err := deleteOptions(q)
		return err
	})
}

type queryCase struct {
	name    string
	query   string
	watch   bool
	wantErr string // prefix of the message; "" for none
}

func runQueryCases(t *testing.T, cases []queryCase, parse func(url.Values, bool) error) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			err = parse(q, tc.watch)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one starting %q", err, tc.wantErr)
			}
		})
	}
}
