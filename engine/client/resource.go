package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// ListOptions filter lists and watches.
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// ResourceVersion starts a watch after this revision (0: current state
	// first, as ADDED events).
	ResourceVersion int64
	// TimeoutSeconds ends a single watch stream (the resuming watch
	// reconnects transparently).
	TimeoutSeconds int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	return q
}

// WriteOptions modify creates and updates.
type WriteOptions struct {
	DryRun bool
	// NamespaceMayBeNew, on a dry-run create, has the server take a
	// namespace that does not exist yet for a new, empty one (a plan
	// creates it too), so validation and the placement preview still
	// answer; the real create still needs the namespace.
	NamespaceMayBeNew bool
	// Placement, when set on a dry run of a pod, replica set or deployment,
	// receives the server's preview of where its pods would go.
	Placement *api.PlacementPreview
	// Warnings, when set, receives the server's warnings about the write.
	Warnings *[]string
}

// DeleteOptions modify deletes.
type DeleteOptions struct {
	DryRun             bool
	ResourceVersion    int64 // precondition
	GracePeriodSeconds *int64
	PropagationPolicy  string // Background (default), Foreground, Orphan
}

// Resource addresses one kind, in one namespace ("" = all namespaces for
// lists and watches; the object's own namespace for writes).
type Resource[T api.Object] struct {
	c         *Client
	kind      *api.KindInfo
	namespace string
	newObj    func() T
}

// For returns the typed resource of T's kind, e.g. For[*api.Pod](c, "default").
func For[T api.Object](c *Client, namespace string) Resource[T] {
	var zero T
	typ := reflect.TypeOf(zero).Elem()
	newObj := func() T { return reflect.New(typ).Interface().(T) }
	return Resource[T]{c: c, kind: api.KindOf(newObj()), namespace: namespace, newObj: newObj}
}

// Dynamic returns an untyped resource for a kind known only at run time (the CLI).
func Dynamic(c *Client, kind *api.KindInfo, namespace string) Resource[api.Object] {
	return Resource[api.Object]{c: c, kind: kind, namespace: namespace, newObj: kind.New}
}

// Kind is the resource's kind.
func (r Resource[T]) Kind() *api.KindInfo { return r.kind }

// Namespace returns the same resource in another namespace.
func (r Resource[T]) Namespace(ns string) Resource[T] {
	r.namespace = ns
	return r
}

func (r Resource[T]) collectionPath(ns string) string {
	if r.kind.Namespaced && ns != "" {
		return "/v1/namespaces/" + url.PathEscape(ns) + "/" + r.kind.Plural
	}
	return "/v1/" + r.kind.Plural
}

func (r Resource[T]) objectPath(ns, name string) string {
	return r.collectionPath(ns) + "/" + url.PathEscape(name)
}

func (r Resource[T]) nsOf(obj T) string {
	if ns := obj.GetObjectMeta().Namespace; ns != "" {
		return ns
	}
	return r.namespace
}

// Get reads one object.
func (r Resource[T]) Get(ctx context.Context, name string) (T, error) {
	obj := r.newObj()
	if r.kind.Namespaced && r.namespace == "" {
		var zero T
		return zero, fmt.Errorf("getting %s %q: a namespace is required", r.kind.Kind, name)
	}
	if err := r.c.Do(ctx, "GET", r.objectPath(r.namespace, name), nil, nil, obj); err != nil {
		var zero T
		return zero, err
	}
	return obj, nil
}

// List reads the matching objects and the revision they were read at.
func (r Resource[T]) List(ctx context.Context, opts ListOptions) ([]T, int64, error) {
	var raw struct {
		Metadata api.ListMeta      `json:"metadata"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := r.c.Do(ctx, "GET", r.collectionPath(r.namespace), opts.query(), nil, &raw); err != nil {
		return nil, 0, err
	}
	out := make([]T, len(raw.Items))
	for i, item := range raw.Items {
		obj := r.newObj()
		if err := json.Unmarshal(item, obj); err != nil {
			return nil, 0, fmt.Errorf("decoding %s list item: %w", r.kind.Kind, err)
		}
		out[i] = obj
	}
	return out, raw.Metadata.ResourceVersion, nil
}

// Create stores a new object and returns it as stored.
func (r Resource[T]) Create(ctx context.Context, obj T, opts ...WriteOptions) (T, error) {
	return r.write(ctx, "POST", r.collectionPath(r.nsOf(obj)), obj, opts)
}

// Update replaces an object; a non-zero resourceVersion makes it a
// compare-and-swap (409 Conflict when stale). Status is not changed.
func (r Resource[T]) Update(ctx context.Context, obj T, opts ...WriteOptions) (T, error) {
	return r.write(ctx, "PUT", r.objectPath(r.nsOf(obj), obj.GetObjectMeta().Name), obj, opts)
}

// UpdateStatus replaces only the status of an object.
func (r Resource[T]) UpdateStatus(ctx context.Context, obj T, opts ...WriteOptions) (T, error) {
	return r.write(ctx, "PUT", r.objectPath(r.nsOf(obj), obj.GetObjectMeta().Name)+"/status", obj, opts)
}

func (r Resource[T]) write(ctx context.Context, method, path string, obj T, opts []WriteOptions) (T, error) {
	q := url.Values{}
	for _, o := range opts {
		if o.DryRun {
			q.Set("dryRun", "1")
		}
		if o.DryRun && o.NamespaceMayBeNew {
			q.Set(api.QueryNamespaceMayBeNew, "1")
		}
	}
	out := r.newObj()
	resp, err := r.c.send(ctx, method, path, q, obj)
	if err != nil {
		var zero T
		return zero, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		var zero T
		return zero, fmt.Errorf("decoding answer to %s %s: %w", method, path, err)
	}
	for _, o := range opts {
		if o.Placement != nil {
			if h := resp.Header.Get(api.HeaderPlacementPreview); h != "" {
				if err := json.Unmarshal([]byte(h), o.Placement); err != nil {
					return out, fmt.Errorf("decoding placement preview: %w", err)
				}
			}
		}
		if o.Warnings != nil {
			*o.Warnings = append(*o.Warnings, parseWarnings(resp.Header.Values("Warning"))...)
		}
	}
	return out, nil
}

// parseWarnings reads RFC 7234 style `299 - "text"` warning headers.
func parseWarnings(values []string) []string {
	var out []string
	for _, v := range values {
		if _, text, ok := strings.Cut(v, " - "); ok {
			if s, err := strconv.Unquote(text); err == nil {
				out = append(out, s)
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

// Delete removes an object (or marks it, when finalizers hold it).
func (r Resource[T]) Delete(ctx context.Context, name string, opts ...DeleteOptions) error {
	q := url.Values{}
	for _, o := range opts {
		if o.DryRun {
			q.Set("dryRun", "1")
		}
		if o.ResourceVersion != 0 {
			q.Set("resourceVersion", strconv.FormatInt(o.ResourceVersion, 10))
		}
		if o.GracePeriodSeconds != nil {
			q.Set("gracePeriodSeconds", strconv.FormatInt(*o.GracePeriodSeconds, 10))
		}
		if o.PropagationPolicy != "" {
			q.Set("propagationPolicy", o.PropagationPolicy)
		}
	}
	return r.c.Do(ctx, "DELETE", r.objectPath(r.namespace, name), q, nil, nil)
}
