package dns

import (
	"context"
	"log/slog"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// serveDNS answers one query: from the cluster state for names under the
// cluster domain, from the upstreams for the rest.
func (s *Server) serveDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		s.write(w, r, new(dns.Msg).SetRcode(r, dns.RcodeFormatError))
		return
	}
	if r.Opcode != dns.OpcodeQuery {
		s.write(w, r, new(dns.Msg).SetRcode(r, dns.RcodeNotImplemented))
		return
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		// RFC 6891 6.1.3: answer BADVERS, an extended rcode carried by the
		// OPT record write adds.
		m := new(dns.Msg).SetReply(r)
		m.Rcode = dns.RcodeBadVers
		s.write(w, r, m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if name != s.zone && !strings.HasSuffix(name, "."+s.zone) {
		s.forward(w, r)
		return
	}

	m := new(dns.Msg).SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = len(s.cfg.Upstreams) > 0
	switch {
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		m.Rcode, m.Authoritative = dns.RcodeRefused, false
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		// The zone is generated per query; there is nothing to transfer.
		m.Rcode, m.Authoritative = dns.RcodeRefused, false
	default:
		res := s.lookup(q.Name, name, q.Qtype)
		m.Rcode, m.Answer, m.Extra = res.rcode, res.answer, res.extra
		if len(m.Answer) == 0 {
			// NODATA and NXDOMAIN carry the SOA so resolvers know how long
			// to cache the negative answer (RFC 2308).
			m.Ns = []dns.RR{s.soa}
		}
	}
	s.debug("dns query", q, m.Rcode, len(m.Answer))
	s.write(w, r, m)
}

// forward relays r to the upstreams in order over the transport it came
// on and writes back the first real answer; SERVFAIL and REFUSED move on to
// the next upstream but are passed on when every upstream gives them.
func (s *Server) forward(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	if len(s.cfg.Upstreams) == 0 {
		s.debug("dns query refused: outside cluster domain, no upstreams", q, dns.RcodeRefused, 0)
		s.write(w, r, new(dns.Msg).SetRcode(r, dns.RcodeRefused))
		return
	}
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	client := s.clients[network]

	// A fresh ID per upstream exchange: the client's ID is chosen by a
	// stub on this host and may be predictable.
	req := r.Copy()
	var resp *dns.Msg
	for _, up := range s.cfg.Upstreams {
		req.Id = dns.Id()
		ctx, cancel := context.WithTimeout(s.ctx, upstreamTimeout)
		in, _, err := client.ExchangeContext(ctx, req, up)
		cancel()
		if err != nil {
			if s.log.Enabled(context.Background(), slog.LevelDebug) {
				s.log.Debug("dns upstream failed", "upstream", up, "name", q.Name, "net", network, "err", err)
			}
			continue
		}
		resp = in
		if in.Rcode != dns.RcodeServerFailure && in.Rcode != dns.RcodeRefused {
			break
		}
	}
	if resp == nil {
		resp = new(dns.Msg).SetRcode(r, dns.RcodeServerFailure)
	}
	resp.Id = r.Id
	s.debug("dns query forwarded", q, resp.Rcode, len(resp.Answer))
	s.write(w, r, resp)
}

// write sends m as the answer to r, echoing EDNS0 and truncating to what
// the client can take over UDP (512 bytes, or its EDNS0 payload size).
func (s *Server) write(w dns.ResponseWriter, r, m *dns.Msg) {
	size := dns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		if m.IsEdns0() == nil {
			m.SetEdns0(udpBufferSize, false)
		}
	}
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		size = dns.MaxMsgSize
	}
	m.Truncate(size)
	if err := w.WriteMsg(m); err != nil && s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("dns write failed", "client", w.RemoteAddr().String(), "err", err)
	}
}

// debug logs one query at debug level, without the cost of building the
// attributes when debug is off.
func (s *Server) debug(msg string, q dns.Question, rcode, answers int) {
	if !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	s.log.Debug(msg, "name", q.Name, "type", dns.TypeToString[q.Qtype],
		"rcode", dns.RcodeToString[rcode], "answers", answers)
}
