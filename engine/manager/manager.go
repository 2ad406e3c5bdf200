// Package manager runs the cluster's control loops — the scheduler and
// every controller — on one set of shared informers. The control plane runs
// it on the elected leader only (see controlplane's leader election); it is
// a separate package so that controllers never depend on the control plane
// that hosts them.
package manager

import (
	"context"
	"log/slog"
	"sync"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/autoscaler"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/engine/controller/machine"
	"github.com/maestro-dev/maestro/engine/controller/nodeipam"
	"github.com/maestro-dev/maestro/engine/controller/nodepool"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

// Config tunes the control loops.
type Config struct {
	Controllers controller.Config
	// Scheduler settings; Client, Log and informers are filled in.
	Scheduler scheduler.Config
	// DisableScheduler leaves pods unbound (an external scheduler binds them).
	DisableScheduler bool
	// Machines configures the node pool and machine controllers, which run
	// only when Machines.Clouds is set.
	Machines machine.Config
	// Autoscaler configures the horizontal autoscaler; its Metrics source
	// is the metrics pipeline (nil: autoscalers report no metrics pipeline).
	Autoscaler autoscaler.Config
	// ClusterAutoscaler tunes the cluster autoscaler, which runs with the
	// node pool controller (it acts only on pools with spec.autoscaling).
	ClusterAutoscaler clusterautoscaler.Config
}

// Run runs the scheduler and controllers until ctx ends.
func Run(ctx context.Context, c *client.Client, log *slog.Logger, cfg Config) error {
	if log == nil {
		log = slog.Default()
	}
	inf := controller.NewInformers(c, log)
	d := controller.Deps{
		Client:    c,
		Informers: inf,
		Recorder:  record.New(c, "controller-manager", log),
		Log:       log,
		Config:    cfg.Controllers,
	}
	// Constructors register their informer handlers, so they all come
	// before the informers start.
	controllers := []controller.Runnable{
		controller.NewReplicaSetController(d),
		controller.NewDeploymentController(d),
		controller.NewEndpointsController(d),
		controller.NewServiceController(d),
		controller.NewNodeLifecycleController(d),
		controller.NewGarbageCollector(d),
		controller.NewNamespaceController(d),
		controller.NewVolumeController(d),
		nodeipam.New(d),
		autoscaler.New(d, autoscalerConfig(cfg.Autoscaler, c)),
	}
	if cfg.Machines.Clouds != nil {
		controllers = append(controllers, nodepool.New(d), machine.New(d, cfg.Machines), clusterautoscaler.New(d, cfg.ClusterAutoscaler))
	}
	var sched *scheduler.Scheduler
	if !cfg.DisableScheduler {
		sc := cfg.Scheduler
		sc.Client, sc.Log = c, log.With("component", "scheduler")
		sc.PodInformer, sc.NodeInformer, sc.VolumeInformer = inf.Pods(), inf.Nodes(), inf.Volumes()
		var err error
		if sched, err = scheduler.New(sc); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	if sched != nil {
		wg.Go(func() { _ = sched.Run(ctx) })
	}
	wg.Go(func() { controller.RunAll(ctx, d, controllers) })
	wg.Wait()
	return nil
}

// autoscalerConfig is cfg with the metrics pipeline as its usage source
// unless one is set.
func autoscalerConfig(cfg autoscaler.Config, c *client.Client) autoscaler.Config {
	if cfg.Metrics == nil {
		cfg.Metrics = ClientMetrics{C: c}
	}
	return cfg
}
