package apiserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
)

// Maintenance is what admins ask of the server beyond objects.
type Maintenance interface {
	// Backup streams a backup file of the cluster's etcd to w.
	Backup(ctx context.Context, w io.Writer) error
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

// backup streams a backup (GET /v1/backup). The file carries its own
// checksum at the end: a stream cut short by a failure is detected by
// whoever saves it (store.SaveBackup).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r, "take backups") {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=maestro-%s.backup", time.Now().UTC().Format("20060102T150405Z")))
	start := time.Now()
	cw := &countingWriter{w: w}
	if err := s.maintenance.Backup(r.Context(), cw); err != nil {
		if cw.n == 0 {
			s.writeError(w, r, err)
			return
		}
		// Too late for a status: abort the stream so the client sees it fail.
		s.log.Error("backup stream failed", "err", err, "bytes", cw.n)
		panic(http.ErrAbortHandler)
	}
	s.log.Info("backup streamed", "bytes", cw.n, "took", time.Since(start))
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

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
