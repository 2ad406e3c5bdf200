package gcefake

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// operation is a zone operation; done is closed when it is DONE.
type operation struct {
	pb   *computepb.Operation
	zone string
	done chan struct{}
}

// newOp records a PENDING zone operation of kind (insert, delete, or a
// system event such as compute.instances.preempted) on instance target.
// The caller holds s.mu.
func (s *Server) newOp(zone, kind, target, requestID string) *operation {
	s.seq++
	now := time.Now()
	name := fmt.Sprintf("operation-%d-%x-%08x", now.UnixMilli(), s.seq, s.seq*2654435761%(1<<32))
	op := &operation{zone: zone, done: make(chan struct{}), pb: &computepb.Operation{
		Kind:          proto.String("compute#operation"),
		Id:            proto.Uint64(s.seq),
		Name:          proto.String(name),
		Zone:          proto.String(s.zoneLink(zone)),
		OperationType: proto.String(kind),
		TargetLink:    proto.String(selfLinkBase + s.resource(zone, target)),
		Status:        computepb.Operation_PENDING.Enum(),
		User:          proto.String("maestro@" + s.o.Project + ".iam.gserviceaccount.com"),
		Progress:      proto.Int32(0),
		InsertTime:    proto.String(timestamp(now)),
		StartTime:     proto.String(timestamp(now)),
		SelfLink:      proto.String(s.zoneLink(zone) + "/operations/" + name),
	}}
	s.ops[name] = op
	if requestID != "" {
		s.requests[requestID] = name
	}
	return op
}

// finishOp marks op DONE, failed with e when e is set. The caller holds s.mu.
func (s *Server) finishOp(op *operation, e *computepb.Errors, httpStatus int32, httpMessage string) {
	if op.pb.GetStatus() == computepb.Operation_DONE {
		return
	}
	op.pb.Status = computepb.Operation_DONE.Enum()
	op.pb.Progress = proto.Int32(100)
	op.pb.EndTime = proto.String(timestamp(time.Now()))
	if e != nil {
		op.pb.Error = &computepb.Error{Errors: []*computepb.Errors{e}}
		op.pb.HttpErrorStatusCode = proto.Int32(httpStatus)
		op.pb.HttpErrorMessage = proto.String(httpMessage)
	}
	close(op.done)
}

// replay returns the operation an earlier request with requestID started:
// Compute Engine answers a repeated request with it instead of doing the
// work again. The caller holds s.mu.
func (s *Server) replay(requestID string) (*operation, bool) {
	if requestID == "" {
		return nil, false
	}
	op, ok := s.ops[s.requests[requestID]]
	return op, ok
}

func (s *Server) lookupOp(w http.ResponseWriter, r *http.Request) *operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.ops[r.PathValue("op")]
	if op == nil || op.zone != r.PathValue("zone") {
		writeError(w, http.StatusNotFound, "notFound", fmt.Sprintf("The resource 'projects/%s/zones/%s/operations/%s' was not found",
			s.o.Project, r.PathValue("zone"), r.PathValue("op")))
		return nil
	}
	return op
}

func (s *Server) handleOperationGet(w http.ResponseWriter, r *http.Request) {
	if op := s.lookupOp(w, r); op != nil {
		s.writeOp(w, op)
	}
}

// handleOperationWait answers when the operation is DONE, or after
// WaitTimeout with the operation as it is then (the client asks again).
func (s *Server) handleOperationWait(w http.ResponseWriter, r *http.Request) {
	op := s.lookupOp(w, r)
	if op == nil {
		return
	}
	t := time.NewTimer(s.o.WaitTimeout)
	defer t.Stop()
	select {
	case <-op.done:
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	s.writeOp(w, op)
}

func (s *Server) writeOp(w http.ResponseWriter, op *operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, op.pb)
}

func (s *Server) handleOperationList(w http.ResponseWriter, r *http.Request) {
	match, err := parseFilter(r.URL.Query().Get("filter"), &computepb.Operation{}, operationField)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value for field 'filter': '%s'. %v", r.URL.Query().Get("filter"), err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := &computepb.OperationList{Kind: proto.String("compute#operationList"),
		SelfLink: proto.String(s.zoneLink(r.PathValue("zone")) + "/operations")}
	for _, op := range s.ops {
		if op.zone == r.PathValue("zone") && match(op.pb) {
			list.Items = append(list.Items, op.pb)
		}
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].GetId() < list.Items[j].GetId() })
	writeJSON(w, list)
}

func operationField(m proto.Message, field string) (string, bool) {
	op := m.(*computepb.Operation)
	switch field {
	case "operationType":
		return op.GetOperationType(), true
	case "targetLink":
		return op.GetTargetLink(), true
	case "targetId":
		return fmt.Sprint(op.GetTargetId()), true
	case "status":
		return op.GetStatus().String(), true
	}
	return "", false
}
