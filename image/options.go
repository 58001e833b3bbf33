package image

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tether-sec/tether/image/internal/engineapi"
)

// ErrBadOption: an option is invalid or conflicts with another.
var ErrBadOption = errors.New("image: invalid option")

// Option configures Open and Scan.
type Option func(*options) error

type options struct {
	insecure  bool
	platform  *v1.Platform
	transport http.RoundTripper
	keychain  authn.Keychain
	// engineSocket is WithEngineSocket's address, "" for the default.
	engineSocket string
	engineMax    int64
	// github asks GitHub's API for attestations (WithGitHubAttestations).
	github *GitHubAttestations
}

// DefaultEngineMaxSize is the default of WithEngineMaxSize: 16 GiB.
const DefaultEngineMaxSize int64 = 16 << 30

func makeOptions(opts []Option) (*options, error) {
	o := &options{transport: remote.DefaultTransport, keychain: authn.DefaultKeychain, engineMax: DefaultEngineMaxSize}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithInsecure lets Open talk plain HTTP to any registry.
//
// Default: HTTPS only, except for registries on localhost, loopback (127.0.0.0/8, ::1)
// and private (RFC 1918) addresses, where plain HTTP is tried when HTTPS fails — the
// rule go-containerregistry applies. A registry with a self-signed certificate needs
// its CA in the system trust store, or a transport that trusts it (WithTransport).
// Layouts and archives ignore this option.
func WithInsecure() Option {
	return func(o *options) error {
		o.insecure = true
		return nil
	}
}

// WithPlatform restricts an image index to the manifests for one platform, given as
// os/arch[/variant] (e.g. "linux/arm64" or "linux/arm/v7"); a platform without a
// variant matches every variant. For a single image, Open fails when the image's
// config names another platform (an image whose config names none is kept).
//
// Default: every platform of an index.
func WithPlatform(platform string) Option {
	return func(o *options) error {
		bad := func(why string) error {
			return fmt.Errorf("%w: WithPlatform(%q): %s; use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8", ErrBadOption, platform, why)
		}
		if strings.Contains(platform, ":") {
			return bad("an OS version is not supported")
		}
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			return bad(err.Error())
		}
		if p.OS == "" || p.Architecture == "" {
			return bad("os and architecture are required")
		}
		if o.platform != nil && !o.platform.Equals(*p) {
			return bad("conflicts with WithPlatform(" + o.platform.String() + ")")
		}
		o.platform = p
		return nil
	}
}

// WithTransport sets the HTTP transport for registry requests; go-containerregistry
// still wraps it with retries and authentication.
//
// Default: remote.DefaultTransport (http.DefaultTransport's settings, proxy from the
// environment).
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		if t == nil {
			return fmt.Errorf("%w: WithTransport(nil)", ErrBadOption)
		}
		o.transport = t
		return nil
	}
}

// WithKeychain sets where registry credentials come from.
//
// Default: authn.DefaultKeychain (the Docker config: $DOCKER_CONFIG/config.json or
// ~/.docker/config.json, with its credential helpers), anonymous when it has none.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return fmt.Errorf("%w: WithKeychain(nil)", ErrBadOption)
		}
		o.keychain = k
		return nil
	}
}

// WithEngineSocket sets where the container engine of a docker: or podman: reference
// listens: a unix socket path ("/run/podman/podman.sock"), "unix:///PATH", or
// "tcp://HOST:PORT" for an engine that serves plain HTTP (TLS is not supported).
//
// Default: for docker:, DOCKER_HOST, else unix:///var/run/docker.sock; for podman:,
// CONTAINER_HOST, else $XDG_RUNTIME_DIR/podman/podman.sock when it exists, else
// unix:///run/podman/podman.sock. Other transports ignore this option.
func WithEngineSocket(socket string) Option {
	return func(o *options) error {
		if _, err := engineapi.ParseHost(socket); err != nil {
			return fmt.Errorf("%w: WithEngineSocket(%q): %v", ErrBadOption, socket, err)
		}
		if o.engineSocket != "" && o.engineSocket != socket {
			return fmt.Errorf("%w: WithEngineSocket(%q) conflicts with WithEngineSocket(%q)", ErrBadOption, socket, o.engineSocket)
		}
		o.engineSocket = socket
		return nil
	}
}

// WithEngineMaxSize caps the size in bytes of the `docker save` tarball Open reads
// from a container engine (docker:, podman:); Open fails with ErrEngine past it. The
// tarball is spooled to a temporary file (in os.TempDir, so under $TMPDIR) until
// Target.Close.
//
// Default: DefaultEngineMaxSize (16 GiB). Other transports ignore this option.
func WithEngineMaxSize(bytes int64) Option {
	return func(o *options) error {
		if bytes <= 0 {
			return fmt.Errorf("%w: WithEngineMaxSize(%d): the size must be positive", ErrBadOption, bytes)
		}
		o.engineMax = bytes
		return nil
	}
}
