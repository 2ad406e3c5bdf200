package gcefake

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// selfLinkBase is where Compute Engine's resource links point.
const selfLinkBase = "https://www.googleapis.com/compute/v1/"

type instance struct {
	pb          *computepb.Instance
	zone        string
	machineType string
	vcpus       int
	requestID   string
	script      []byte
	console     []string // serial port 1: what the fake did with the instance
}

// logf appends a line to the instance's serial console. The caller holds s.mu.
func (in *instance) logf(format string, args ...any) {
	in.console = append(in.console, time.Now().UTC().Format(time.StampMilli)+" gcefake: "+fmt.Sprintf(format, args...))
}

var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (s *Server) zoneLink(zone string) string {
	return selfLinkBase + "projects/" + s.o.Project + "/zones/" + zone
}

func (s *Server) resource(zone, name string) string {
	return "projects/" + s.o.Project + "/zones/" + zone + "/instances/" + name
}

func region(zone string) string {
	if i := strings.LastIndex(zone, "-"); i > 0 {
		return zone[:i]
	}
	return zone
}

func (s *Server) handleInsert(w http.ResponseWriter, r *http.Request) {
	zone, reqID := r.PathValue("zone"), r.URL.Query().Get("requestId")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "This API does not support parsing form-encoded input.")
		return
	}
	in := &computepb.Instance{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, in); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Invalid JSON payload received. "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.replay(reqID); ok {
		writeJSON(w, op.pb)
		return
	}
	mtPath := in.GetMachineType()
	mt := mtPath[strings.LastIndex(mtPath, "/")+1:]
	vcpus, mtOK := s.o.MachineTypes[mt]
	res := s.resource(zone, in.GetName())
	switch {
	case !nameRE.MatchString(in.GetName()):
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value for field 'resource.name': '%s'. "+
			"Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19})'", in.GetName()))
		return
	case !mtOK:
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value for field 'resource.machineType': '%s'. "+
			"Machine type with name '%s' does not exist in zone '%s'.", mtPath, mt, zone))
		return
	case s.instances[zone+"/"+in.GetName()] != nil:
		writeError(w, http.StatusConflict, "alreadyExists", fmt.Sprintf("The resource '%s' already exists", res))
		return
	case s.o.CPUQuota > 0 && s.regionCPUs(region(zone))+vcpus > s.o.CPUQuota:
		writeErrorStatus(w, http.StatusForbidden, "quotaExceeded", "PERMISSION_DENIED",
			fmt.Sprintf("Quota 'CPUS' exceeded.  Limit: %d.0 in region %s.", s.o.CPUQuota, region(zone)))
		return
	}
	op := s.newOp(zone, "insert", in.GetName(), reqID)
	if f := s.takeOpFault(zone); f != nil {
		// Compute Engine accepts the insert and fails its operation.
		writeJSON(w, op.pb)
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.mu.Lock()
			defer s.mu.Unlock()
			s.finishOp(op, &computepb.Errors{Code: proto.String(f.reason), Message: proto.String(f.message)},
				int32(f.status), f.state)
		}()
		return
	}
	s.seq++
	id := s.seq*7919 + 4000000000000000000
	in.Id = proto.Uint64(id)
	in.Kind = proto.String("compute#instance")
	in.Zone = proto.String(s.zoneLink(zone))
	in.MachineType = proto.String(s.zoneLink(zone) + "/machineTypes/" + mt)
	in.SelfLink = proto.String(selfLinkBase + res)
	in.Status = proto.String("PROVISIONING")
	in.CreationTimestamp = proto.String(timestamp(time.Now()))
	if len(in.NetworkInterfaces) == 0 {
		in.NetworkInterfaces = []*computepb.NetworkInterface{{}}
	}
	in.NetworkInterfaces[0].Name = proto.String("nic0")
	var script []byte
	for _, it := range in.GetMetadata().GetItems() {
		if it.GetKey() == "startup-script" {
			script = []byte(it.GetValue())
		}
	}
	if in.Metadata != nil {
		in.Metadata.Fingerprint = proto.String("gcefake=")
	}
	op.pb.TargetId = proto.Uint64(id)
	inst := &instance{pb: in, zone: zone, machineType: mt, vcpus: vcpus, requestID: reqID, script: script}
	s.instances[zone+"/"+in.GetName()] = inst
	inst.logf("instance %s (%s) provisioning in zone %s", in.GetName(), mt, zone)
	writeJSON(w, op.pb)
	s.bg.Add(1)
	go s.boot(inst, op)
}

func (s *Server) regionCPUs(reg string) int {
	n := 0
	for _, in := range s.instances {
		if region(in.zone) == reg && in.pb.GetStatus() != "TERMINATED" {
			n += in.vcpus
		}
	}
	return n
}

// boot finishes an insert: the operation is done, the instance STAGING,
// then the Booter starts it and it is RUNNING with the host's address.
func (s *Server) boot(in *instance, op *operation) {
	defer s.bg.Done()
	s.mu.Lock()
	s.finishOp(op, nil, 0, "")
	in.pb.Status = proto.String("STAGING")
	in.logf("staging: booting with its startup-script (%d bytes)", len(in.script))
	id := fmt.Sprint(in.pb.GetId())
	s.mu.Unlock()
	addr, err := s.o.Booter.Boot(s.ctx, id, in.script)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.log.Warn("boot failed", "instance", in.pb.GetName(), "err", err)
		in.pb.Status = proto.String("TERMINATED")
		in.pb.StatusMessage = proto.String("Instance failed to boot.")
		in.logf("boot failed: %v", err)
		return
	}
	if s.instances[in.zone+"/"+in.pb.GetName()] != in || in.pb.GetStatus() != "STAGING" {
		// Deleted or preempted while booting: whatever stops it halted
		// nothing yet, so halt the host now.
		s.bg.Add(1)
		go func() { defer s.bg.Done(); _ = s.o.Booter.Halt(s.ctx, id) }()
		return
	}
	in.pb.Status = proto.String("RUNNING")
	in.pb.LastStartTimestamp = proto.String(timestamp(time.Now()))
	in.pb.NetworkInterfaces[0].NetworkIP = proto.String(addr.String())
	in.logf("running at %s; startup-script started", addr)
}

// lookup is the instance a request's path names, or nil when the 404 is
// written. The caller holds s.mu.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *instance {
	zone, name := r.PathValue("zone"), r.PathValue("name")
	in := s.instances[zone+"/"+name]
	if in == nil {
		writeError(w, http.StatusNotFound, "notFound", fmt.Sprintf("The resource '%s' was not found", s.resource(zone, name)))
	}
	return in
}

// handleSerialPort answers instances.getSerialPortOutput with the lines
// the fake logged for the instance (port 1; start is a byte offset).
func (s *Server) handleSerialPort(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.lookup(w, r)
	if in == nil {
		return
	}
	contents := strings.Join(in.console, "\n") + "\n"
	start, _ := strconv.ParseInt(r.URL.Query().Get("start"), 10, 64)
	start = min(max(start, 0), int64(len(contents)))
	writeJSON(w, &computepb.SerialPortOutput{
		Kind: proto.String("compute#serialPortOutput"), Contents: proto.String(contents[start:]),
		Start: proto.Int64(start), Next: proto.Int64(int64(len(contents))),
		SelfLink: proto.String(in.pb.GetSelfLink() + "/serialPort"),
	})
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.lookup(w, r)
	if in == nil {
		return
	}
	writeJSON(w, in.pb)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	zone, name, reqID := r.PathValue("zone"), r.PathValue("name"), r.URL.Query().Get("requestId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.replay(reqID); ok {
		writeJSON(w, op.pb)
		return
	}
	in := s.lookup(w, r)
	if in == nil {
		return
	}
	op := s.newOp(zone, "delete", name, reqID)
	op.pb.TargetId = in.pb.Id
	in.pb.Status = proto.String("STOPPING")
	in.logf("stopping: deleted")
	writeJSON(w, op.pb)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		_ = s.o.Booter.Halt(s.ctx, fmt.Sprint(in.pb.GetId()))
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.instances[zone+"/"+name] == in {
			delete(s.instances, zone+"/"+name)
		}
		s.finishOp(op, nil, 0, "")
	}()
}

// Preempt reclaims spot instance name (in any zone) as Compute Engine does:
// a compute.instances.preempted operation is recorded, the instance is
// STOPPING for PreemptionNotice, then halted and, with the termination
// action DELETE, deleted (TERMINATED otherwise).
func (s *Server) Preempt(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var in *instance
	for _, x := range s.instances {
		if x.pb.GetName() == name {
			in = x
		}
	}
	switch {
	case in == nil:
		return fmt.Errorf("gcefake: no instance %q", name)
	case in.pb.GetScheduling().GetProvisioningModel() != "SPOT":
		return fmt.Errorf("gcefake: instance %q is not a spot instance", name)
	}
	op := s.newOp(in.zone, "compute.instances.preempted", name, "")
	op.pb.TargetId = in.pb.Id
	op.pb.User = proto.String("system")
	op.pb.StatusMessage = proto.String("Instance was preempted.")
	s.finishOp(op, nil, 0, "")
	in.pb.Status = proto.String("STOPPING")
	in.logf("stopping: preempted")
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(s.o.PreemptionNotice):
		}
		_ = s.o.Booter.Halt(s.ctx, fmt.Sprint(in.pb.GetId()))
		s.mu.Lock()
		defer s.mu.Unlock()
		in.pb.Status = proto.String("TERMINATED")
		if in.pb.GetScheduling().GetInstanceTerminationAction() == "DELETE" && s.instances[in.zone+"/"+name] == in {
			delete(s.instances, in.zone+"/"+name)
		}
	}()
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	zone := r.PathValue("zone")
	page, next, ok := s.page(w, r, func(in *instance) bool { return in.zone == zone })
	if !ok {
		return
	}
	list := &computepb.InstanceList{Kind: proto.String("compute#instanceList"), Items: page,
		SelfLink: proto.String(s.zoneLink(zone) + "/instances")}
	if next != "" {
		list.NextPageToken = proto.String(next)
	}
	writeJSON(w, list)
}

func (s *Server) handleAggregatedList(w http.ResponseWriter, r *http.Request) {
	page, next, ok := s.page(w, r, func(*instance) bool { return true })
	if !ok {
		return
	}
	items := map[string]*computepb.InstancesScopedList{}
	for _, z := range s.o.Zones {
		items["zones/"+z] = &computepb.InstancesScopedList{Warning: &computepb.Warning{
			Code:    proto.String("NO_RESULTS_ON_PAGE"),
			Message: proto.String("There are no results for scope 'zones/" + z + "' on this page."),
		}}
	}
	for _, in := range page {
		z := in.GetZone()[strings.LastIndex(in.GetZone(), "/")+1:]
		sl := items["zones/"+z]
		sl.Warning = nil
		sl.Instances = append(sl.Instances, in)
	}
	list := &computepb.InstanceAggregatedList{Kind: proto.String("compute#instanceAggregatedList"), Items: items,
		SelfLink: proto.String(selfLinkBase + "projects/" + s.o.Project + "/aggregated/instances")}
	if next != "" {
		list.NextPageToken = proto.String(next)
	}
	writeJSON(w, list)
}

// page returns the page of instances (in zone/name order) that match scope
// and the request's filter, and the next page's token.
func (s *Server) page(w http.ResponseWriter, r *http.Request, scope func(*instance) bool) ([]*computepb.Instance, string, bool) {
	q := r.URL.Query()
	match, err := parseFilter(q.Get("filter"), &computepb.Instance{}, instanceField)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value for field 'filter': '%s'. %v", q.Get("filter"), err))
		return nil, "", false
	}
	size := s.o.PageSize
	if m, err := strconv.Atoi(q.Get("maxResults")); err == nil && m > 0 && m < size {
		size = m
	}
	start := 0
	if t := q.Get("pageToken"); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if start, err = strconv.Atoi(strings.TrimPrefix(string(b), "offset:")); err != nil || start < 0 {
			writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value for field 'pageToken': '%s'.", t))
			return nil, "", false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*instance
	for _, in := range s.instances {
		if scope(in) && match(in.pb) {
			all = append(all, in)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].zone+"/"+all[i].pb.GetName() < all[j].zone+"/"+all[j].pb.GetName()
	})
	var out []*computepb.Instance
	for i := start; i < len(all) && i < start+size; i++ {
		out = append(out, proto.Clone(all[i].pb).(*computepb.Instance))
	}
	next := ""
	if start+size < len(all) {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(start+size)))
	}
	return out, next, true
}

func instanceField(m proto.Message, field string) (string, bool) {
	in := m.(*computepb.Instance)
	if k, ok := strings.CutPrefix(field, "labels."); ok {
		return in.GetLabels()[k], true
	}
	switch field {
	case "name":
		return in.GetName(), true
	case "status":
		return in.GetStatus(), true
	case "zone":
		return in.GetZone(), true
	}
	return "", false
}

var exprRE = regexp.MustCompile(`^\s*([A-Za-z][\w.\-]*)\s*(=|!=|eq|ne)\s*(.*?)\s*$`)

// parseFilter parses the subset of Compute Engine's list filter that the
// cloud sends: expressions "field = value" or "field != value" (value
// optionally quoted), each in parentheses when there are several (ANDed),
// or joined by AND.
// A field the server does not know is an error, as on Compute Engine.
func parseFilter(f string, zero proto.Message, field func(proto.Message, string) (string, bool)) (func(proto.Message) bool, error) {
	var exprs []string
	switch {
	case strings.TrimSpace(f) == "":
	case strings.Contains(f, "("):
		for _, m := range regexp.MustCompile(`\(([^()]*)\)`).FindAllStringSubmatch(f, -1) {
			exprs = append(exprs, m[1])
		}
	default:
		exprs = strings.Split(f, " AND ")
	}
	type cond struct {
		field, value string
		neg          bool
	}
	var conds []cond
	for _, e := range exprs {
		m := exprRE.FindStringSubmatch(e)
		if m == nil {
			return nil, fmt.Errorf("invalid list filter expression %q", e)
		}
		v := m[3]
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		if _, ok := field(zero, m[1]); !ok {
			return nil, fmt.Errorf("unknown field %q", m[1])
		}
		conds = append(conds, cond{m[1], v, m[2] == "!=" || m[2] == "ne"})
	}
	return func(msg proto.Message) bool {
		for _, c := range conds {
			got, ok := field(msg, c.field)
			if !ok || (got == c.value) == c.neg {
				return false
			}
		}
		return true
	}, nil
}

func writeJSON(w http.ResponseWriter, m proto.Message) {
	b, err := protojson.Marshal(m)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}
