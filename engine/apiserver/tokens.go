package apiserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/store"
)

func (s *Server) tokensHandler(w http.ResponseWriter, r *http.Request) {
	if u := userFrom(r.Context()); u.Role != auth.RoleAdmin {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not manage tokens: admin only", u.Name, u.Role))
		return
	}
	id := r.PathValue("id")
	switch {
	case r.Method == http.MethodPost && id == "":
		s.createToken(w, r)
	case r.Method == http.MethodGet && id == "":
		recs, err := s.tokens.List(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := make([]api.TokenInfo, len(recs))
		for i, t := range recs {
			out[i] = api.TokenInfo{ID: t.ID, Role: t.Role, Node: t.Node, Description: t.Description, Created: t.Created, Expires: t.Expires}
		}
		writeJSON(w, http.StatusOK, api.TokenList{Items: out})
	case r.Method == http.MethodDelete && id != "":
		err := s.tokens.Delete(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			s.writeError(w, r, api.NewNotFound("Token", id))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	default:
		s.writeError(w, r, api.NewStatusError(http.StatusMethodNotAllowed, api.ReasonMethodNotAllowed, "%s is not supported on %s", r.Method, r.URL.Path))
	}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req api.TokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(w, r, api.NewBadRequest("decoding token request: %v", err))
		return
	}
	var errs api.ErrorList
	if !auth.ValidRole(req.Role) {
		errs = append(errs, api.NotSupported(api.NewPath("role"), req.Role, auth.RoleAdmin, auth.RoleViewer, auth.RoleNode, auth.RoleJoin))
	}
	if req.Role == auth.RoleNode {
		if msg := api.IsDNS1123Subdomain(req.Node); msg != "" {
			errs = append(errs, api.Invalid(api.NewPath("node"), req.Node, msg))
		}
	}
	if req.TTLSeconds < 0 {
		errs = append(errs, api.Invalid(api.NewPath("ttlSeconds"), req.TTLSeconds, "must be greater than or equal to 0"))
	}
	if len(errs) > 0 {
		s.writeError(w, r, api.NewInvalid("Token", "", errs))
		return
	}
	token, rec, err := s.tokens.Create(r.Context(), auth.CreateOptions{Role: req.Role, Node: req.Node,
		TTL: time.Duration(req.TTLSeconds) * time.Second, Description: req.Description})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.TokenResponse{Token: token, ID: rec.ID, Role: rec.Role, Node: rec.Node, Expires: rec.Expires})
}
