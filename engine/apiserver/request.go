package apiserver

import (
	"net/http"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// requestInfo is what a path and method address.
type requestInfo struct {
	Kind        *api.KindInfo
	Namespace   string
	Name        string
	Subresource string
	// Fence is the leader fence of a write (leaderFence), nil for others.
	Fence *api.LeaderFence
}

// parsePath maps an object API path (below /v1/) to what it addresses.
func parsePath(path string) (requestInfo, error) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return requestInfo{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound, "no API at %q (the API lives under /v1/)", path)
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	var info requestInfo
	if parts[0] == "namespaces" && len(parts) >= 3 {
		if k, err := api.LookupKind(parts[2]); err == nil && k.Namespaced && k.Plural == parts[2] {
			info.Kind, info.Namespace = k, parts[1]
			parts = parts[2:]
			return fill(info, parts, path)
		}
	}
	k, err := api.LookupKind(parts[0])
	if err != nil || k.Plural != parts[0] {
		return requestInfo{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound, "no resource %q in the API", parts[0])
	}
	info.Kind = k
	if k.Namespaced && len(parts) > 1 {
		return requestInfo{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound,
			"%s are namespaced: use /v1/namespaces/{namespace}/%s/{name}", k.Plural, k.Plural)
	}
	return fill(info, parts, path)
}

func fill(info requestInfo, parts []string, path string) (requestInfo, error) {
	switch len(parts) {
	case 1:
	case 2:
		info.Name = parts[1]
	case 3:
		info.Name, info.Subresource = parts[1], parts[2]
	default:
		return requestInfo{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound, "no API at %q", path)
	}
	if info.Name == "" && len(parts) > 1 {
		return requestInfo{}, api.NewStatusError(http.StatusNotFound, api.ReasonNotFound, "no API at %q", path)
	}
	return info, nil
}
