package gcp_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
)

// TestRealGCP creates one small instance in a real project and deletes it.
// It runs only when MAESTRO_GCP_REAL_TEST=1 and Application Default
// Credentials are set up (GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth
// application-default login`), with
//
//	GOOGLE_CLOUD_PROJECT   the project (required)
//	MAESTRO_GCP_ZONE       the zone (default us-central1-a)
//	MAESTRO_GCP_MACHINE_TYPE  (default e2-micro)
//
// The instance's agent cannot join (its server address is a placeholder):
// the test checks the Compute Engine side only. It costs about a cent.
func TestRealGCP(t *testing.T) {
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if os.Getenv("MAESTRO_GCP_REAL_TEST") != "1" || project == "" {
		t.Skip("SKIPPED: TestRealGCP talks to Google Cloud: set MAESTRO_GCP_REAL_TEST=1, GOOGLE_CLOUD_PROJECT " +
			"(and MAESTRO_GCP_ZONE, MAESTRO_GCP_MACHINE_TYPE) with Application Default Credentials to run it")
	}
	zone := envOr("MAESTRO_GCP_ZONE", "us-central1-a")
	c, err := gcp.New(t.Context(), gcp.Options{Project: project, Zone: zone, MachineType: envOr("MAESTRO_GCP_MACHINE_TYPE", "e2-micro")})
	if err != nil {
		t.Fatalf("gcp.New: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	name := fmt.Sprintf("maestro-test-%d", time.Now().Unix())
	req := cloudtest.Request(name, "maestro-real-test", "p1")
	req.Zone = zone
	m, err := c.Create(ctx, req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Delete(context.Background(), m.ID); err != nil {
			t.Errorf("Delete(%s): %v: delete the instance by hand", m.ID, err)
		}
	})
	again, err := c.Create(ctx, req)
	if err != nil || again.ID != m.ID {
		t.Errorf("second Create = %s, %v; want %s", again.ID, err, m.ID)
	}
	ms, err := c.List(ctx, cloud.Filter{Cluster: "maestro-real-test"})
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID {
		t.Errorf("List = %+v, %v; want just %s", ms, err, m.ID)
	}
	if err := c.Delete(ctx, m.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, err := c.Get(ctx, m.ID); err == nil && got.State != cloud.StateTerminated {
		t.Errorf("Get after Delete: %+v", got)
	} else if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Errorf("Get after Delete: %v", err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
