package cloudtest

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// TestFakeConformance: the controllers' fake behaves as a cloud must.
func TestFakeConformance(t *testing.T) {
	Run(t, func(t *testing.T) cloud.Cloud { return NewFake() })
}
