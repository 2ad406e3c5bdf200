package apiserver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/apiserver/strictjson"
	"github.com/maestro-dev/maestro/engine/store"
)

// Node credential lifetimes.
const (
	// DefaultNodeCredentialTTL is how long a node's token and serving
	// certificate last. Agents renew after two thirds of it, so a node may
	// be down for up to ten days after a renewal and still come back by
	// itself; a credential copied from a disk or a retired machine dies
	// within a month.
	DefaultNodeCredentialTTL = 30 * 24 * time.Hour
	// RenewGracePeriod is how long a renewed node's previous token keeps
	// working, for requests already under way.
	RenewGracePeriod = 10 * time.Minute
)

// join turns a join token into a node's credentials: an API token of role
// node bound to the node name, and a serving certificate for its agent
// naming only the addresses it is admitted with. The token is spent
// (compare-and-swap) only once the request is known to be acceptable.
func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), userFrom(r.Context())
	if u.Role != auth.RoleJoin && u.Role != auth.RoleAdmin {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not join nodes: use a join token (`maestro token create --role join`)", u.Name, u.Role))
		return
	}
	req, err := s.decodeJoinRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var tok auth.Token // an admin joining a node has no token bindings
	if u.Role == auth.RoleJoin {
		if tok, err = s.tokens.Get(ctx, u.TokenID); err != nil {
			s.writeError(w, r, authError(err))
			return
		}
		if tok.Node != "" && tok.Node != req.NodeName {
			s.writeError(w, r, api.NewForbidden("join token %s admits only node %q, not %q", tok.ID, tok.Node, req.NodeName))
			return
		}
	}
	adm := auth.NodeAdmission{Node: req.NodeName, Addresses: tok.Addresses, Labels: tok.Labels, Taints: tok.Taints, JoinToken: tok.ID}
	origin := "the join token's addresses"
	if len(adm.Addresses) == 0 {
		adm.Addresses, origin = []string{sourceAddress(r)}, "the address this join comes from, as the server sees it"
	}
	csr, err := s.admittedCSR(req, adm, origin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	prev, err := s.refuseLiveNode(ctx, req.NodeName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if u.Role == auth.RoleJoin {
		if _, err := s.tokens.UseJoin(ctx, u.TokenID); err != nil {
			s.writeError(w, r, authError(err))
			return
		}
	}
	adm.Admitted = time.Now().UTC().Truncate(time.Second)
	resp, err := s.issueNodeCredentials(ctx, &adm, prev, csr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Only after winning the admission record: a concurrent join of the
	// same name that lost must not revoke the winner's credential.
	if err := s.revokeNodeTokens(ctx, req.NodeName, adm.Credential); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("node joined", "node", req.NodeName, "join_token", u.TokenID, "addresses", adm.Addresses)
	writeJSON(w, http.StatusCreated, resp)
}

// renew gives a node new credentials for its current ones, before they
// expire; the old token keeps working for RenewGracePeriod. Only the
// node's current credential may renew, so a copied one cannot fork a
// second line of credentials.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), userFrom(r.Context())
	if u.Role != auth.RoleNode {
		s.writeError(w, r, api.NewForbidden("%s (role %s) may not renew node credentials: only a node renews its own", u.Name, u.Role))
		return
	}
	req, err := s.decodeJoinRequest(r, u.Node)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.NodeName != u.Node {
		s.writeError(w, r, api.NewForbidden("node %q may not renew the credentials of node %q", u.Node, req.NodeName))
		return
	}
	adm, rev, found, err := s.admissions.Get(ctx, u.Node)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	origin := "recorded when it joined"
	switch {
	case !found:
		// A node that joined before admissions were recorded: it is
		// admitted with the address it renews from.
		adm = auth.NodeAdmission{Node: u.Node, Addresses: []string{sourceAddress(r)}, Admitted: time.Now().UTC().Truncate(time.Second)}
		origin = "the address this renewal comes from, as the server sees it"
	case adm.Credential != u.TokenID:
		s.writeError(w, r, api.NewForbidden("token %s of node %q was replaced by a newer credential: use that one", u.TokenID, u.Node))
		return
	}
	csr, err := s.admittedCSR(req, adm, origin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	adm.Renewed = time.Now().UTC().Truncate(time.Second)
	resp, err := s.issueNodeCredentials(ctx, &adm, rev, csr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.tokens.ExpireBy(ctx, u.TokenID, time.Now().Add(RenewGracePeriod)); err != nil {
		s.log.Warn("node renewed but its previous token keeps its lifetime", "node", u.Node, "token", u.TokenID, "err", err)
	}
	s.log.Info("node credentials renewed", "node", u.Node, "previous_token", u.TokenID)
	writeJSON(w, http.StatusCreated, resp)
}

// decodeJoinRequest reads a join or renew request; node, when given, is
// the name an empty nodeName stands for.
func (s *Server) decodeJoinRequest(r *http.Request, node ...string) (api.JoinRequest, error) {
	if s.pki == nil {
		return api.JoinRequest{}, api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable, "this server cannot sign node certificates")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return api.JoinRequest{}, api.NewBadRequest("reading join request: %v", err)
	}
	return parseJoinRequest(body, node...)
}

// parseJoinRequest reads a join or renew request body, strictly, and
// checks the node name (node, when given, is the name an empty nodeName
// stands for). It is pure, so the fuzz tests run exactly what the
// handlers run.
func parseJoinRequest(body []byte, node ...string) (api.JoinRequest, error) {
	var req api.JoinRequest
	if err := strictjson.Unmarshal(body, &req); err != nil {
		return req, decodeError("JoinRequest", err)
	}
	if req.NodeName == "" && len(node) > 0 {
		req.NodeName = node[0]
	}
	if msg := api.IsDNS1123Subdomain(req.NodeName); msg != "" {
		return req, api.NewInvalid("JoinRequest", req.NodeName, api.ErrorList{api.Invalid(api.NewPath("nodeName"), req.NodeName, msg)})
	}
	return req, nil
}

// admittedCSR parses the request's CSR and refuses any IP address the
// node is not admitted with; origin says where those addresses came from.
func (s *Server) admittedCSR(req api.JoinRequest, adm auth.NodeAdmission, origin string) (*x509.CertificateRequest, error) {
	csr, err := pki.ParseAgentCSR([]byte(req.CSR), req.NodeName)
	if err != nil {
		return nil, api.NewInvalid("JoinRequest", req.NodeName, api.ErrorList{api.Invalid(api.NewPath("csr"), "", err.Error())})
	}
	for _, ip := range csr.IPAddresses {
		if !slices.ContainsFunc(adm.Addresses, func(a string) bool { return ip.Equal(net.ParseIP(a)) }) {
			return nil, api.NewForbidden("csr: node %q may not have a certificate for %s: it is admitted with %s only (%s); "+
				"a join token created with `--address %s` admits that address", req.NodeName, ip, strings.Join(adm.Addresses, ", "), origin, ip)
		}
	}
	return csr, nil
}

// refuseLiveNode answers 409 when the name belongs to a live node: its
// Node is Ready, or it exists and the node holds a valid credential. It
// returns the revision of the name's admission record (0: none).
func (s *Server) refuseLiveNode(ctx context.Context, name string) (int64, error) {
	adm, rev, found, err := s.admissions.Get(ctx, name)
	if err != nil {
		return 0, err
	}
	obj, err := s.reg.Get(ctx, nodeKind, "", name)
	if api.IsNotFound(err) {
		return rev, nil
	}
	if err != nil {
		return 0, err
	}
	how := "delete the Node first (`maestro delete node " + name + "`) if its machine is gone"
	if api.IsNodeReady(obj.(*api.Node)) {
		return 0, api.NewStatusError(http.StatusConflict, api.ReasonAlreadyExists,
			"node %q is live (Ready): a joining machine cannot take its name; %s", name, how)
	}
	if found {
		valid, err := s.tokens.Valid(ctx, adm.Credential)
		if err != nil {
			return 0, err
		}
		if valid {
			return 0, api.NewStatusError(http.StatusConflict, api.ReasonAlreadyExists,
				"node %q holds a valid credential (token %s): a joining machine cannot take its name; %s", name, adm.Credential, how)
		}
	}
	return rev, nil
}

// revokeNodeTokens deletes every node token of a name a new machine took
// but its own (keep): the previous machine's credentials must not outlive it.
func (s *Server) revokeNodeTokens(ctx context.Context, node, keep string) error {
	recs, err := s.tokens.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range recs {
		if t.Role == auth.RoleNode && t.Node == node && t.ID != keep {
			if err := s.tokens.Delete(ctx, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			s.log.Info("revoked the credential of the node's previous machine", "node", node, "token", t.ID)
		}
	}
	return nil
}

// issueNodeCredentials records the admission with a new credential id
// (compare-and-swap against revision prev, so concurrent joins of one name
// cannot both win), then creates the node's token and signs its serving
// certificate, both valid for the node credential lifetime.
func (s *Server) issueNodeCredentials(ctx context.Context, adm *auth.NodeAdmission, prev int64, csr *x509.CertificateRequest) (api.JoinResponse, error) {
	token := auth.GenerateToken()
	id, secret, _ := strings.Cut(token, ".")
	adm.Credential = id
	if err := s.admissions.Put(ctx, *adm, prev); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) {
			return api.JoinResponse{}, api.NewStatusError(http.StatusConflict, api.ReasonConflict,
				"node %q is joining or renewing through another request at the same time; retry", adm.Node)
		}
		return api.JoinResponse{}, err
	}
	now := time.Now()
	_, rec, err := s.tokens.Create(ctx, auth.CreateOptions{Role: auth.RoleNode, Node: adm.Node, TTL: s.nodeTTL, ID: id, Secret: secret,
		Description: fmt.Sprintf("node credential of %s (admitted %s)", adm.Node, adm.Admitted.Format(time.RFC3339))})
	if err != nil {
		return api.JoinResponse{}, err
	}
	cert, err := s.pki.SignAgentServing(csr, adm.Node, s.nodeTTL, now)
	if err != nil {
		return api.JoinResponse{}, err
	}
	return api.JoinResponse{Token: token, CACertificate: string(s.pki.CACertPEM), ServingCertificate: string(cert), Expires: rec.Expires}, nil
}

// sourceAddress is the IP address a request comes from, as this server
// sees it.
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		if v4 := ip.To4(); v4 != nil {
			return v4.String()
		}
		return ip.String()
	}
	return host
}

// authError turns an invalid token into 401.
func authError(err error) error {
	if errors.Is(err, auth.ErrInvalidToken) {
		return api.NewStatusError(http.StatusUnauthorized, api.ReasonUnauthorized, "%v", err)
	}
	return err
}
