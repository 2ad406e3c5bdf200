package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
)

// DefaultSchedulerName is the scheduler pods get when they name none.
const DefaultSchedulerName = "default-scheduler"

// DefaultWorkers is the default number of binding goroutines.
const DefaultWorkers = 64

// cleanupInterval is how often expired assumptions are looked for.
const cleanupInterval = time.Second

// Config configures a Scheduler.
type Config struct {
	// Client talks to the API; it is needed for the informers it creates,
	// the API binder and the PodScheduled status updates.
	Client *client.Client
	Log    *slog.Logger
	// SchedulerName selects the pods this scheduler handles: those naming
	// it in spec.schedulerName, or none ("" means DefaultSchedulerName).
	SchedulerName            string
	PercentageOfNodesToScore int32
	// Scoring is LeastAllocated (default) or MostAllocated.
	Scoring string
	Weights Weights
	// Workers bind pods and write statuses concurrently (DefaultWorkers).
	Workers int
	// AssumeTTL bounds how long an assumed pod waits for the watch after
	// its binding (DefaultAssumeTTL).
	AssumeTTL time.Duration
	// Binder writes bindings; nil means an APIBinder on Client.
	Binder Binder
	// PodInformer and NodeInformer may be shared with other components;
	// nil means the scheduler creates and runs its own.
	PodInformer  *client.Informer[*api.Pod]
	NodeInformer *client.Informer[*api.Node]
	// VolumeInformer may be shared too; nil means the scheduler runs its
	// own when it has a Client (without either, volumes tie pods to no
	// node).
	VolumeInformer *client.Informer[*api.PersistentVolume]
	// Queue tunes backoff and the unschedulable flush (tests).
	Queue QueueOptions
	// Recorder writes the FailedScheduling events; nil means the
	// scheduler runs its own on Client (none without a Client).
	Recorder *record.Recorder
}

// Scheduler places pending pods on nodes. See the package documentation
// for the data flow.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	cache    *Cache
	queue    *Queue
	pipeline *Pipeline
	snapshot *Snapshot
	volumes  *VolumeBook
	binder   Binder
	jobs     chan func(context.Context)
	// recorder writes FailedScheduling events (nil: none); ownRecorder
	// says Run must run it.
	recorder    *record.Recorder
	ownRecorder bool
	failed      eventLimiter
}

// New validates the configuration and builds a scheduler; Run starts it.
func New(cfg Config) (*Scheduler, error) {
	p, err := NewPipeline(PipelineConfig{
		PercentageOfNodesToScore: cfg.PercentageOfNodesToScore,
		Scoring:                  cfg.Scoring,
		Weights:                  cfg.Weights,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = DefaultSchedulerName
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Binder == nil {
		if cfg.Client == nil {
			return nil, errors.New("scheduler: a Client or a Binder is required")
		}
		cfg.Binder = NewAPIBinder(cfg.Client)
	}
	if cfg.Client == nil && (cfg.PodInformer == nil || cfg.NodeInformer == nil) {
		return nil, errors.New("scheduler: without a Client, both informers must be given")
	}
	log := cfg.Log.With("component", "scheduler")
	volumes := NewVolumeBook()
	rec, ownRec := cfg.Recorder, false
	if rec == nil && cfg.Client != nil {
		rec, ownRec = record.New(cfg.Client, cfg.SchedulerName, log), true
	}
	return &Scheduler{
		recorder: rec, ownRecorder: ownRec,
		cfg:      cfg,
		log:      log,
		cache:    NewCache(CacheOptions{AssumeTTL: cfg.AssumeTTL, Log: log}),
		queue:    NewQueue(cfg.Queue),
		pipeline: p,
		snapshot: &Snapshot{volumes: volumes},
		volumes:  volumes,
		binder:   cfg.Binder,
		jobs:     make(chan func(context.Context), 1024),
	}, nil
}

// Cache exposes the scheduler's cache (read-only use: previews, debugging).
func (s *Scheduler) Cache() *Cache { return s.cache }

// Preview answers "where would these pods go?" against the scheduler's
// current view, with its scoring configuration, binding nothing.
func (s *Scheduler) Preview(pods []*api.Pod) []Placement {
	p, err := NewPipeline(PipelineConfig{
		PercentageOfNodesToScore: s.cfg.PercentageOfNodesToScore,
		Scoring:                  s.cfg.Scoring,
		Weights:                  s.cfg.Weights,
		Seed:                     previewSeed,
	})
	if err != nil {
		panic(err) // New accepted the same configuration
	}
	snap := s.cache.Snapshot()
	snap.volumes = s.volumes
	return p.Preview(snap, pods)
}

// Run watches pods and nodes and schedules until ctx ends. It returns
// nil after a clean shutdown, once every goroutine it started has ended.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	pods, nodes := s.cfg.PodInformer, s.cfg.NodeInformer
	ownPods, ownNodes := pods == nil, nodes == nil
	if ownNodes {
		nodes = client.NewInformer(s.cfg.Client.Nodes(), client.ListOptions{}, client.WithLogger(s.log))
	}
	if ownPods {
		pods = client.NewInformer(s.cfg.Client.Pods(""), client.ListOptions{}, client.WithLogger(s.log))
	}
	vols, ownVols := s.cfg.VolumeInformer, s.cfg.VolumeInformer == nil && s.cfg.Client != nil
	if ownVols {
		vols = client.NewInformer(s.cfg.Client.Volumes(""), client.ListOptions{}, client.WithLogger(s.log))
	}
	// Handlers go in before our own informers start, so no event is
	// missed; a shared informer that already runs replays its cache as adds.
	nodes.AddHandler(s.nodeHandler())
	pods.AddHandler(s.podHandler())
	if vols != nil {
		vols.AddHandler(s.volumeHandler())
	}
	if ownNodes {
		wg.Go(func() { nodes.Run(ctx) })
	}
	if ownPods {
		wg.Go(func() { pods.Run(ctx) })
	}
	if ownVols {
		wg.Go(func() { vols.Run(ctx) })
	}
	// Scheduling before the caches are loaded would place pods as if the
	// cluster were empty (and their volumes on no node).
	if !nodes.WaitForSync(ctx) || !pods.WaitForSync(ctx) || vols != nil && !vols.WaitForSync(ctx) {
		return nil
	}
	if s.ownRecorder {
		wg.Go(func() { s.recorder.Run(ctx) })
	}
	s.log.Info("scheduler started", "scheduler", s.cfg.SchedulerName)
	s.start(ctx, &wg)
	<-ctx.Done()
	s.queue.Close()
	return nil
}

// start runs the binding workers, the expiry loop and the scheduling loop.
func (s *Scheduler) start(ctx context.Context, wg *sync.WaitGroup) {
	for range s.cfg.Workers {
		wg.Go(func() { s.worker(ctx) })
	}
	wg.Go(func() { s.cleanupLoop(ctx) })
	wg.Go(func() {
		for s.scheduleOne(ctx) {
		}
	})
}

func (s *Scheduler) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-s.jobs:
			job(ctx)
		}
	}
}

// dispatch hands I/O to the workers, keeping it off the scheduling loop.
func (s *Scheduler) dispatch(ctx context.Context, job func(context.Context)) {
	select {
	case s.jobs <- job:
	case <-ctx.Done():
	}
}

func (s *Scheduler) cleanupLoop(ctx context.Context) {
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.failed.prune(now)
			if expired := s.cache.CleanupExpired(); len(expired) > 0 {
				for _, key := range expired {
					s.log.Warn("assumed pod expired without being confirmed by the watch", "pod", key)
				}
				s.queue.MoveAllToActive(FreedReasons)
			}
		}
	}
}

// scheduleOne runs one scheduling cycle: snapshot, pipeline, then either
// assume and bind asynchronously, or park the pod as unschedulable. It
// reports false when the loop should stop.
func (s *Scheduler) scheduleOne(ctx context.Context) bool {
	qp, err := s.queue.Pop(ctx)
	if err != nil {
		return false
	}
	pi := s.queue.Latest(qp)
	if s.cache.HasPod(pi.Key) {
		// Already placed (a stale event re-queued it): nothing to do.
		s.queue.Done(qp)
		return true
	}
	s.cache.UpdateSnapshot(s.snapshot)
	res := s.pipeline.Schedule(s.snapshot, pi)
	if !res.Fits() {
		s.queue.AddUnschedulable(qp, res.Diagnosis.Reasons())
		msg := res.Diagnosis.Message()
		if s.log.Enabled(ctx, slog.LevelDebug) {
			s.log.Debug("pod is unschedulable", "pod", pi.Key, "reason", msg)
		}
		if s.cfg.Client != nil && !reportedUnschedulable(pi.Pod, msg) {
			s.dispatch(ctx, func(ctx context.Context) { s.reportUnschedulable(ctx, pi.Pod, msg) })
		}
		if s.recorder != nil && s.failed.allow(pi.Key, msg, time.Now()) {
			s.recorder.Eventf(pi.Pod, api.EventWarning, EventFailedScheduling, "%s", msg)
		}
		return true
	}
	if err := s.cache.AssumePod(pi, res.Node); err != nil {
		s.log.Error("assuming pod failed", "pod", pi.Key, "node", res.Node, "err", err)
		s.queue.AddBackoff(qp)
		return true
	}
	s.queue.Binding(qp)
	node := res.Node
	vols := s.volumes.assume(pi, node)
	s.dispatch(ctx, func(ctx context.Context) { s.bind(ctx, qp, node, vols) })
	return true
}

// bind places the pod's new volumes, writes the binding and settles the
// assumptions either way (vols: the volume placements assumed).
func (s *Scheduler) bind(ctx context.Context, qp *QueuedPod, node string, vols []string) {
	pi := s.queue.Latest(qp) // the newest resourceVersion the watch brought
	err := s.bindVolumes(ctx, pi, node)
	if err == nil {
		err = s.binder.Bind(ctx, pi.Pod, node)
	}
	if err != nil {
		s.volumes.forget(vols)
	}
	switch {
	case err == nil:
		s.cache.FinishBinding(pi.Key)
		s.queue.Done(qp)
		if s.log.Enabled(ctx, slog.LevelDebug) { // the arguments would allocate on the hot path
			s.log.Debug("pod bound", "pod", pi.Key, "node", node)
		}
	case errors.Is(err, ErrAlreadyBound), errors.Is(err, ErrPodGone):
		s.log.Debug("binding skipped", "pod", pi.Key, "node", node, "err", err)
		s.forget(pi.Key)
		s.queue.Done(qp)
	default:
		if ctx.Err() == nil {
			s.log.Warn("binding failed; retrying", "pod", pi.Key, "node", node, "err", err)
		}
		s.forget(pi.Key)
		s.queue.AddBackoff(qp)
	}
}

// forget drops an assumption; the space it held may let others fit.
func (s *Scheduler) forget(key string) {
	if s.cache.ForgetPod(key) {
		s.queue.MoveAllToActive(FreedReasons)
	}
}

// reportedUnschedulable reports whether the pod already carries exactly
// this PodScheduled=False condition, so an unchanged verdict is not
// written again.
func reportedUnschedulable(p *api.Pod, msg string) bool {
	c := api.FindCondition(p.Status.Conditions, api.PodScheduled)
	return c != nil && c.Status == api.ConditionFalse && c.Reason == api.ReasonUnschedulable && c.Message == msg
}

// reportUnschedulable sets PodScheduled=False with the counted reasons.
// A conflict means the pod changed; it is re-read once and the write
// retried unless the pod got bound or already says the same.
func (s *Scheduler) reportUnschedulable(ctx context.Context, pod *api.Pod, msg string) {
	pods := s.cfg.Client.Pods(pod.Namespace)
	for attempt := 0; ; attempt++ {
		if pod.Spec.NodeName != "" || reportedUnschedulable(pod, msg) {
			return
		}
		upd := *pod
		upd.Status.Conditions = slices.Clone(pod.Status.Conditions)
		api.SetCondition(&upd.Status.Conditions, api.Condition{
			Type: api.PodScheduled, Status: api.ConditionFalse, Reason: api.ReasonUnschedulable, Message: msg,
		}, time.Now())
		got, err := pods.UpdateStatus(ctx, &upd)
		if err == nil {
			// Hand the new resourceVersion to the queue now rather than
			// when the watch brings it, so a binding that follows soon
			// does not fail its compare-and-swap on our own write.
			if pi, err := NewPodInfo(got); err == nil {
				s.queue.Refresh(pi)
			}
			return
		}
		if api.IsNotFound(err) || ctx.Err() != nil {
			return
		}
		if !api.IsConflict(err) || attempt > 0 {
			s.log.Warn("recording unschedulable status failed", "pod", pod.Key(), "err", fmt.Errorf("updating status: %w", err))
			return
		}
		if pod, err = pods.Get(ctx, pod.Name); err != nil {
			if !api.IsNotFound(err) {
				s.log.Warn("re-reading pod failed", "pod", upd.Key(), "err", err)
			}
			return
		}
	}
}
