package runtime

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/tether-sec/tether/graph"
)

// WatchOptions configure WatchK8s.
type WatchOptions struct {
	K8sOptions
	// Resync re-reads the whole cluster this often, so that what still runs is
	// seen again (its last_seen moves on) even when nothing about it changed.
	// Default 10 minutes.
	Resync time.Duration
	// Flush is how long changes are gathered before they are written as one
	// batch. Default 1 second.
	Flush time.Duration
}

// WatchK8s records what runs in a cluster over time: it starts informers on
// pods and services, then writes one full listing (as ReadK8sLive), then a batch
// for the pods and services that change, as the API server reports them, and a full listing every Resync. Each
// batch goes to sink with the time it was observed, so the graph answers what
// ran when: a pod that is gone keeps the last time it was seen. It returns when
// ctx ends (nil) or sink fails.
func WatchK8s(ctx context.Context, cfg *rest.Config, opts WatchOptions, sink func(*graph.Batch) error) error {
	opts.K8sOptions = opts.K8sOptions.withDefaults()
	if opts.Resync <= 0 {
		opts.Resync = 10 * time.Minute
	}
	if opts.Flush <= 0 {
		opts.Flush = time.Second
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCluster, err)
	}
	// The identities of the last full listing go into every change batch, so
	// that a pod's privileges and IAM role stay on it.
	var last *snapshot
	full := func() error {
		snap, err := listLive(ctx, cfg, opts.K8sOptions)
		if err != nil {
			return err
		}
		last = snap
		b, err := buildBatch(ctx, snap, opts.K8sOptions)
		if err != nil {
			return err
		}
		return sink(b)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	pods := factory.Core().V1().Pods()
	services := factory.Core().V1().Services()
	var mu sync.Mutex
	changed := map[string]bool{} // namespaces with a changed pod or service
	mark := func(obj any) {
		var ns string
		switch o := obj.(type) {
		case *corev1.Pod:
			ns = o.Namespace
		case *corev1.Service:
			ns = o.Namespace
		default:
			return
		}
		mu.Lock()
		changed[ns] = true
		mu.Unlock()
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: mark, UpdateFunc: func(_, o any) { mark(o) }}
	if _, err := pods.Informer().AddEventHandler(h); err != nil {
		return err
	}
	if _, err := services.Informer().AddEventHandler(h); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			return fmt.Errorf("%w: %s: the %v watch did not sync", ErrCluster, cfg.Host, typ)
		}
	}
	// The informers' initial adds are all in the full listing that follows;
	// what changes from here on is marked again, so nothing falls between the
	// listing and the watch.
	mu.Lock()
	clear(changed)
	mu.Unlock()
	if err := full(); err != nil {
		return err
	}

	flush := time.NewTicker(opts.Flush)
	defer flush.Stop()
	resync := time.NewTicker(opts.Resync)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-resync.C:
			if err := full(); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		case <-flush.C:
			mu.Lock()
			nss := make([]string, 0, len(changed))
			for ns := range changed {
				nss = append(nss, ns)
			}
			clear(changed)
			mu.Unlock()
			if len(nss) == 0 {
				continue
			}
			slices.Sort(nss)
			snap := &snapshot{skipped: map[string]int{}, nodes: last.nodes, ingresses: last.ingresses, networkPolicies: last.networkPolicies, serviceAccounts: last.serviceAccounts, roles: last.roles,
				clusterRoles: last.clusterRoles, roleBindings: last.roleBindings, clusterRoleBindings: last.clusterRoleBindings}
			for _, ns := range nss {
				ps, err := pods.Lister().Pods(ns).List(labels.Everything())
				if err != nil {
					return err
				}
				for _, p := range ps {
					snap.pods = append(snap.pods, *p.DeepCopy())
				}
				ss, err := services.Lister().Services(ns).List(labels.Everything())
				if err != nil {
					return err
				}
				for _, s := range ss {
					snap.services = append(snap.services, *s.DeepCopy())
				}
			}
			o := opts.K8sOptions
			b, err := buildBatch(ctx, snap, o)
			if err != nil {
				return err
			}
			opts.Logger.Debug("runtime: watch batch", "namespaces", nss, "pods", len(snap.pods), "services", len(snap.services))
			if err := sink(b); err != nil {
				return err
			}
		}
	}
}
