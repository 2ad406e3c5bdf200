package ec2fake

import "net/http"

type fault struct{ err apiError }

// FailNext makes the next request of action fail with EC2 error code and
// message and HTTP status (before doing anything).
func (s *Server) FailNext(action, code, message string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], fault{apiError{status, code, message}})
}

// Throttle makes the next n requests of action fail with
// RequestLimitExceeded (HTTP 503), as EC2 throttles a caller.
func (s *Server) Throttle(action string, n int) {
	for range n {
		s.FailNext(action, "RequestLimitExceeded", "Request limit exceeded.", http.StatusServiceUnavailable)
	}
}

// ServerError makes the next n requests of action fail with InternalError
// (HTTP 500).
func (s *Server) ServerError(action string, n int) {
	for range n {
		s.FailNext(action, "InternalError", "An internal error has occurred.", http.StatusInternalServerError)
	}
}

// LoseResponse makes the next successful request of action take effect
// and then drop the connection without an answer, as a response lost on
// the way back: the client sees a connection error and retries.
func (s *Server) LoseResponse(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost[action]++
}

// MaxInstances sets the account's instance limit (pending and running
// instances; 0: none): a RunInstances beyond it fails with
// InstanceLimitExceeded.
func (s *Server) MaxInstances(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxInst = n
}

// NoCapacity makes RunInstances in zone fail with
// InsufficientInstanceCapacity (HTTP 500, as EC2) until Capacity(zone).
func (s *Server) NoCapacity(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noCapacity[zone] = true
}

// Capacity undoes NoCapacity(zone).
func (s *Server) Capacity(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.noCapacity, zone)
}

func (s *Server) takeFault(action string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.faults[action]
	if len(fs) == 0 {
		return fault{}, false
	}
	s.faults[action] = fs[1:]
	return fs[0], true
}

func (s *Server) takeLost(action string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost[action] == 0 {
		return false
	}
	s.lost[action]--
	return true
}
