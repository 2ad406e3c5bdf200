package gcp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
)

// TestCreateErrors: each refusal Compute Engine gives (answered at once or
// as the error of a failed operation) is the right cloud error kind, of
// provider gcp, with Google's own message, and makes no instance.
func TestCreateErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fake      gcefake.Options
		setup     func(*testing.T, *bed)
		mutate    func(*cloud.MachineRequest)
		kind      error
		message   string
		retryable bool
	}{
		{
			name:    "unknown machine type",
			mutate:  func(r *cloud.MachineRequest) { r.MachineType = "n9-huge" },
			kind:    cloud.ErrInvalid,
			message: "Invalid value for field 'resource.machineType': 'zones/zone-a/machineTypes/n9-huge'. Machine type with name 'n9-huge' does not exist in zone 'zone-a'.",
		},
		{
			name: "CPU quota",
			fake: gcefake.Options{Zones: []string{"us-central1-a"}, CPUQuota: 2},
			setup: func(t *testing.T, b *bed) {
				first := request("first")
				first.Zone = "us-central1-a"
				if _, err := b.cloud.Create(ctx(t), first); err != nil {
					t.Fatal(err)
				}
			},
			mutate:  func(r *cloud.MachineRequest) { r.Zone = "us-central1-a" },
			kind:    cloud.ErrQuota,
			message: "Quota 'CPUS' exceeded.  Limit: 2.0 in region us-central1.",
		},
		{
			name: "CPU quota found by the operation",
			setup: func(_ *testing.T, b *bed) {
				b.fake.FailOperation("QUOTA_EXCEEDED", "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.", http.StatusForbidden)
			},
			kind:    cloud.ErrQuota,
			message: "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.",
		},
		{
			name:      "no capacity in the zone",
			setup:     func(_ *testing.T, b *bed) { b.fake.NoCapacity("zone-a") },
			kind:      cloud.ErrCapacity,
			message:   "The zone 'projects/maestro-test/zones/zone-a' does not have enough resources available to fulfill the request.",
			retryable: true,
		},
		{
			name: "stockout answered at once",
			setup: func(_ *testing.T, b *bed) {
				b.fake.FailNext("insert", http.StatusServiceUnavailable, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
					"The zone 'projects/maestro-test/zones/zone-a' does not have enough resources available to fulfill the request.  '(resource type:compute)'.")
			},
			kind:      cloud.ErrCapacity,
			message:   "'(resource type:compute)'",
			retryable: true,
		},
		{
			name: "permission denied",
			setup: func(_ *testing.T, b *bed) {
				b.fake.FailNext("insert", http.StatusForbidden, "forbidden",
					"Required 'compute.instances.create' permission for 'projects/maestro-test/zones/zone-a/instances/m1'")
			},
			kind:    cloud.ErrPermission,
			message: "Required 'compute.instances.create' permission",
		},
		{
			name: "image not found",
			setup: func(_ *testing.T, b *bed) {
				b.fake.FailNext("insert", http.StatusNotFound, "notFound",
					"The resource 'projects/debian-cloud/global/images/family/debian-99' was not found")
			},
			kind:    cloud.ErrInvalid,
			message: "The resource 'projects/debian-cloud/global/images/family/debian-99' was not found",
		},
		{
			name:    "zone not found",
			mutate:  func(r *cloud.MachineRequest) { r.Zone = "mars-north1-a" },
			kind:    cloud.ErrInvalid,
			message: "The resource 'projects/maestro-test/zones/mars-north1-a' was not found",
		},
		{
			name: "invalid network",
			setup: func(_ *testing.T, b *bed) {
				b.fake.FailNext("insert", http.StatusBadRequest, "invalid",
					"Invalid value for field 'resource.networkInterfaces[0].network': 'global/networks/nope'. The referenced network resource cannot be found.")
			},
			kind:    cloud.ErrInvalid,
			message: "The referenced network resource cannot be found.",
		},
		{
			name:      "throttled past the retries",
			setup:     func(_ *testing.T, b *bed) { b.fake.Throttle(100) },
			kind:      cloud.ErrTransient,
			message:   "Rate Limit Exceeded",
			retryable: true,
		},
		{
			name:      "server errors past the retries",
			setup:     func(_ *testing.T, b *bed) { b.fake.ServerError(100) },
			kind:      cloud.ErrTransient,
			message:   "Internal error. Please try again",
			retryable: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t, tc.fake)
			if tc.setup != nil {
				tc.setup(t, b)
			}
			before := len(b.fake.Instances())
			req := request("m1")
			if tc.mutate != nil {
				tc.mutate(&req)
			}
			_, err := b.cloud.Create(ctx(t), req)
			t.Logf("%v", err)
			var ce *cloud.Error
			switch {
			case !errors.Is(err, tc.kind):
				t.Fatalf("Create: %v, want %v", err, tc.kind)
			case !errors.As(err, &ce) || ce.Provider != "gcp" || ce.Op != "create":
				t.Errorf("Create: %#v, want a *cloud.Error of provider gcp, op create", err)
			case !strings.Contains(err.Error(), tc.message):
				t.Errorf("Create: %v\nwant Google's message %q", err, tc.message)
			case strings.Contains(err.Error(), cloudtest.Token):
				t.Errorf("error shows the join token: %v", err)
			case cloud.IsRetryable(err) != tc.retryable:
				t.Errorf("IsRetryable(%v) = %v, want %v", err, !tc.retryable, tc.retryable)
			}
			if n := len(b.fake.Instances()); n != before {
				t.Errorf("%d instances after the failed Create, want %d", n, before)
			}
		})
	}
}

// TestGetDeleteErrors: a missing instance is ErrNotFound for Get and nil
// for Delete; a refused Delete keeps Google's message.
func TestGetDeleteErrors(t *testing.T) {
	b := newBed(t, gcefake.Options{})
	if _, err := b.cloud.Get(ctx(t), "zone-a/nope"); !errors.Is(err, cloud.ErrNotFound) ||
		!strings.Contains(err.Error(), "The resource 'projects/maestro-test/zones/zone-a/instances/nope' was not found") {
		t.Errorf("Get(zone-a/nope): %v, want ErrNotFound with Google's message", err)
	}
	if err := b.cloud.Delete(ctx(t), "zone-a/nope"); err != nil {
		t.Errorf("Delete(zone-a/nope): %v, want nil", err)
	}
	m, err := b.cloud.Create(ctx(t), request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	b.fake.FailNext("delete", http.StatusForbidden, "forbidden", "Required 'compute.instances.delete' permission for 'projects/maestro-test/zones/zone-a/instances/m1'")
	if err := b.cloud.Delete(ctx(t), m.ID); !errors.Is(err, cloud.ErrPermission) || !strings.Contains(err.Error(), "compute.instances.delete") {
		t.Errorf("refused Delete: %v, want ErrPermission with Google's message", err)
	}
	b.fake.FailNext("aggregatedList", http.StatusForbidden, "forbidden", "Required 'compute.instances.list' permission for 'projects/maestro-test'")
	if _, err := b.cloud.List(ctx(t), cloud.Filter{Cluster: "c1"}); !errors.Is(err, cloud.ErrPermission) {
		t.Errorf("refused List: %v, want ErrPermission", err)
	}
}

// TestZoneFallbackKey: after an insert failed for capacity, the same key
// in another zone is refused (Compute Engine would answer the requestId
// with the failed operation), and another key there succeeds, as the
// machine controller sends it.
func TestZoneFallbackKey(t *testing.T) {
	b := newBed(t, gcefake.Options{})
	b.fake.NoCapacity("zone-a")
	req := request("m1")
	if _, err := b.cloud.Create(ctx(t), req); !errors.Is(err, cloud.ErrCapacity) {
		t.Fatalf("Create in full zone-a: %v", err)
	}
	req.Zone = "zone-b"
	if _, err := b.cloud.Create(ctx(t), req); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "zone-a") {
		t.Fatalf("Create in zone-b with zone-a's key: %v, want ErrInvalid naming zone-a", err)
	}
	req.IdempotencyKey += "/zone-b"
	m, err := b.cloud.Create(ctx(t), req)
	if err != nil || m.Zone != "zone-b" {
		t.Fatalf("Create in zone-b with its own key = %+v, %v", m, err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]gcp.Options{
		"no project":    {},
		"bad label key": {Project: "p", Labels: map[string]string{"Team": "x"}},
		"reserved key":  {Project: "p", Labels: map[string]string{"maestro-pool": "x"}},
	} {
		if _, err := gcp.New(t.Context(), o); !errors.Is(err, cloud.ErrInvalid) {
			t.Errorf("%s: gcp.New: %v, want ErrInvalid", name, err)
		}
	}
}

// TestNameTakenByAnotherRequest: an instance of the machine's name that
// another request made is ErrInvalid while it lives, ErrTransient while it
// is going (a replaced machine whose instance is still stopping).
func TestNameTakenByAnotherRequest(t *testing.T) {
	b := newBed(t, gcefake.Options{PreemptionNotice: time.Minute})
	first := request("m1")
	first.Spot = true
	if _, err := b.cloud.Create(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	again := request("m1")
	again.IdempotencyKey = "another-key"
	if _, err := b.cloud.Create(ctx(t), again); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create of m1 under another key: %v, want ErrInvalid: already exists", err)
	}
	if err := b.fake.Preempt("m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.cloud.Create(ctx(t), again); !errors.Is(err, cloud.ErrTransient) || !strings.Contains(err.Error(), "still being deleted") {
		t.Fatalf("Create of m1 while the old one stops: %v, want ErrTransient", err)
	}
}
