package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-sec/tether/graph"
	"github.com/tether-sec/tether/image"
	"github.com/tether-sec/tether/lineage"
	"github.com/tether-sec/tether/runtime"
	"github.com/tether-sec/tether/source"
	"github.com/tether-sec/tether/store"
)

func newScanCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "scan",
		Short: "Collect facts from a repository, an image or a cluster into the graph store",
		Long: `Collect facts into the graph store. Scanning the same thing twice changes nothing;
each scan is one transaction, so an interrupted scan leaves the store as it was.
After each scan tether re-resolves lineage (image → commit → Dockerfile).`,
	}
	c.AddCommand(newScanRepoCmd(g), newScanImageCmd(g), newScanK8sCmd(g))
	return c
}

type scanOutput struct {
	Source string             `json:"source"`
	Target string             `json:"target"`
	Nodes  int                `json:"nodes"`
	Edges  int                `json:"edges"`
	Result store.IngestResult `json:"result"`
	Links  store.IngestResult `json:"lineage"`
}

// ingest writes a collector's batch, re-resolves lineage and reports what changed.
func ingest(ctx context.Context, g *globals, out *outputFlag, b *graph.Batch) error {
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return ingestInto(ctx, g, st, out.value, b)
}

func ingestInto(ctx context.Context, g *globals, st store.Store, format string, b *graph.Batch) error {
	res, err := st.Ingest(ctx, b)
	if err != nil {
		return fmt.Errorf("store %s scan of %s: %w", b.Source, b.Target, err)
	}
	links, err := resolveLineage(ctx, st)
	if err != nil {
		return err
	}
	o := scanOutput{Source: b.Source, Target: b.Target, Nodes: len(b.Nodes), Edges: len(b.Edges), Result: res, Links: links}
	if format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(o)
	}
	g.say("scanned %s %s: %d nodes (%d new, %d changed), %d edges (%d new, %d changed); lineage: %d new links",
		b.Source, b.Target, o.Nodes, res.NodesAdded, res.NodesChanged, o.Edges, res.EdgesAdded, res.EdgesChanged, links.EdgesAdded)
	return nil
}

func resolveLineage(ctx context.Context, st store.Store) (store.IngestResult, error) {
	lb, err := lineage.Resolve(ctx, st, time.Now())
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("resolve lineage: %w", err)
	}
	if len(lb.Nodes) == 0 && len(lb.Edges) == 0 {
		return store.IngestResult{}, nil
	}
	res, err := st.Ingest(ctx, lb)
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("store lineage: %w", err)
	}
	return res, nil
}

func newScanRepoCmd(g *globals) *cobra.Command {
	var maxCommits int
	c := &cobra.Command{
		Use:   "repo PATH",
		Short: "Index a git repository: commits, files, Dockerfiles, CODEOWNERS, CI workflows, and its blob index for lineage",
		Example: `  tether scan repo .
  tether scan repo ~/src/payments-api --max-commits 500`,
		Args: args("PATH"),
	}
	out := addOutputFlag(c, "table", "json")
	c.Flags().IntVar(&maxCommits, "max-commits", 0, "index at most this many commits (0: all)")
	c.RunE = func(c *cobra.Command, args []string) error {
		ctx := c.Context()
		opts := source.Options{MaxCommits: maxCommits, Logger: g.logger()}
		b, err := source.ScanRepo(ctx, args[0], opts)
		if err != nil {
			return err
		}
		st, err := g.openStore(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		return ingestRepo(ctx, g, st, out.value, args[0], opts, b)
	}
	return c
}

// ingestRepo brings the repository's blob index up to date and ingests its
// scan: the index first, since lineage, re-resolved after the ingest, reads it.
func ingestRepo(ctx context.Context, g *globals, st store.Store, format, path string, opts source.Options, b *graph.Batch) error {
	is, err := source.IndexBlobs(ctx, path, st, opts)
	if err != nil {
		return err
	}
	g.logger().Debug("blob index", "repo", is.Repo, "commits", is.Commits, "indexed", is.Indexed, "changes", is.Changes, "took", is.Took)
	return ingestInto(ctx, g, st, format, b)
}

// imageFlags are the flags of every command that opens an image.
type imageFlags struct {
	insecure     bool
	platform     string
	engineSocket string
}

func (f *imageFlags) add(c *cobra.Command, platformHelp string) {
	c.Flags().BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS for the registry")
	c.Flags().StringVar(&f.platform, "platform", "", platformHelp)
	c.Flags().StringVar(&f.engineSocket, "engine-socket", "", "the container engine's socket for docker:/podman: (unix:///PATH or tcp://HOST:PORT)")
}

func (f *imageFlags) options() []image.Option {
	var opts []image.Option
	if f.insecure {
		opts = append(opts, image.WithInsecure())
	}
	if f.platform != "" {
		opts = append(opts, image.WithPlatform(f.platform))
	}
	if f.engineSocket != "" {
		opts = append(opts, image.WithEngineSocket(f.engineSocket))
	}
	return opts
}

// imageRefHelp lists the image references every image command takes.
const imageRefHelp = `  registry.example.com/app:1.0      an image in a registry (credentials from ~/.docker/config.json)
  registry.example.com/app@sha256:…  the same, by digest
  oci:DIR[:TAG|@DIGEST]             an OCI image layout directory
  docker-archive:FILE               a 'docker save' tarball
  docker:IMAGE                      an image the local Docker engine holds (socket: DOCKER_HOST,
                                    default unix:///var/run/docker.sock)
  podman:IMAGE                      an image the local Podman holds, through its API service (socket:
                                    CONTAINER_HOST, $XDG_RUNTIME_DIR/podman/podman.sock, /run/podman/podman.sock);
                                    start it with 'podman system service --time=0 unix:///run/podman/podman.sock'`

func newScanImageCmd(g *globals) *cobra.Command {
	var f imageFlags
	c := &cobra.Command{
		Use:   "image REF",
		Short: "Index a container image: manifest digest, platforms, config, history, labels, layers, attestations, and its files for lineage",
		Long:  "Index a container image. REF is one of:\n" + imageRefHelp,
		Example: `  tether scan image ghcr.io/acme/payments-api:1.4.2
  tether scan image oci:./build/oci
  tether scan image docker-archive:app.tar
  tether scan image podman:localhost/app:dev --engine-socket unix:///run/user/1000/podman/podman.sock`,
		Args: args("REF"),
	}
	out := addOutputFlag(c, "table", "json")
	f.add(c, "only this platform of a multi-platform image (os/arch[/variant])")
	var gh image.GitHubAttestations
	var ghOn bool
	c.Flags().BoolVar(&ghOn, "github-attestations", false, "also ask GitHub's API for the image's artifact attestations (token from GITHUB_TOKEN)")
	c.Flags().StringSliceVar(&gh.Orgs, "github-org", nil, "with --github-attestations: an organization whose attestations to search (repeatable; ghcr.io images are looked up in their own repository)")
	c.Flags().StringVar(&gh.API, "github-api", "https://api.github.com", "with --github-attestations: the API root (GitHub Enterprise Server: https://HOST/api/v3)")
	c.RunE = func(c *cobra.Command, args []string) error {
		ctx := c.Context()
		opts := f.options()
		if ghOn {
			gh.Token = os.Getenv("GITHUB_TOKEN")
			opts = append(opts, image.WithGitHubAttestations(gh))
		}
		st, err := g.openStore(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		return ingestImage(ctx, g, st, out.value, args[0], opts...)
	}
	return c
}

func newScanK8sCmd(g *globals) *cobra.Command {
	var snapshot, cluster, kubeconfig, kubeContext string
	var watch bool
	var resync time.Duration
	c := &cobra.Command{
		Use:   "k8s [--snapshot FILE | --kubeconfig FILE --context NAME]",
		Short: "Index what runs in a Kubernetes cluster: pods, containers, running image digests, services",
		Long: `Index a Kubernetes cluster: its pods (with their owners, containers, security
context and the image digest each container runs) and services.

Live, through the API server, with the kubeconfig kubectl would use (--kubeconfig,
else $KUBECONFIG, else ~/.kube/config; --context, else the current one; inside a pod,
its service account). The identity needs get/list on pods and services in all
namespaces (and on ReplicaSets, Deployments, StatefulSets, DaemonSets, Jobs and
CronJobs for the owner chain). The cluster is named after the context unless --cluster
says otherwise. With --watch it keeps watching and writes each change as it happens
(and the whole cluster every --resync), so the graph records what ran when.

Or offline, from a snapshot made with
  kubectl get pods,services -A -o json > FILE`,
		Example: `  tether scan k8s --context prod-eu-1
  tether scan k8s --context prod-eu-1 --watch      # record every change until interrupted
  kubectl get pods,services -A -o json > prod.json
  tether scan k8s --snapshot prod.json --cluster prod-eu-1`,
		Args: args(),
	}
	out := addOutputFlag(c, "table", "json")
	c.Flags().StringVar(&snapshot, "snapshot", "", "a 'kubectl get pods,services -o json' dump (JSON or YAML; - for stdin) instead of the live cluster")
	c.Flags().StringVar(&cluster, "cluster", "", "the cluster's name in the graph (default: the kubeconfig context, or \"default\" for a snapshot)")
	c.Flags().StringVar(&kubeconfig, "kubeconfig", "", "the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	c.Flags().StringVar(&kubeContext, "context", "", "the kubeconfig context (default: the current one)")
	c.Flags().BoolVar(&watch, "watch", false, "keep watching the live cluster and record each change as it happens, until interrupted")
	c.Flags().DurationVar(&resync, "resync", 10*time.Minute, "with --watch: re-read the whole cluster this often, so that what still runs is seen again")
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx := c.Context()
		if snapshot == "" {
			cfg, name, err := runtime.KubeConfig(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			ko := runtime.K8sOptions{Cluster: cmp.Or(cluster, name), Source: cfg.Host, Logger: g.logger()}
			if watch {
				st, err := g.openStore(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				g.say("watching %s (cluster %s); interrupt to stop", cfg.Host, ko.Cluster)
				return runtime.WatchK8s(ctx, cfg, runtime.WatchOptions{K8sOptions: ko, Resync: resync}, func(b *graph.Batch) error {
					return ingestInto(ctx, g, st, out.value, b)
				})
			}
			b, err := runtime.ReadK8sLive(ctx, cfg, ko)
			if err != nil {
				return err
			}
			return ingest(ctx, g, out, b)
		}
		if kubeconfig != "" || kubeContext != "" || watch {
			return fmt.Errorf("--snapshot reads a file: it takes no --kubeconfig, --context or --watch")
		}
		f := os.Stdin
		if snapshot != "-" {
			var err error
			if f, err = os.Open(snapshot); err != nil {
				return fmt.Errorf("open snapshot: %w", err)
			}
			defer f.Close()
		}
		b, err := runtime.ReadK8sSnapshot(ctx, f, runtime.K8sOptions{Cluster: cmp.Or(cluster, "default"), Source: snapshot})
		if err != nil {
			return err
		}
		return ingest(ctx, g, out, b)
	}
	return c
}

// ingestImage opens an image, stores the files of each of its images' own
// layers for lineage's content match, and ingests its facts.
func ingestImage(ctx context.Context, g *globals, st store.Store, format, ref string, opts ...image.Option) error {
	t, err := image.Open(ctx, ref, opts...)
	if err != nil {
		return err
	}
	defer t.Close()
	for _, im := range t.Images {
		if err := putImageFiles(ctx, g, st, im); err != nil {
			return err
		}
	}
	return ingestInto(ctx, g, st, format, t.Batch(time.Now()))
}

// putImageFiles stores the git blob hashes of the files the image's own build
// added (the layers after its base image) for lineage's content match.
func putImageFiles(ctx context.Context, g *globals, st store.Store, im image.Image) error {
	layers := 0
	if im.Manifest != nil {
		layers = len(im.Manifest.Layers)
	}
	from := image.AppLayerStart(im.Config, layers)
	files, err := image.LayerFiles(ctx, im.Image, image.FilesOptions{FromLayer: from})
	if err != nil {
		return fmt.Errorf("reading the files of %s: %w", im.Reference, err)
	}
	doc, err := lineage.EncodeImageFiles(files)
	if err != nil {
		return err
	}
	g.logger().Debug("image files", "image", im.Digest, "from_layer", from, "layers", layers, "files", len(files))
	return st.PutDocument(ctx, lineage.ImageFilesKind, im.Digest, doc)
}
