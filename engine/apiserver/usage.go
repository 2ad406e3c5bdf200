package apiserver

import (
	"context"
	"io"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/apiserver/strictjson"
	metricsstore "github.com/maestro-dev/maestro/engine/metrics"
)

// The usage API: agents report, the server keeps the last report of each
// node in memory (engine/metrics) and serves PodMetrics and NodeMetrics
// from it. Nothing here writes to the store.

func (s *Server) routeUsage() {
	s.mux.Handle("POST /v1/nodemetrics/{name}", s.authenticated(http.HandlerFunc(s.reportUsage)))
	s.mux.Handle("GET /v1/nodemetrics", s.authenticated(http.HandlerFunc(s.listNodeMetrics)))
	s.mux.Handle("GET /v1/nodemetrics/{name}", s.authenticated(http.HandlerFunc(s.getNodeMetrics)))
	s.mux.Handle("GET /v1/podmetrics", s.authenticated(http.HandlerFunc(s.listPodMetrics)))
	s.mux.Handle("GET /v1/namespaces/{namespace}/podmetrics", s.authenticated(http.HandlerFunc(s.listPodMetrics)))
	s.mux.Handle("GET /v1/namespaces/{namespace}/podmetrics/{name}", s.authenticated(http.HandlerFunc(s.getPodMetrics)))
}

// UsageStore is the server's in-memory usage store (for tests and
// benchmarks that look inside).
func (s *Server) UsageStore() *metricsstore.Store { return s.usage }

// reportUsage takes a node's report (POST /v1/nodemetrics/{name}): a node
// reports for itself only; admins may report for any node (simulated
// nodes do).
func (s *Server) reportUsage(w http.ResponseWriter, r *http.Request) {
	node := r.PathValue("name")
	u := userFrom(r.Context())
	switch {
	case u.Role == auth.RoleAdmin:
	case u.Role == auth.RoleNode && u.Node == node:
	case u.Role == auth.RoleNode:
		s.writeError(w, r, api.NewForbidden("node %q may not report usage for node %q: a node reports its own usage only", u.Node, node))
		return
	default:
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not report usage: node agents report their own node's", u.Name, u.Role))
		return
	}
	// limited read the body already, within --max-request-bytes.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, api.NewBadRequest("reading request body: %v", err))
		return
	}
	var rep api.NodeMetricsReport
	if err := strictjson.Unmarshal(body, &rep); err != nil {
		s.writeError(w, r, decodeError(api.KindMetricsReport, err))
		return
	}
	if rep.Node == "" {
		rep.Node = node
	}
	if rep.Node != node {
		s.writeError(w, r, api.NewBadRequest("node %q in the body does not match the node %q in the URL", rep.Node, node))
		return
	}
	if errs := api.ValidateNodeMetricsReport(&rep); len(errs) > 0 {
		s.writeError(w, r, api.NewInvalid(api.KindMetricsReport, node, errs))
		return
	}
	s.usage.Report(&rep)
	w.WriteHeader(http.StatusNoContent)
}

// readsUsage answers 403 unless the caller may read usage (viewers and
// admins).
func (s *Server) readsUsage(w http.ResponseWriter, r *http.Request) bool {
	if u := userFrom(r.Context()); u.Role != auth.RoleAdmin && u.Role != auth.RoleViewer {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not read usage metrics: viewers and admins only", u.Name, u.Role))
		return false
	}
	return true
}

func (s *Server) listNodeMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.readsUsage(w, r) {
		return
	}
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		s.writeError(w, r, api.NewBadRequest("labelSelector: %v", err))
		return
	}
	items := s.usage.Nodes()
	if !sel.Empty() {
		if items, err = s.selectNodes(r.Context(), items, sel); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, api.NodeMetricsList{
		TypeMeta: api.TypeMeta{Kind: "NodeMetricsList", APIVersion: api.APIVersion},
		Items:    items,
	})
}

// selectNodes keeps the usage of the nodes whose labels match.
func (s *Server) selectNodes(ctx context.Context, items []api.NodeMetrics, sel labels.Selector) ([]api.NodeMetrics, error) {
	objs, err := s.listForUsage(ctx, nodeKind, "", sel)
	if err != nil {
		return nil, err
	}
	match := make(map[string]map[string]string, len(objs))
	for _, o := range objs {
		match[o.GetObjectMeta().Name] = o.GetObjectMeta().Labels
	}
	out := items[:0]
	for _, m := range items {
		if l, ok := match[m.Name]; ok {
			m.Labels = l
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Server) getNodeMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.readsUsage(w, r) {
		return
	}
	m, ok := s.usage.Node(r.PathValue("name"))
	if !ok {
		s.writeError(w, r, api.NewNotFound("nodemetrics", r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// listPodMetrics serves the usage of the pods that match the label
// selector. The pods are read from the store, so labels are current and
// a pod's usage is served only while it is bound to the node that
// reported it (a node cannot speak for another node's pods).
func (s *Server) listPodMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.readsUsage(w, r) {
		return
	}
	ns := r.PathValue("namespace")
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		s.writeError(w, r, api.NewBadRequest("labelSelector: %v", err))
		return
	}
	items, err := s.podMetrics(r.Context(), ns, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PodMetricsList{
		TypeMeta: api.TypeMeta{Kind: "PodMetricsList", APIVersion: api.APIVersion},
		Items:    items,
	})
}

func (s *Server) podMetrics(ctx context.Context, ns string, sel labels.Selector) ([]api.PodMetrics, error) {
	usage := s.usage.Pods(ns)
	if len(usage) == 0 {
		return []api.PodMetrics{}, nil
	}
	objs, err := s.listForUsage(ctx, podKind, ns, sel)
	if err != nil {
		return nil, err
	}
	pods := make(map[string]*api.Pod, len(objs))
	for _, o := range objs {
		p := o.(*api.Pod)
		pods[p.Key()] = p
	}
	out := make([]api.PodMetrics, 0, len(usage))
	for _, u := range usage {
		if m, ok := joinPod(u, pods[u.Metrics.Key()]); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Server) getPodMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.readsUsage(w, r) {
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	notFound := api.NewNotFound("podmetrics", name)
	u, ok := s.usage.Pod(ns, name)
	if !ok {
		s.writeError(w, r, notFound)
		return
	}
	obj, err := s.reg.Get(r.Context(), podKind, ns, name)
	if api.IsNotFound(err) {
		s.writeError(w, r, notFound)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, ok := joinPod(u, obj.(*api.Pod))
	if !ok {
		s.writeError(w, r, notFound)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// listForUsage reads pods or nodes from the watch cache when it runs (it
// does while agents and controllers watch), else from the store: a join
// that lags by the watch's delay is good enough for usage, and 30,000 pods
// are not decoded again on every autoscaler read. The objects may be
// shared with the cache: read only.
func (s *Server) listForUsage(ctx context.Context, kind *api.KindInfo, ns string, sel labels.Selector) ([]api.Object, error) {
	if objs, ok := s.reg.CachedList(kind, ns, registry.Selectors{Labels: sel}); ok {
		return objs, nil
	}
	objs, _, err := s.reg.List(ctx, kind, ns, registry.Selectors{Labels: sel})
	return objs, err
}

// joinPod gives reported usage the pod's labels, when the pod is the one
// reported (same UID) and bound to the reporting node.
func joinPod(u metricsstore.PodUsage, p *api.Pod) (api.PodMetrics, bool) {
	if p == nil || p.Spec.NodeName != u.Node || u.UID != "" && u.UID != p.UID {
		return api.PodMetrics{}, false
	}
	m := u.Metrics
	m.Labels = p.Labels
	m.UID = p.UID
	return m, true
}
