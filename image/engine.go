package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tether-sec/tether/image/internal/engineapi"
)

// engine is one Open's conversation with a container engine: the API client, and
// what error messages need.
type engine struct {
	name string // "docker" or "podman"
	host engineapi.Host
	// tried lists the default sockets looked for and not found, for messages.
	tried  []string
	ref    string
	client *engineapi.Client
}

// newEngine finds the engine's socket: WithEngineSocket, else the environment, else
// the default paths.
func newEngine(r Ref, o *options) (*engine, error) {
	e := &engine{name: string(r.Transport), ref: r.String()}
	var err error
	if o.engineSocket != "" {
		e.host, err = engineapi.ParseHost(o.engineSocket)
	} else {
		e.host, e.tried, err = engineapi.Locate(e.name)
	}
	if err != nil {
		ee := e.err(ErrEngineUnavailable, err.Error(), err)
		var env *engineapi.EnvError
		if errors.As(err, &env) {
			ee.Socket = env.Value
		}
		return nil, ee
	}
	e.client = engineapi.New(e.host, userAgent)
	return e, nil
}

func (e *engine) err(kind error, reason string, err error) *EngineError {
	return &EngineError{Kind: kind, Engine: e.name, Socket: e.host.String(), Ref: e.ref, Reason: reason, Err: err}
}

// fail turns an error of the engine API into a typed one; what says what was being
// read, notFound is the kind a 404 gets.
func (e *engine) fail(ctx context.Context, err error, what string, notFound error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("image: reading %s: %w", e.ref, ctx.Err())
	}
	var se *engineapi.StatusError
	var ce *engineapi.ConnError
	switch {
	case errors.As(err, &se):
		kind := ErrEngine
		if se.Status == 404 && notFound != nil {
			kind = notFound
		}
		ee := e.err(kind, se.Error(), err)
		ee.StatusCode = se.Status
		return ee
	case errors.As(err, &ce):
		return e.unreachable(ce.Err)
	}
	return e.err(ErrEngine, "reading "+what+": "+err.Error(), err)
}

// unreachable says why the engine could not be reached.
func (e *engine) unreachable(err error) error {
	ee := e.err(ErrEngineUnavailable, err.Error(), err)
	var netErr net.Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ee.Reason = "the socket does not exist"
		if len(e.tried) > 0 {
			ee.Reason = "no socket there, nor at " + strings.Join(e.tried, ", ")
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		ee.Reason = "connection refused (nothing listens there)"
	case errors.Is(err, fs.ErrPermission):
		ee.Reason = "permission denied"
		ee.advice = "run tether as a user who may open the socket (for Docker, root or a member of the docker group), or point WithEngineSocket at one it may open"
	case errors.As(err, &netErr) && netErr.Timeout():
		ee.Reason = "timed out"
	}
	return ee
}

// inspect reads the image's record.
func (e *engine) inspect(ctx context.Context, image string) (*engineapi.Image, error) {
	if err := e.client.Negotiate(ctx); err != nil {
		return nil, e.fail(ctx, err, "the engine's version", nil)
	}
	rec, err := e.client.Inspect(ctx, image)
	if err != nil {
		return nil, e.fail(ctx, err, "the image's JSON record", ErrNotFound)
	}
	if !isImageID(rec.ID) {
		return nil, e.err(ErrEngine, fmt.Sprintf("the image's JSON record has no image ID (Id %q)", rec.ID), nil)
	}
	return rec, nil
}

// spool is a temporary copy of an engine's `docker save` export. Layers are read from
// it lazily, through open, until Target.Close removes it.
type spool struct {
	path string
	// cleanup removes the file once nothing can read layers from it, for a Target
	// that is never closed.
	cleanup runtime.Cleanup
}

func (s *spool) open() (io.ReadCloser, error) { return os.Open(s.path) }

// remove deletes the file now.
func (s *spool) remove() error {
	s.cleanup.Stop()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// export streams `docker save` of the image id into a temporary file of at most max
// bytes.
func (e *engine) export(ctx context.Context, id string, max int64) (*spool, error) {
	body, err := e.client.Export(ctx, id)
	if err != nil {
		return nil, e.fail(ctx, err, "the image's `docker save` export", ErrNotFound)
	}
	defer body.Close()
	f, err := os.CreateTemp("", "tether-"+e.name+"-*.tar")
	if err != nil {
		return nil, e.spoolError(err)
	}
	n, err := io.Copy(f, io.LimitReader(body, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		_ = os.Remove(f.Name())
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == f.Name() {
			return nil, e.spoolError(err)
		}
		return nil, e.fail(ctx, err, "the image's `docker save` export", ErrNotFound)
	case n > max:
		_ = os.Remove(f.Name())
		ee := e.err(ErrEngine, fmt.Sprintf("the image's `docker save` export is larger than %d bytes", max), nil)
		ee.advice = "raise the cap (WithEngineMaxSize), or read the image from its registry instead"
		return nil, ee
	}
	s := &spool{path: f.Name()}
	s.cleanup = runtime.AddCleanup(s, func(path string) { _ = os.Remove(path) }, s.path)
	return s, nil
}

func (e *engine) spoolError(err error) error {
	ee := e.err(ErrEngine, "writing the temporary copy of the image: "+err.Error(), err)
	ee.advice = "free space in " + os.TempDir() + " or point TMPDIR at a directory with room for the image"
	return ee
}

// openEngine reads an image a container engine holds: its record through
// GET /images/{name}/json, then its `docker save` export, spooled to a temporary file
// that Target.Close removes.
func openEngine(ctx context.Context, r Ref, o *options) (t *Target, err error) {
	c, err := newEngine(r, o)
	if err != nil {
		return nil, err
	}
	defer c.client.Close()
	rec, err := c.inspect(ctx, r.Image)
	if err != nil {
		return nil, err
	}
	// The record names the platform: no need to export an image WithPlatform rejects.
	if w := o.platform; w != nil && rec.OS != "" && rec.Architecture != "" && (rec.OS != w.OS || rec.Architecture != w.Architecture) {
		have := v1.Platform{OS: rec.OS, Architecture: rec.Architecture}
		return nil, &PlatformError{Ref: r.String(), Want: w.String(), Available: []string{have.String()}}
	}
	// Export by ID, so that the export is the image inspected even if the name moves.
	sp, err := c.export(ctx, rec.ID, o.engineMax)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = sp.remove()
		}
	}()
	m, err := tarball.LoadManifest(sp.open)
	if err != nil {
		return nil, c.err(ErrEngine, "the export has no readable manifest.json: "+err.Error(), err)
	}
	if len(m) != 1 {
		ee := c.err(ErrEngine, fmt.Sprintf("the export of %s holds %d images, not one", rec.ID, len(m)), nil)
		ee.advice = "for a multi-platform image in Docker's containerd image store, `docker save --platform OS/ARCH IMAGE -o FILE` and use docker-archive:FILE"
		return nil, ee
	}
	rd := &reader{
		source: DigestFromComputed,
		wrap: func(err error, what string) error {
			return c.err(ErrEngine, "reading "+what+" from the export: "+err.Error(), err)
		},
		refFor: func(string) string { return r.String() }, // an export holds no index
	}
	img, err := tarball.Image(sp.open, nil)
	if err != nil {
		return nil, rd.wrap(err, r.String())
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, rd.wrap(err, r.String())
	}
	t = &Target{Ref: r, MediaType: string(mt), Tags: named(rec.RepoTags), RepoDigests: named(rec.RepoDigests)}
	d, ok := engineDigest(r, rec.RepoDigests, "")
	if !ok && r.Transport == TransportPodman && len(rec.RepoDigests) > 1 {
		d, ok = engineDigest(r, rec.RepoDigests, c.client.PulledBy(ctx, rec.ID))
	}
	if ok {
		t.Digest, rd.source = d, DigestFromEngine
	} else {
		// The manifest is computed from the layers, hashing each (and compressing
		// them: an export stores them uncompressed).
		dig, err := img.Digest()
		if err != nil {
			return nil, rd.wrap(err, r.String())
		}
		t.Digest = dig.String()
	}
	if err := rd.finish(ctx, t, nil, img, o.platform); err != nil {
		return nil, err
	}
	t.release = func() error {
		if err := sp.remove(); err != nil {
			return fmt.Errorf("image: removing the temporary copy of %s: %w", r, err)
		}
		return nil
	}
	return t, nil
}

// named drops the "<none>:<none>" and "<none>@<none>" that older Docker lists for an
// untagged image.
func named(names []string) []string {
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "<none>") {
			out = append(out, n)
		}
	}
	return out
}

// engineDigest picks the registry manifest digest of an engine's image from its
// RepoDigests (REPO@DIGEST): the one digest recorded for the reference's repository,
// or when the reference names none of them (an image ID, a short name the engine
// resolved elsewhere), the one digest recorded for any. Podman records an image pulled
// through an index under both digests; pulledBy, the digest it was pulled by, is then
// set aside to leave the image's own. Podman's "localhost/" names of images built or
// loaded locally never came from a registry and are ignored. It reports false when no
// single digest remains.
func engineDigest(r Ref, repoDigests []string, pulledBy string) (string, bool) {
	type entry struct{ repo, digest string }
	var all []entry
	for _, s := range repoDigests {
		d, err := name.NewDigest(s)
		if err != nil || d.Context().RegistryStr() == "localhost" {
			continue
		}
		all = append(all, entry{d.Context().Name(), strings.ToLower(d.DigestStr())})
	}
	pick := all
	if r.Name != nil {
		want := r.Name.Context().Name()
		var same []entry
		for _, e := range all {
			if e.repo == want {
				same = append(same, e)
			}
		}
		if len(same) > 0 {
			pick = same
		}
	}
	var digests []string
	for _, e := range pick {
		digests = append(digests, e.digest)
	}
	slices.Sort(digests)
	digests = slices.Compact(digests)
	if len(digests) > 1 && pulledBy != "" {
		digests = slices.DeleteFunc(digests, func(d string) bool { return d == strings.ToLower(pulledBy) })
	}
	if len(digests) != 1 {
		return "", false
	}
	return digests[0], true
}
