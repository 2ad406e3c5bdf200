package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// Verbs.
const (
	VerbGet    = "get"
	VerbList   = "list"
	VerbWatch  = "watch"
	VerbCreate = "create"
	VerbUpdate = "update"
	VerbDelete = "delete"
)

// Request is what an authorizer decides on.
type Request struct {
	Verb        string
	Kind        *api.KindInfo
	Namespace   string
	Name        string
	Subresource string
	// NodeName is the node a list or watch is pinned to by its field
	// selector (pods: spec.nodeName, volumes: status.nodeName; "" when not
	// pinned).
	NodeName string
	// Object is the object being created (its name may be generated).
	Object api.Object
}

// PodLookup gives the node authorizer what it needs to know about pods.
type PodLookup interface {
	// Pod returns a stored pod (nil, nil when it does not exist).
	Pod(ctx context.Context, namespace, name string) (*api.Pod, error)
	// PodsOnNode returns the pods bound to a node in a namespace.
	PodsOnNode(ctx context.Context, namespace, node string) ([]*api.Pod, error)
}

// VolumeLookup gives the node authorizer the Volumes it asks about.
type VolumeLookup interface {
	// Volume returns a stored volume (nil, nil when it does not exist).
	Volume(ctx context.Context, namespace, name string) (*api.PersistentVolume, error)
}

// Authorizer decides whether a user may make a request.
type Authorizer struct {
	Pods    PodLookup
	Volumes VolumeLookup
}

// Authorize returns nil when allowed, or an *api.StatusError (403) saying why not.
func (a *Authorizer) Authorize(ctx context.Context, u User, r Request) error {
	switch u.Role {
	case RoleAdmin:
		return nil
	case RoleViewer:
		if !isRead(r.Verb) {
			return deny(u, r, "the viewer role is read-only")
		}
		if r.Kind.Kind == "Secret" {
			return deny(u, r, "the viewer role cannot read secrets")
		}
		return nil
	case RoleNode:
		return a.authorizeNode(ctx, u, r)
	}
	return deny(u, r, "role "+u.Role+" may not use the object API")
}

func (a *Authorizer) authorizeNode(ctx context.Context, u User, r Request) error {
	switch r.Kind.Kind {
	case "Namespace":
		if isRead(r.Verb) {
			return nil
		}
	case "Service", "Endpoints":
		// The node's service proxy and DNS serve every namespace.
		if isRead(r.Verb) {
			return nil
		}
		return deny(u, r, "the node role may read services and endpoints in every namespace (for its proxy and DNS) but not write them")
	case "Node":
		if isRead(r.Verb) {
			return nil
		}
		name := r.Name
		if r.Verb == VerbCreate && r.Object != nil {
			name = r.Object.GetObjectMeta().Name
		}
		if name == u.Node {
			return nil
		}
		return deny(u, r, "a node may only write its own Node object")
	case "Event":
		if r.Verb == VerbCreate || r.Verb == VerbUpdate || isRead(r.Verb) {
			return nil
		}
	case "Pod":
		return a.authorizeNodePod(ctx, u, r)
	case "ConfigMap", "Secret":
		return a.authorizeNodeConfig(ctx, u, r)
	case "Volume":
		return a.authorizeNodeVolume(ctx, u, r)
	}
	return deny(u, r, "not allowed for the node role")
}

func (a *Authorizer) authorizeNodePod(ctx context.Context, u User, r Request) error {
	switch r.Verb {
	case VerbCreate:
		return deny(u, r, "pods are created through the API by controllers or people, not by nodes")
	case VerbList, VerbWatch:
		if r.NodeName == u.Node {
			return nil
		}
		return deny(u, r, "a node may only list or watch pods with fieldSelector spec.nodeName="+u.Node)
	case VerbGet, VerbUpdate, VerbDelete:
		pod, err := a.Pods.Pod(ctx, r.Namespace, r.Name)
		if err != nil {
			return err
		}
		if pod == nil && r.Verb == VerbGet {
			// Let the handler answer 404 rather than leaking nothing useful.
			return deny(u, r, "the pod is not bound to this node")
		}
		if pod != nil && pod.Spec.NodeName == u.Node {
			if r.Verb == VerbUpdate && r.Subresource != "status" {
				return deny(u, r, "a node may only update the status of its pods")
			}
			return nil
		}
	}
	return deny(u, r, "the pod is not bound to this node")
}

// authorizeNodeConfig lets a node read a config map or secret only while a
// pod bound to it references it.
func (a *Authorizer) authorizeNodeConfig(ctx context.Context, u User, r Request) error {
	if r.Verb != VerbGet {
		return deny(u, r, "a node may only get the "+r.Kind.Plural+" its pods use, by name")
	}
	pods, err := a.Pods.PodsOnNode(ctx, r.Namespace, u.Node)
	if err != nil {
		return err
	}
	for _, p := range pods {
		if PodReferences(&p.Spec, r.Kind.Kind, r.Name) {
			return nil
		}
	}
	return deny(u, r, "no pod bound to this node uses it")
}

// authorizeNodeVolume lets a node read the Volumes that live on it or that
// its pods use (to check where their data is), list and watch those on it,
// and update those on it (to remove the data finalizer once it removed the
// data, which is on that node anyway).
func (a *Authorizer) authorizeNodeVolume(ctx context.Context, u User, r Request) error {
	switch r.Verb {
	case VerbList, VerbWatch:
		if r.NodeName == u.Node {
			return nil
		}
		return deny(u, r, "a node may only list or watch volumes with fieldSelector status.nodeName="+u.Node)
	case VerbGet, VerbUpdate:
		if r.Subresource != "" {
			break
		}
		if a.Volumes != nil {
			v, err := a.Volumes.Volume(ctx, r.Namespace, r.Name)
			if err != nil {
				return err
			}
			if v != nil && v.Status.NodeName == u.Node {
				return nil
			}
		}
		if r.Verb == VerbGet {
			return a.authorizeNodeConfig(ctx, u, r)
		}
		return deny(u, r, "the volume does not live on this node")
	}
	return deny(u, r, "a node may read the volumes its pods use and update only those on it")
}

// PodReferences reports whether a pod spec uses the named config map,
// secret or persistent volume (kind "ConfigMap", "Secret" or "Volume") in
// env, envFrom, volumes or imagePullSecrets.
func PodReferences(spec *api.PodSpec, kind, name string) bool {
	if kind == "Secret" && slices.ContainsFunc(spec.ImagePullSecrets, func(r api.LocalObjectReference) bool { return r.Name == name }) {
		return true
	}
	for _, v := range spec.Volumes {
		if kind == "ConfigMap" && v.ConfigMap != nil && v.ConfigMap.Name == name ||
			kind == "Secret" && v.Secret != nil && v.Secret.SecretName == name ||
			kind == "Volume" && v.Persistent != nil && v.Persistent.Name == name {
			return true
		}
	}
	for _, cs := range [][]api.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			for _, e := range c.Env {
				if f := e.ValueFrom; f != nil {
					if kind == "ConfigMap" && f.ConfigMapKeyRef != nil && f.ConfigMapKeyRef.Name == name ||
						kind == "Secret" && f.SecretKeyRef != nil && f.SecretKeyRef.Name == name {
						return true
					}
				}
			}
			for _, e := range c.EnvFrom {
				if kind == "ConfigMap" && e.ConfigMapRef != nil && e.ConfigMapRef.Name == name ||
					kind == "Secret" && e.SecretRef != nil && e.SecretRef.Name == name {
					return true
				}
			}
		}
	}
	return false
}

func isRead(verb string) bool { return verb == VerbGet || verb == VerbList || verb == VerbWatch }

func deny(u User, r Request, why string) error {
	what := r.Kind.Plural
	if r.Name != "" {
		what += " " + api.Key(r.Namespace, r.Name)
	} else if r.Namespace != "" {
		what += " in namespace " + r.Namespace
	}
	if r.Subresource != "" {
		what += "/" + r.Subresource
	}
	return api.NewForbidden("%s (role %s) may not %s %s: %s", userLabel(u), u.Role, r.Verb, what, why)
}

func userLabel(u User) string {
	if u.Role == RoleNode {
		return fmt.Sprintf("node %q", u.Node)
	}
	return u.Name
}
