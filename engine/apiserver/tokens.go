package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/strictjson"
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
			out[i] = api.TokenInfo{ID: t.ID, Role: t.Role, Node: t.Node, Description: t.Description, Created: t.Created, Expires: t.Expires,
				Addresses: t.Addresses, Labels: t.Labels, Taints: t.Taints}
			if t.Role == auth.RoleJoin {
				out[i].UsesLeft = t.UsesLeft()
			}
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
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		s.writeError(w, r, api.NewBadRequest("reading token request: %v", err))
		return
	}
	opts, err := parseTokenRequest(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	token, rec, err := s.tokens.Create(r.Context(), opts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := api.TokenResponse{Token: token, ID: rec.ID, Role: rec.Role, Node: rec.Node, Expires: rec.Expires}
	if rec.Role == auth.RoleJoin {
		resp.Uses = max(rec.Uses, 1)
	}
	writeJSON(w, http.StatusCreated, resp)
}

// parseTokenRequest reads and checks a token request body, strictly (an
// unknown field, a repeated key or trailing data is a 400 naming it), and
// names each bad field in a 422. It is pure, so the fuzz tests run
// exactly what the handler runs.
func parseTokenRequest(body []byte) (auth.CreateOptions, error) {
	var req api.TokenRequest
	if err := strictjson.Unmarshal(body, &req); err != nil {
		return auth.CreateOptions{}, decodeError("TokenRequest", err)
	}
	if errs := validateTokenRequest(req); len(errs) > 0 {
		return auth.CreateOptions{}, api.NewInvalid("Token", "", errs)
	}
	return auth.CreateOptions{Role: req.Role, Node: req.Node,
		TTL: time.Duration(req.TTLSeconds) * time.Second, Description: req.Description,
		Uses: req.Uses, Addresses: canonicalIPs(req.Addresses), Labels: req.Labels, Taints: req.Taints}, nil
}

// maxTokenTTLSeconds bounds a token's lifetime (100 years; 0 is the way
// to ask for a token that never expires), well below where the duration
// overflows.
const maxTokenTTLSeconds = 36525 * 24 * 60 * 60

func validateTokenRequest(req api.TokenRequest) api.ErrorList {
	var errs api.ErrorList
	if !auth.ValidRole(req.Role) {
		errs = append(errs, api.NotSupported(api.NewPath("role"), req.Role, auth.RoleAdmin, auth.RoleViewer, auth.RoleNode, auth.RoleJoin))
	}
	if req.Role == auth.RoleNode || req.Role == auth.RoleJoin && req.Node != "" {
		if msg := api.IsDNS1123Subdomain(req.Node); msg != "" {
			errs = append(errs, api.Invalid(api.NewPath("node"), req.Node, msg))
		}
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > maxTokenTTLSeconds {
		errs = append(errs, api.Invalid(api.NewPath("ttlSeconds"), req.TTLSeconds,
			fmt.Sprintf("must be from 0 (never expires) to %d (100 years)", maxTokenTTLSeconds)))
	}
	if req.Role != auth.RoleJoin {
		for _, f := range []struct {
			field string
			set   bool
		}{{"uses", req.Uses != 0}, {"addresses", len(req.Addresses) > 0}, {"labels", len(req.Labels) > 0}, {"taints", len(req.Taints) > 0}} {
			if f.set {
				errs = append(errs, api.Forbidden(api.NewPath(f.field), "only join tokens admit nodes with uses, addresses, labels and taints"))
			}
		}
		return errs
	}
	if req.Uses < 0 {
		errs = append(errs, api.Invalid(api.NewPath("uses"), req.Uses, "must be greater than or equal to 0 (0 means 1)"))
	}
	for i, a := range req.Addresses {
		if ip := net.ParseIP(a); ip == nil || ip.IsUnspecified() {
			errs = append(errs, api.Invalid(api.NewPath("addresses").Index(i), a, "must be an IP address"))
		}
	}
	errs = append(errs, api.ValidateTaints(req.Taints, api.NewPath("taints"))...)
	return append(errs, api.ValidateLabels(req.Labels, api.NewPath("labels"))...)
}

// canonicalIPs spells addresses the way net.IP prints them.
func canonicalIPs(addrs []string) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out = append(out, ip.String())
	}
	return out
}
