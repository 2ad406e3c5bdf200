package apiserver

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
)

// join turns a join token into a node's credentials: an API token of role
// node bound to the node name, and a serving certificate for its agent.
func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if u.Role != auth.RoleJoin && u.Role != auth.RoleAdmin {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not join nodes: use a join token (`maestro token create --role join`)", u.Name, u.Role))
		return
	}
	if s.pki == nil {
		s.writeError(w, r, api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable, "this server cannot sign node certificates"))
		return
	}
	var req api.JoinRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(w, r, api.NewBadRequest("decoding join request: %v", err))
		return
	}
	if msg := api.IsDNS1123Subdomain(req.NodeName); msg != "" {
		s.writeError(w, r, api.NewInvalid("JoinRequest", req.NodeName, api.ErrorList{api.Invalid(api.NewPath("nodeName"), req.NodeName, msg)}))
		return
	}
	cert, err := s.pki.SignAgentServing([]byte(req.CSR), req.NodeName, time.Now())
	if err != nil {
		s.writeError(w, r, api.NewInvalid("JoinRequest", req.NodeName, api.ErrorList{api.Invalid(api.NewPath("csr"), "", err.Error())}))
		return
	}
	token, _, err := s.tokens.Create(r.Context(), auth.CreateOptions{Role: auth.RoleNode, Node: req.NodeName,
		Description: "node credential of " + req.NodeName + ", joined with token " + u.TokenID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("node joined", "node", req.NodeName, "join_token", u.TokenID)
	writeJSON(w, http.StatusCreated, api.JoinResponse{Token: token, CACertificate: string(s.pki.CACertPEM), ServingCertificate: string(cert)})
}
