package gcefake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// faults are the failures set for the next calls.
type faults struct {
	throttle, serverError int
	next                  map[string][]*apiError // by op
	lose                  map[string]int         // by op
	operation             []*apiError            // the next inserts' operation errors
}

// apiError is an error answer in Compute Engine's JSON.
type apiError struct {
	status          int
	reason, message string
	state           string // google.rpc status, e.g. RESOURCE_EXHAUSTED
}

func (e *apiError) apply(w http.ResponseWriter) {
	writeErrorStatus(w, e.status, e.reason, e.state, e.message)
}

// FailNext makes the next call of op fail with status, reason and message
// (op: insert, get, list, aggregatedList, delete, operations.get,
// operations.wait, operations.list).
func (s *Server) FailNext(op string, status int, reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.next == nil {
		s.faults.next = map[string][]*apiError{}
	}
	s.faults.next[op] = append(s.faults.next[op], &apiError{status: status, reason: reason, message: message})
}

// Throttle makes the next n API calls fail with 429 rateLimitExceeded.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.throttle += n
}

// ServerError makes the next n API calls fail with 503 backendError.
func (s *Server) ServerError(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.serverError += n
}

// LoseResponse makes the next call of op happen but drops its connection
// before the answer: the client sees a failure for work that was done.
func (s *Server) LoseResponse(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.lose == nil {
		s.faults.lose = map[string]int{}
	}
	s.faults.lose[op]++
}

// FailOperation makes the next insert's operation end with error code
// (e.g. QUOTA_EXCEEDED) and message, and httpErrorStatusCode status, as
// Compute Engine reports failures it finds after accepting a request.
func (s *Server) FailOperation(code, message string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.operation = append(s.faults.operation, &apiError{status: status, reason: code, message: message,
		state: strings.ToUpper(http.StatusText(status))})
}

// takeOpFault is the error the operation of an insert into zone ends with,
// if any. The caller holds s.mu.
func (s *Server) takeOpFault(zone string) *apiError {
	if len(s.faults.operation) > 0 {
		f := s.faults.operation[0]
		s.faults.operation = s.faults.operation[1:]
		return f
	}
	if s.zoneFull[zone] {
		return &apiError{status: http.StatusServiceUnavailable, reason: "ZONE_RESOURCE_POOL_EXHAUSTED", state: "SERVICE UNAVAILABLE",
			message: fmt.Sprintf("The zone '%s' does not have enough resources available to fulfill the request.  "+
				"Try a different zone, or try again later.", "projects/"+s.o.Project+"/zones/"+zone)}
	}
	return nil
}

// NoCapacity makes inserts into zone fail as Compute Engine's do when a
// zone has no machines of the type left: the operation ends with
// ZONE_RESOURCE_POOL_EXHAUSTED. HasCapacity undoes it.
func (s *Server) NoCapacity(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zoneFull[zone] = true
}

// HasCapacity undoes NoCapacity(zone).
func (s *Server) HasCapacity(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.zoneFull, zone)
}

func (s *Server) takeFault(op string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.faults.throttle > 0:
		s.faults.throttle--
		return &apiError{status: http.StatusTooManyRequests, reason: "rateLimitExceeded", state: "RESOURCE_EXHAUSTED",
			message: "Rate Limit Exceeded"}
	case s.faults.serverError > 0:
		s.faults.serverError--
		return &apiError{status: http.StatusServiceUnavailable, reason: "backendError", state: "UNAVAILABLE",
			message: "Internal error. Please try again or contact Google Support. (Code: '5f1d1c0c2a1b0')"}
	case len(s.faults.next[op]) > 0:
		e := s.faults.next[op][0]
		s.faults.next[op] = s.faults.next[op][1:]
		return e
	}
	return nil
}

func (s *Server) takeLoss(op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.lose[op] > 0 {
		s.faults.lose[op]--
		return true
	}
	return false
}

// writeError writes Compute Engine's error JSON.
func writeError(w http.ResponseWriter, status int, reason, message string) {
	writeErrorStatus(w, status, reason, "", message)
}

func writeErrorStatus(w http.ResponseWriter, status int, reason, state, message string) {
	if state == "" {
		state = map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
			404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[status]
	}
	body := map[string]any{"error": map[string]any{
		"code": status, "message": message, "status": state,
		"errors": []map[string]string{{"message": message, "domain": "global", "reason": reason}},
	}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// handleToken is the OAuth 2.0 token endpoint of a service account: it
// takes the JWT bearer grant signed with the key of CredentialsJSON and
// issues an access token the API then accepts.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	oauthError := func(msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": msg})
	}
	s.mu.Lock()
	s.calls["token"]++
	s.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		oauthError(err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError("unsupported grant_type " + r.PostForm.Get("grant_type"))
		return
	}
	if err := s.verifyAssertion(r.PostForm.Get("assertion")); err != nil {
		oauthError("Invalid JWT Signature: " + err.Error())
		return
	}
	tok := fmt.Sprintf("ya29.gcefake-%d-%d", time.Now().UnixNano(), s.nextSeq())
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599})
}

// verifyAssertion checks a JWT's RS256 signature against the server's key
// and that it is not expired.
func (s *Server) verifyAssertion(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, h[:], sig); err != nil {
		return err
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	if claims.Exp < time.Now().Unix() {
		return fmt.Errorf("expired")
	}
	return nil
}

func (s *Server) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}
