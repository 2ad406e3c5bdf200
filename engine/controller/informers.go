package controller

import (
	"context"
	"log/slog"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Index names shared by every informer of the factory.
const (
	// IndexNamespace files objects by namespace.
	IndexNamespace = "namespace"
	// IndexNodeName files pods by spec.nodeName ("" for unbound pods).
	IndexNodeName = "nodeName"
	// IndexOwnerUID files objects by the UIDs of their owners.
	IndexOwnerUID = "ownerUID"
)

// Informers hands out one shared informer per kind, so every controller
// reads the same cache and the API serves one watch per kind.
type Informers struct {
	client *client.Client
	log    *slog.Logger

	mu        sync.Mutex
	informers map[string]runnable
	started   map[string]bool
	ctx       context.Context
}

type runnable interface {
	Run(ctx context.Context)
	WaitForSync(ctx context.Context) bool
}

// NewInformers builds an empty factory; informers are created on first use.
func NewInformers(c *client.Client, log *slog.Logger) *Informers {
	if log == nil {
		log = slog.Default()
	}
	return &Informers{client: c, log: log, informers: map[string]runnable{}, started: map[string]bool{}}
}

// Client is the API client the informers use.
func (f *Informers) Client() *client.Client { return f.client }

// InformerFor returns the shared informer of T's kind (all namespaces),
// creating it with the standard indexes. An informer requested after Start
// starts at once.
func InformerFor[T api.Object](f *Informers) *client.Informer[T] {
	res := client.For[T](f.client, "")
	kind := res.Kind().Kind
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[kind]; ok {
		return inf.(*client.Informer[T])
	}
	inf := client.NewInformer(res, client.ListOptions{}, client.WithLogger(f.log))
	inf.AddIndex(IndexNamespace, func(o T) []string { return []string{o.GetObjectMeta().Namespace} })
	inf.AddIndex(IndexOwnerUID, func(o T) []string {
		refs := o.GetObjectMeta().OwnerReferences
		uids := make([]string, len(refs))
		for i, r := range refs {
			uids[i] = r.UID
		}
		return uids
	})
	if kind == "Pod" {
		inf.AddIndex(IndexNodeName, func(o T) []string { return []string{any(o).(*api.Pod).Spec.NodeName} })
	}
	f.informers[kind] = inf
	if f.ctx != nil {
		f.started[kind] = true
		go inf.Run(f.ctx)
	}
	return inf
}

// Pods and friends are the informers most controllers use.
func (f *Informers) Pods() *client.Informer[*api.Pod]   { return InformerFor[*api.Pod](f) }
func (f *Informers) Nodes() *client.Informer[*api.Node] { return InformerFor[*api.Node](f) }
func (f *Informers) ReplicaSets() *client.Informer[*api.ReplicaSet] {
	return InformerFor[*api.ReplicaSet](f)
}
func (f *Informers) Deployments() *client.Informer[*api.Deployment] {
	return InformerFor[*api.Deployment](f)
}
func (f *Informers) Services() *client.Informer[*api.Service] { return InformerFor[*api.Service](f) }
func (f *Informers) Endpoints() *client.Informer[*api.Endpoints] {
	return InformerFor[*api.Endpoints](f)
}
func (f *Informers) Namespaces() *client.Informer[*api.Namespace] {
	return InformerFor[*api.Namespace](f)
}
func (f *Informers) Volumes() *client.Informer[*api.PersistentVolume] {
	return InformerFor[*api.PersistentVolume](f)
}

// Start runs every informer created so far (and later ones as they are
// created) until ctx ends.
func (f *Informers) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for kind, inf := range f.informers {
		if !f.started[kind] {
			f.started[kind] = true
			go inf.Run(ctx)
		}
	}
}

// WaitForSync blocks until every informer has loaded its first list.
func (f *Informers) WaitForSync(ctx context.Context) bool {
	f.mu.Lock()
	infs := make([]runnable, 0, len(f.informers))
	for _, inf := range f.informers {
		infs = append(infs, inf)
	}
	f.mu.Unlock()
	for _, inf := range infs {
		if !inf.WaitForSync(ctx) {
			return false
		}
	}
	return true
}
