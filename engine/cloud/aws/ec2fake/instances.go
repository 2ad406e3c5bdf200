package ec2fake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State codes of EC2's InstanceState.
var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

// Instance is a fake instance as tests see it (no user data: it is secret).
type Instance struct {
	ID, Type, Image, Zone, Subnet string
	State                         string // pending, running, shutting-down, terminated
	StateReason                   string // code: message, once terminated
	PrivateIP                     string
	Tags                          map[string]string
	Spot                          bool
	SpotRequestID                 string
	ClientToken                   string
	LaunchTime                    time.Time
}

type instance struct {
	Instance
	reservation    string
	keyName        string
	profile        string
	groups         []string
	tagOrder       []string
	userData       []byte
	params         string // the RunInstances parameters but ClientToken: replay check
	terminatedAt   time.Time
	console        []string
	bootCancel     context.CancelFunc
	reclaim        chan struct{} // set by Interrupt; closed by Reclaim
}

type spotRequest struct {
	id, instanceID, state, statusCode, statusMessage string
	created, updated                                 time.Time
}

var (
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	amiPattern        = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// Instances returns every instance still visible (terminated ones for
// Options.TerminatedRetention), in launch order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Instance
	for _, id := range s.order {
		if in := s.visible(id); in != nil {
			c := in.Instance
			c.Tags = copyTags(in.Tags)
			out = append(out, c)
		}
	}
	return out
}

// Running is how many instances are pending or running: the ones that
// cost money.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, in := range s.instances {
		if in.State == "pending" || in.State == "running" {
			n++
		}
	}
	return n
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// visible returns instance id unless unknown or terminated long ago.
// Callers hold s.mu.
func (s *Server) visible(id string) *instance {
	in := s.instances[id]
	if in == nil || (in.State == "terminated" && time.Since(in.terminatedAt) > s.opts.TerminatedRetention) {
		return nil
	}
	return in
}

func newID(prefix string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)[:17]
}

// runParams are the RunInstances parameters the fake honours.
type runParams struct {
	image, typ, zone, subnet, keyName, profile, clientToken string
	groups                                                  []string
	tags                                                    map[string]string
	tagOrder                                                []string
	spot                                                    bool
	userData                                                []byte
}

func (s *Server) parseRun(form url.Values) (runParams, *apiError) {
	p := runParams{
		image: form.Get("ImageId"), typ: form.Get("InstanceType"), zone: form.Get("Placement.AvailabilityZone"),
		subnet: form.Get("SubnetId"), keyName: form.Get("KeyName"), clientToken: form.Get("ClientToken"),
		groups: list(form, "SecurityGroupId"), tags: map[string]string{},
		spot: form.Get("InstanceMarketOptions.MarketType") == "spot",
	}
	p.profile = form.Get("IamInstanceProfile.Name")
	if p.profile == "" {
		p.profile = form.Get("IamInstanceProfile.Arn")
	}
	if form.Get("MinCount") != "1" || form.Get("MaxCount") != "1" {
		return p, invalidParameter("ec2fake launches one instance per request (MinCount=MaxCount=1), not %s-%s",
			form.Get("MinCount"), form.Get("MaxCount"))
	}
	if len(p.clientToken) > 64 {
		return p, invalidParameter("Value (%s) for parameter clientToken is invalid. Length exceeds maximum of 64", p.clientToken)
	}
	for i := 1; form.Has(fmt.Sprintf("TagSpecification.%d.ResourceType", i)); i++ {
		pre := fmt.Sprintf("TagSpecification.%d", i)
		if rt := form.Get(pre + ".ResourceType"); rt != "instance" {
			continue
		}
		for j := 1; form.Has(fmt.Sprintf("%s.Tag.%d.Key", pre, j)); j++ {
			k := form.Get(fmt.Sprintf("%s.Tag.%d.Key", pre, j))
			if strings.HasPrefix(k, "aws:") {
				return p, invalidParameter("Tag keys starting with 'aws:' are reserved for internal use")
			}
			p.tags[k] = form.Get(fmt.Sprintf("%s.Tag.%d.Value", pre, j))
			p.tagOrder = append(p.tagOrder, k)
		}
	}
	if ud := form.Get("UserData"); ud != "" {
		b, err := base64.StdEncoding.DecodeString(ud)
		if err != nil {
			return p, invalidParameter("Invalid BASE64 encoding of user data.")
		}
		if len(b) > 16384 {
			return p, invalidParameter("User data is limited to 16384 bytes")
		}
		p.userData = b
	}
	return p, s.checkRun(&p)
}

// checkRun validates image, type, subnet and zone as EC2 does.
func (s *Server) checkRun(p *runParams) *apiError {
	switch {
	case p.image == "":
		return errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter ImageId")
	case !amiPattern.MatchString(p.image):
		return errorf(http.StatusBadRequest, "InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", p.image)
	case !s.known("image", p.image):
		return errorf(http.StatusBadRequest, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", p.image)
	case p.typ == "":
		return errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter InstanceType")
	case !s.known("type", p.typ):
		return invalidParameter("Invalid value '%s' for InstanceType.", p.typ)
	}
	if p.subnet != "" {
		zone, ok := s.opts.Subnets[p.subnet]
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", p.subnet)
		}
		if p.zone != "" && p.zone != zone {
			return invalidParameter("Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s",
				p.zone, p.subnet, zone)
		}
		p.zone = zone
	}
	if p.zone == "" {
		p.zone = s.opts.Zones[0]
	}
	if !s.known("zone", p.zone) {
		return invalidParameter("Invalid availability zone: [%s]", p.zone)
	}
	return nil
}

// paramsKey is the request without its client token: a replay must match it.
func paramsKey(form url.Values) string {
	c := url.Values{}
	for k, v := range form {
		if k != "ClientToken" {
			c[k] = v
		}
	}
	return c.Encode()
}

func (s *Server) runInstances(form url.Values) (any, *apiError) {
	p, aerr := s.parseRun(form)
	key := paramsKey(form)
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.tokens[p.clientToken]; ok && p.clientToken != "" {
		in := s.instances[id]
		if in.params != key {
			return nil, errorf(http.StatusBadRequest, "IdempotentParameterMismatch",
				"Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
		}
		return s.reservation(in), nil
	}
	if aerr != nil {
		return nil, aerr
	}
	if s.noCapacity[p.zone] {
		return nil, errorf(http.StatusInternalServerError, "InsufficientInstanceCapacity",
			"We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). "+
				"Our system will be working on provisioning additional capacity. You can currently get %s capacity "+
				"by not specifying an Availability Zone in your request or choosing %s.",
			p.typ, p.zone, p.typ, strings.Join(s.otherZones(p.zone), ", "))
	}
	if alive := s.alive(); s.maxInst > 0 && alive+1 > s.maxInst {
		return nil, errorf(http.StatusBadRequest, "InstanceLimitExceeded",
			"You have requested more instances (%d) than your current instance limit of %d allows for the "+
				"specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request "+
				"an adjustment to this limit.", alive+1, s.maxInst)
	}
	in := &instance{
		Instance: Instance{
			ID: newID("i-"), Type: p.typ, Image: p.image, Zone: p.zone, Subnet: p.subnet, State: "pending",
			Tags: p.tags, Spot: p.spot, ClientToken: p.clientToken, LaunchTime: time.Now().UTC().Truncate(time.Second),
		},
		reservation: newID("r-"), keyName: p.keyName, profile: p.profile, groups: p.groups,
		tagOrder: p.tagOrder, userData: p.userData, params: key,
	}
	in.console = append(in.console, fmt.Sprintf("ec2fake: %s launching (%s, %s)", in.ID, in.Type, in.Zone))
	if p.spot {
		now := time.Now().UTC()
		sr := &spotRequest{id: newID("sir-")[:12], instanceID: in.ID, state: "active", statusCode: "fulfilled",
			statusMessage: "Your spot request is fulfilled.", created: now, updated: now}
		s.spot[sr.id] = sr
		in.SpotRequestID = sr.id
	}
	s.instances[in.ID] = in
	s.order = append(s.order, in.ID)
	if p.clientToken != "" {
		s.tokens[p.clientToken] = in.ID
	}
	s.boot(in)
	return s.reservation(in), nil
}

func (s *Server) otherZones(zone string) []string {
	var out []string
	for _, z := range s.opts.Zones {
		if z != zone && !s.noCapacity[z] {
			out = append(out, z)
		}
	}
	return out
}

// alive counts pending and running instances. Callers hold s.mu.
func (s *Server) alive() int {
	n := 0
	for _, in := range s.instances {
		if in.State == "pending" || in.State == "running" {
			n++
		}
	}
	return n
}

// boot runs Booter.Boot for in in the background. Callers hold s.mu.
func (s *Server) boot(in *instance) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.BootTimeout)
	in.bootCancel = cancel
	id, script := in.ID, in.userData
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		addr, err := s.opts.Booter.Boot(ctx, id, script)
		s.mu.Lock()
		in := s.instances[id]
		if in.State != "pending" { // terminated while booting
			s.mu.Unlock()
			if err == nil {
				_ = s.opts.Booter.Halt(s.ctx, id)
			}
			return
		}
		if err != nil {
			in.console = append(in.console, "ec2fake: boot failed: "+err.Error())
			s.setTerminated(in, "Server.InternalError", "Internal error on launch")
			s.mu.Unlock()
			return
		}
		in.State, in.PrivateIP = "running", addr.String()
		in.console = append(in.console, "ec2fake: running, private address "+in.PrivateIP)
		s.mu.Unlock()
	}()
}

// setTerminated marks in terminated for reason. Callers hold s.mu.
func (s *Server) setTerminated(in *instance, code, message string) {
	in.State, in.StateReason, in.terminatedAt = "terminated", code+": "+message, time.Now()
	if sr := s.spot[in.SpotRequestID]; sr != nil && sr.state != "closed" {
		sr.state, sr.updated = "closed", time.Now().UTC()
		if code == "Server.SpotInstanceTermination" {
			sr.statusCode, sr.statusMessage = "instance-terminated-no-capacity",
				"Spot Instance terminated due to no available capacity."
		} else {
			sr.statusCode, sr.statusMessage = "instance-terminated-by-user",
				"Spot Instance terminated by the user."
		}
	}
}

// shutDown moves in to shutting-down and, in the background, halts its
// host and marks it terminated. Callers hold s.mu.
func (s *Server) shutDown(in *instance, code, message string) {
	if in.State == "shutting-down" || in.State == "terminated" {
		return
	}
	in.State, in.StateReason = "shutting-down", code+": "+message
	in.bootCancel()
	id := in.ID
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.opts.Booter.Halt(s.ctx, id)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.setTerminated(s.instances[id], code, message)
	}()
}

// instanceIDs checks ids as EC2 does: malformed first, then unknown.
// Callers hold s.mu.
func (s *Server) instanceIDs(ids []string) ([]*instance, *apiError) {
	var out []*instance
	var missing []string
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		if in := s.visible(id); in != nil {
			out = append(out, in)
		} else {
			missing = append(missing, id)
		}
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound",
		"The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

func (s *Server) terminateInstances(form url.Values) (any, *apiError) {
	ids := list(form, "InstanceId")
	if len(ids) == 0 {
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter InstanceId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ins, aerr := s.instanceIDs(ids)
	if aerr != nil {
		return nil, aerr
	}
	out := terminateResponse{Xmlns: Namespace, RequestID: requestID()}
	for _, in := range ins {
		prev := in.State
		s.shutDown(in, "Client.UserInitiatedShutdown", "User initiated shutdown")
		out.Instances = append(out.Instances, stateChange{ID: in.ID, Current: xmlState(in.State), Previous: xmlState(prev)})
	}
	return out, nil
}

// Interrupt announces the interruption of spot instance id (its spot
// request's status becomes marked-for-termination) and terminates it
// after Options.InterruptionNotice.
func (s *Server) Interrupt(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.visible(id)
	switch {
	case in == nil:
		return fmt.Errorf("ec2fake: no instance %s", id)
	case !in.Spot:
		return fmt.Errorf("ec2fake: %s is not a spot instance", id)
	case in.State != "pending" && in.State != "running":
		return fmt.Errorf("ec2fake: %s is %s", id, in.State)
	case in.reclaim != nil:
		return nil
	}
	in.reclaim = make(chan struct{})
	reclaim := in.reclaim
	sr := s.spot[in.SpotRequestID]
	sr.statusCode, sr.updated = "marked-for-termination", time.Now().UTC()
	sr.statusMessage = "Spot Instance is marked for termination."
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-s.ctx.Done():
			return
		case <-reclaim:
		case <-time.After(s.opts.InterruptionNotice):
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.shutDown(s.instances[id], "Server.SpotInstanceTermination", "Spot instance termination")
	}()
	return nil
}

// Reclaim ends the interruption notice of instance id (Interrupt first):
// it is terminated now.
func (s *Server) Reclaim(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[id]
	if in == nil || in.reclaim == nil {
		return fmt.Errorf("ec2fake: %s was not interrupted", id)
	}
	select {
	case <-in.reclaim:
	default:
		close(in.reclaim)
	}
	return nil
}

// maxResults reads MaxResults (0: absent) as EC2 checks it.
func maxResults(form url.Values) (int, *apiError) {
	v := form.Get("MaxResults")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 5 || n > 1000 {
		return 0, invalidParameter("Value ( %s ) for parameter maxResults is invalid. Expecting a value greater than 5.", v)
	}
	return n, nil
}

// matches reports whether in passes every filter. Callers hold s.mu.
func (s *Server) matches(in *instance, fs map[string][]string) (bool, *apiError) {
	for name, vals := range fs {
		var got []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			if v, ok := in.Tags[strings.TrimPrefix(name, "tag:")]; ok {
				got = []string{v}
			}
		case name == "tag-key":
			got = in.tagOrder
		case name == "instance-state-name":
			got = []string{in.State}
		case name == "instance-id":
			got = []string{in.ID}
		case name == "client-token":
			got = []string{in.ClientToken}
		case name == "availability-zone":
			got = []string{in.Zone}
		case name == "instance-type":
			got = []string{in.Type}
		case name == "instance-lifecycle":
			if in.Spot {
				got = []string{"spot"}
			}
		}
		if !slices.ContainsFunc(got, func(g string) bool { return slices.Contains(vals, g) }) {
			return false, nil
		}
	}
	return true, nil
}
