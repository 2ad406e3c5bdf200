package apiserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/apiserver/strictjson"
)

// objects serves the object API.
func (s *Server) objects(w http.ResponseWriter, r *http.Request) {
	if u := userFrom(r.Context()); u.Role == auth.RoleNode {
		// Admission restricts what nodes write (noderestriction).
		r = r.WithContext(registry.WithRequester(r.Context(), registry.Requester{Node: u.Node}))
	}
	info, err := parsePath(r.URL.Path)
	if err == nil {
		info.Fence, err = leaderFence(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case isWatch(r, info):
		s.watch(w, r, info)
	case r.Method == http.MethodGet && info.Name == "":
		s.list(w, r, info)
	case r.Method == http.MethodGet && info.Subresource == "":
		s.get(w, r, info)
	case r.Method == http.MethodGet && info.Kind.Kind == "Pod" && (info.Subresource == "log" || info.Subresource == "stats"):
		s.podSubresource(w, r, info)
	case r.Method == http.MethodPost && info.Name == "":
		s.create(w, r, info)
	case r.Method == http.MethodPost && info.Kind.Kind == "Pod" && info.Subresource == "binding":
		s.bind(w, r, info)
	case r.Method == http.MethodPut && info.Name != "":
		s.update(w, r, info)
	case r.Method == http.MethodDelete && info.Name != "" && info.Subresource == "":
		s.delete(w, r, info)
	default:
		s.writeError(w, r, api.NewStatusError(http.StatusMethodNotAllowed, api.ReasonMethodNotAllowed,
			"%s is not supported on %s", r.Method, r.URL.Path))
	}
}

func (s *Server) authorize(ctx context.Context, r auth.Request) error {
	return s.authz.Authorize(ctx, userFrom(ctx), r)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbGet, Kind: info.Kind, Namespace: info.Namespace, Name: info.Name}); err != nil {
		s.writeError(w, r, err)
		return
	}
	obj, err := s.reg.Get(r.Context(), info.Kind, info.Namespace, info.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, info requestInfo) {
	opts, err := parseListOptions(info.Kind, r.URL.Query(), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sel := opts.Selectors
	node, _ := sel.Fields.Value(registry.NodeField(info.Kind))
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbList, Kind: info.Kind, Namespace: info.Namespace, NodeName: node}); err != nil {
		s.writeError(w, r, err)
		return
	}
	objs, rev, err := s.reg.List(r.Context(), info.Kind, info.Namespace, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.List[api.Object]{
		TypeMeta: api.TypeMeta{Kind: info.Kind.Kind + "List", APIVersion: api.APIVersion},
		Metadata: api.ListMeta{ResourceVersion: rev},
		Items:    objs,
	})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, info requestInfo) {
	obj, err := s.decodeBody(w, r, info)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	meta := obj.GetObjectMeta()
	if meta.Namespace == "" {
		meta.Namespace = info.Namespace
	}
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbCreate, Kind: info.Kind, Namespace: info.Namespace, Object: obj}); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.reg.Create(r.Context(), obj, registry.WriteOptions{DryRun: isDryRun(r), Fence: info.Fence,
		NamespaceMayBeNew: truthy(r.URL.Query().Get(api.QueryNamespaceMayBeNew))})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if isDryRun(r) {
		s.writePlacementPreview(r.Context(), w, out)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Subresource != "" && info.Subresource != "status" {
		s.writeError(w, r, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound, "%s has no %q subresource", info.Kind.Plural, info.Subresource))
		return
	}
	obj, err := s.decodeBody(w, r, info)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	meta := obj.GetObjectMeta()
	if meta.Namespace == "" {
		meta.Namespace = info.Namespace
	}
	if meta.Name == "" {
		meta.Name = info.Name
	}
	if meta.Name != info.Name {
		s.writeError(w, r, api.NewBadRequest("metadata.name %q does not match the name in the URL %q", meta.Name, info.Name))
		return
	}
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbUpdate, Kind: info.Kind, Namespace: info.Namespace,
		Name: info.Name, Subresource: info.Subresource, Object: obj}); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.reg.Update(r.Context(), obj, registry.WriteOptions{DryRun: isDryRun(r), Subresource: info.Subresource, Fence: info.Fence})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if isDryRun(r) && info.Subresource == "" {
		s.writePlacementPreview(r.Context(), w, out)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, info requestInfo) {
	opts, err := deleteOptions(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbDelete, Kind: info.Kind, Namespace: info.Namespace, Name: info.Name}); err != nil {
		s.writeError(w, r, err)
		return
	}
	opts.Fence = info.Fence
	obj, gone, err := s.reg.Delete(r.Context(), info.Kind, info.Namespace, info.Name, opts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if gone && info.Kind.Kind == "Node" {
		s.usage.Forget(info.Name)
	}
	code := http.StatusOK
	if !gone {
		// Finalizers hold the object; it is marked and goes when they finish.
		code = http.StatusAccepted
	}
	writeJSON(w, code, obj)
}

// decodeBody reads a request body of the addressed kind, strictly: an
// unknown field, a repeated key or a value of the wrong type is an error
// naming its path, so a typo never silently drops a setting.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, info requestInfo) (api.Object, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, api.NewStatusError(http.StatusRequestEntityTooLarge, api.ReasonRequestEntityTooLarge,
			"request body is larger than the limit of %d bytes", tooLarge.Limit)
	}
	if err != nil {
		return nil, api.NewBadRequest("reading request body: %v", err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" && !bytes.HasPrefix([]byte(ct), []byte("application/json;")) {
		return nil, api.NewStatusError(http.StatusUnsupportedMediaType, api.ReasonUnsupportedMediaType,
			"content type %q is not supported: send application/json", ct)
	}
	obj := info.Kind.New()
	if err := strictjson.Unmarshal(body, obj); err != nil {
		return nil, decodeError(info.Kind.Kind, err)
	}
	if tm := obj.GetTypeMeta(); tm.Kind != "" && tm.Kind != info.Kind.Kind {
		return nil, api.NewBadRequest("body is a %s but the URL addresses %s", tm.Kind, info.Kind.Plural)
	}
	if ns := obj.GetObjectMeta().Namespace; info.Kind.Namespaced && ns != "" && ns != info.Namespace {
		return nil, api.NewBadRequest("metadata.namespace %q does not match the namespace in the URL %q", ns, info.Namespace)
	}
	return obj, nil
}

// decodeError is a 400 whose causes name the fields strict decoding
// rejected.
func decodeError(kind string, err error) error {
	var errs api.ErrorList
	if !errors.As(err, &errs) {
		return api.NewBadRequest("decoding %s: %v", kind, err)
	}
	se := api.NewBadRequest("decoding %s: %v", kind, errs)
	se.Status.Details = &api.StatusDetails{Kind: kind, Causes: errs}
	return se
}

func isDryRun(r *http.Request) bool { return truthy(r.URL.Query().Get("dryRun")) }

// podLookup answers the node authorizer's questions from the registry.
type podLookup struct{ reg *registry.Registry }

var podKind = api.MustKind("Pod")

func (p podLookup) Pod(ctx context.Context, namespace, name string) (*api.Pod, error) {
	obj, err := p.reg.Get(ctx, podKind, namespace, name)
	if api.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading pod for authorization: %w", err)
	}
	return obj.(*api.Pod), nil
}

func (p podLookup) PodsOnNode(ctx context.Context, namespace, node string) ([]*api.Pod, error) {
	objs, _, err := p.reg.List(ctx, podKind, namespace, registry.Selectors{
		Fields: registry.FieldSelector{{Field: "spec.nodeName", Value: node}},
	})
	if err != nil {
		return nil, fmt.Errorf("listing pods for authorization: %w", err)
	}
	pods := make([]*api.Pod, len(objs))
	for i, o := range objs {
		pods[i] = o.(*api.Pod)
	}
	return pods, nil
}

// volumeLookup answers the node authorizer's questions about volumes.
type volumeLookup struct{ reg *registry.Registry }

var volumeKind = api.MustKind("Volume")

func (v volumeLookup) Volume(ctx context.Context, namespace, name string) (*api.PersistentVolume, error) {
	obj, err := v.reg.Get(ctx, volumeKind, namespace, name)
	if api.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading volume for authorization: %w", err)
	}
	return obj.(*api.PersistentVolume), nil
}

// bind assigns a pod to a node (the scheduler's write).
func (s *Server) bind(w http.ResponseWriter, r *http.Request, info requestInfo) {
	var b api.Binding
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err == nil {
		err = strictjson.Unmarshal(body, &b)
	}
	if err != nil {
		s.writeError(w, r, decodeError("Binding", err))
		return
	}
	if b.Name != "" && b.Name != info.Name {
		s.writeError(w, r, api.NewBadRequest("metadata.name %q does not match the pod in the URL %q", b.Name, info.Name))
		return
	}
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbCreate, Kind: info.Kind, Namespace: info.Namespace,
		Name: info.Name, Subresource: info.Subresource}); err != nil {
		s.writeError(w, r, err)
		return
	}
	rev, err := s.reg.Bind(r.Context(), info.Namespace, info.Name, b.Target.Name, b.ResourceVersion, registry.WriteOptions{DryRun: isDryRun(r), Fence: info.Fence})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b.TypeMeta = api.TypeMeta{Kind: "Binding", APIVersion: api.APIVersion}
	b.Name, b.Namespace, b.ResourceVersion = info.Name, info.Namespace, rev
	writeJSON(w, http.StatusCreated, b)
}
