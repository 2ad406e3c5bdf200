package apiserver

import (
	"context"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
)

// Maintenance is what admins ask of the server beyond objects.
type Maintenance interface {
	// RotateEncryptionKey re-encrypts every secret with a new key.
	RotateEncryptionKey(ctx context.Context) (api.KeyRotation, error)
}

// admin answers 403 unless the caller is an admin.
func (s *Server) admin(w http.ResponseWriter, r *http.Request, what string) bool {
	if u := userFrom(r.Context()); u.Role != auth.RoleAdmin {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not %s: admin only", u.Name, u.Role, what))
		return false
	}
	if s.maintenance == nil {
		s.writeError(w, r, api.NewStatusError(http.StatusNotImplemented, "NotImplemented", "this server cannot %s", what))
		return false
	}
	return true
}

// rotateKey rotates the secret encryption key (POST /v1/encryption/rotate-key).
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r, "rotate the encryption key") {
		return
	}
	out, err := s.maintenance.RotateEncryptionKey(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
