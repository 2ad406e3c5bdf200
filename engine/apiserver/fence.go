package apiserver

import (
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
)

// leaderFence reads the leader fence of a write (nil when there is none).
// The fence is checked against the store in each write's transaction, so
// it can only make a write fail; still only admin credentials (the
// control plane's own components use one) may send it, and only election
// keys are accepted (api.ParseLeaderFence), so no caller can use it to
// learn anything about other keys.
func leaderFence(r *http.Request) (*api.LeaderFence, error) {
	v := r.Header.Get(api.LeaderFenceHeader)
	if v == "" || r.Method == http.MethodGet {
		return nil, nil
	}
	if u := userFrom(r.Context()); u.Role != auth.RoleAdmin {
		return nil, api.NewForbidden("%s (role %s) may not send %s: only the control plane's components do", u.Name, u.Role, api.LeaderFenceHeader)
	}
	f, err := api.ParseLeaderFence(v)
	if err != nil {
		return nil, api.NewBadRequest("%v", err)
	}
	return &f, nil
}
