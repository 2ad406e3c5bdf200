package ec2fake

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ownerID is the fake account.
const ownerID = "123456789012"

// Answers, with EC2's element names.

type xmlInstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func xmlState(name string) xmlInstanceState { return xmlInstanceState{stateCodes[name], name} }

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlGroup struct {
	ID string `xml:"groupId"`
}

type xmlStateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xmlInstance struct {
	ID            string           `xml:"instanceId"`
	Image         string           `xml:"imageId"`
	State         xmlInstanceState `xml:"instanceState"`
	PrivateDNS    string           `xml:"privateDnsName"`
	Reason        string           `xml:"reason"`
	KeyName       string           `xml:"keyName,omitempty"`
	LaunchIndex   int              `xml:"amiLaunchIndex"`
	Type          string           `xml:"instanceType"`
	LaunchTime    string           `xml:"launchTime"`
	Zone          string           `xml:"placement>availabilityZone"`
	Tenancy       string           `xml:"placement>tenancy"`
	Subnet        string           `xml:"subnetId,omitempty"`
	PrivateIP     string           `xml:"privateIpAddress,omitempty"`
	Groups        []xmlGroup       `xml:"groupSet>item"`
	StateReason   *xmlStateReason  `xml:"stateReason,omitempty"`
	Architecture  string           `xml:"architecture"`
	RootDevice    string           `xml:"rootDeviceType"`
	Profile       string           `xml:"iamInstanceProfile>arn,omitempty"`
	Lifecycle     string           `xml:"instanceLifecycle,omitempty"`
	SpotRequestID string           `xml:"spotInstanceRequestId,omitempty"`
	ClientToken   string           `xml:"clientToken,omitempty"`
	Tags          []xmlTag         `xml:"tagSet>item"`
}

type xmlReservation struct {
	ID        string        `xml:"reservationId"`
	Owner     string        `xml:"ownerId"`
	Instances []xmlInstance `xml:"instancesSet>item"`
}

type runResponse struct {
	XMLName   xml.Name `xml:"RunInstancesResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	xmlReservation
}

type describeResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type stateChange struct {
	ID       string           `xml:"instanceId"`
	Current  xmlInstanceState `xml:"currentState"`
	Previous xmlInstanceState `xml:"previousState"`
}

type terminateResponse struct {
	XMLName   xml.Name      `xml:"TerminateInstancesResponse"`
	Xmlns     string        `xml:"xmlns,attr"`
	RequestID string        `xml:"requestId"`
	Instances []stateChange `xml:"instancesSet>item"`
}

func (in *instance) xml() xmlInstance {
	x := xmlInstance{
		ID: in.ID, Image: in.Image, State: xmlState(in.State), KeyName: in.keyName, Type: in.Type,
		LaunchTime: in.LaunchTime.Format("2006-01-02T15:04:05.000Z"), Zone: in.Zone, Tenancy: "default",
		Subnet: in.Subnet, PrivateIP: in.PrivateIP, Architecture: "x86_64", RootDevice: "ebs",
		SpotRequestID: in.SpotRequestID, ClientToken: in.ClientToken,
	}
	if in.PrivateIP != "" {
		x.PrivateDNS = "ip-" + strings.ReplaceAll(in.PrivateIP, ".", "-") + ".ec2.internal"
	}
	if in.profile != "" {
		x.Profile = "arn:aws:iam::" + ownerID + ":instance-profile/" + strings.TrimPrefix(in.profile, "arn:aws:iam::"+ownerID+":instance-profile/")
	}
	if in.Spot {
		x.Lifecycle = "spot"
	}
	for _, g := range in.groups {
		x.Groups = append(x.Groups, xmlGroup{g})
	}
	for _, k := range in.tagOrder {
		x.Tags = append(x.Tags, xmlTag{k, in.Tags[k]})
	}
	if code, msg, ok := strings.Cut(in.StateReason, ": "); ok {
		x.StateReason = &xmlStateReason{Code: code, Message: code + ": " + msg}
		x.Reason = msg
	}
	return x
}

// reservation answers RunInstances for in. Callers hold s.mu.
func (s *Server) reservation(in *instance) runResponse {
	return runResponse{Xmlns: Namespace, RequestID: requestID(), xmlReservation: xmlReservation{
		ID: in.reservation, Owner: ownerID, Instances: []xmlInstance{in.xml()},
	}}
}

func (s *Server) describeInstances(form url.Values) (any, *apiError) {
	ids := list(form, "InstanceId")
	fs, aerr := filters(form)
	if aerr != nil {
		return nil, aerr
	}
	limit, aerr := maxResults(form)
	if aerr != nil {
		return nil, aerr
	}
	if limit > 0 && len(ids) > 0 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterCombination",
			"The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if s.opts.PageSize > 0 && (limit == 0 || limit > s.opts.PageSize) {
		limit = s.opts.PageSize
	}
	start := 0
	if tok := form.Get("NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || n < 0 {
			return nil, invalidParameter("The value '%s' for nextToken is invalid", tok)
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	candidates := s.order
	if len(ids) > 0 {
		ins, aerr := s.instanceIDs(ids)
		if aerr != nil {
			return nil, aerr
		}
		candidates = nil
		for _, in := range ins {
			candidates = append(candidates, in.ID)
		}
	}
	out := describeResponse{Xmlns: Namespace, RequestID: requestID()}
	n := 0
	for i := start; i < len(candidates); i++ {
		in := s.visible(candidates[i])
		if in == nil {
			continue
		}
		ok, aerr := s.matches(in, fs)
		if aerr != nil {
			return nil, aerr
		}
		if !ok {
			continue
		}
		if limit > 0 && n == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(i)))
			break
		}
		n++
		if k := len(out.Reservations); k > 0 && out.Reservations[k-1].ID == in.reservation {
			out.Reservations[k-1].Instances = append(out.Reservations[k-1].Instances, in.xml())
			continue
		}
		out.Reservations = append(out.Reservations, xmlReservation{ID: in.reservation, Owner: ownerID,
			Instances: []xmlInstance{in.xml()}})
	}
	return out, nil
}

type xmlSubnet struct {
	ID    string `xml:"subnetId"`
	State string `xml:"state"`
	Zone  string `xml:"availabilityZone"`
	VPC   string `xml:"vpcId"`
}

type subnetsResponse struct {
	XMLName   xml.Name    `xml:"DescribeSubnetsResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	RequestID string      `xml:"requestId"`
	Subnets   []xmlSubnet `xml:"subnetSet>item"`
}

func (s *Server) describeSubnets(form url.Values) (any, *apiError) {
	ids := list(form, "SubnetId")
	if len(ids) == 0 {
		for id := range s.opts.Subnets {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	out := subnetsResponse{Xmlns: Namespace, RequestID: requestID()}
	for _, id := range ids {
		zone, ok := s.opts.Subnets[id]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		out.Subnets = append(out.Subnets, xmlSubnet{ID: id, State: "available", Zone: zone, VPC: "vpc-0fa4e0d1c0ffee000"})
	}
	return out, nil
}

type xmlSpotRequest struct {
	ID            string `xml:"spotInstanceRequestId"`
	SpotPrice     string `xml:"spotPrice"`
	Type          string `xml:"type"`
	State         string `xml:"state"`
	StatusCode    string `xml:"status>code"`
	StatusUpdated string `xml:"status>updateTime"`
	StatusMessage string `xml:"status>message"`
	InstanceID    string `xml:"instanceId,omitempty"`
	CreateTime    string `xml:"createTime"`
	Interruption  string `xml:"instanceInterruptionBehavior"`
}

type spotResponse struct {
	XMLName   xml.Name         `xml:"DescribeSpotInstanceRequestsResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	RequestID string           `xml:"requestId"`
	Requests  []xmlSpotRequest `xml:"spotInstanceRequestSet>item"`
}

func (s *Server) describeSpotRequests(form url.Values) (any, *apiError) {
	ids := list(form, "SpotInstanceRequestId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ids) == 0 {
		for id := range s.spot {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	out := spotResponse{Xmlns: Namespace, RequestID: requestID()}
	for _, id := range ids {
		sr, ok := s.spot[id]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidSpotInstanceRequestID.NotFound",
				"The spot instance request ID '%s' does not exist", id)
		}
		out.Requests = append(out.Requests, xmlSpotRequest{
			ID: sr.id, SpotPrice: "0.020800", Type: "one-time", State: sr.state, StatusCode: sr.statusCode,
			StatusUpdated: sr.updated.Format(time.RFC3339), StatusMessage: sr.statusMessage,
			InstanceID: sr.instanceID, CreateTime: sr.created.Format(time.RFC3339), Interruption: "terminate",
		})
	}
	return out, nil
}

type consoleResponse struct {
	XMLName   xml.Name `xml:"GetConsoleOutputResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	ID        string   `xml:"instanceId"`
	Timestamp string   `xml:"timestamp"`
	Output    string   `xml:"output"`
}

// Consoler is implemented by a Booter that can show an instance's console
// (its boot script's output): GetConsoleOutput then returns it.
type Consoler interface {
	Console(id string) ([]byte, error)
}

func (s *Server) getConsoleOutput(form url.Values) (any, *apiError) {
	id := form.Get("InstanceId")
	s.mu.Lock()
	ins, aerr := s.instanceIDs([]string{id})
	var text []byte
	if aerr == nil {
		text = []byte(strings.Join(ins[0].console, "\n") + "\n")
	}
	s.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	if c, ok := s.opts.Booter.(Consoler); ok {
		if b, err := c.Console(id); err == nil {
			text = append(text, b...)
		}
	}
	return consoleResponse{Xmlns: Namespace, RequestID: requestID(), ID: id,
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Output:    base64.StdEncoding.EncodeToString(text)}, nil
}
