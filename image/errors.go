package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Sentinel errors. Every error Open, Scan and Target.Batch return for a failure a user
// can act on matches one of them (errors.Is); the typed errors below carry the detail.
var (
	// ErrBadReference: the reference does not parse (RefError).
	ErrBadReference = errors.New("image: malformed reference")
	// ErrUnreachable: the registry did not answer (RegistryError).
	ErrUnreachable = errors.New("image: registry unreachable")
	// ErrNotFound: the registry, layout, archive or container engine has no such image
	// (RegistryError, NotFoundError, EngineError).
	ErrNotFound = errors.New("image: not found")
	// ErrUnauthorized: the registry refused the credentials, or asked for some
	// (RegistryError).
	ErrUnauthorized = errors.New("image: unauthorized")
	// ErrRegistry: the registry answered with another error (RegistryError).
	ErrRegistry = errors.New("image: registry error")
	// ErrBadManifest: a manifest, index or config is not JSON, has an unknown media
	// type or does not match its digest (ManifestError).
	ErrBadManifest = errors.New("image: malformed manifest")
	// ErrNotLayout: the directory is missing or is not an OCI image layout (LayoutError).
	ErrNotLayout = errors.New("image: not an OCI layout")
	// ErrNotArchive: the file is missing or is not a docker-archive tarball
	// (ArchiveError).
	ErrNotArchive = errors.New("image: not a docker-archive")
	// ErrAmbiguous: a layout or archive holds several images and the reference names
	// none (AmbiguousError).
	ErrAmbiguous = errors.New("image: ambiguous reference")
	// ErrPlatformNotFound: WithPlatform names a platform the image does not have
	// (PlatformError).
	ErrPlatformNotFound = errors.New("image: platform not found")
	// ErrEngineUnavailable: the container engine's socket (docker:, podman:) is
	// missing, refuses connections or may not be opened (EngineError).
	ErrEngineUnavailable = errors.New("image: container engine unavailable")
	// ErrEngine: the container engine answered with another error, or its image is
	// larger than WithEngineMaxSize allows (EngineError).
	ErrEngine = errors.New("image: container engine error")
)

const refSyntax = "use REGISTRY/REPO[:TAG|@DIGEST], oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:REPO:TAG], docker:IMAGE or podman:IMAGE"

// RefError says why a reference does not parse. It matches ErrBadReference.
type RefError struct {
	Ref    string
	Reason string
}

func badRef(ref, reason string) *RefError { return &RefError{Ref: ref, Reason: reason} }

func (e *RefError) Error() string {
	return fmt.Sprintf("image: malformed reference %q: %s; %s", e.Ref, e.Reason, refSyntax)
}

// Is makes a RefError match ErrBadReference.
func (e *RefError) Is(target error) bool { return target == ErrBadReference }

// RegistryError is a failure talking to a registry. It matches its Kind: one of
// ErrUnreachable, ErrNotFound, ErrUnauthorized and ErrRegistry.
type RegistryError struct {
	Kind error
	// Registry is the host[:port], Ref the reference being read.
	Registry string
	Ref      string
	// StatusCode is the HTTP status (0 when the registry did not answer); Code the
	// registry's error code, e.g. "MANIFEST_UNKNOWN".
	StatusCode int
	Code       string
	// Reason is a short cause, e.g. "connection refused".
	Reason string
	// Temporary says whether retrying later may help.
	Temporary bool
	Err       error
}

func (e *RegistryError) Error() string {
	status := e.Code
	if e.StatusCode != 0 {
		status = strings.TrimSpace(fmt.Sprintf("%d %s", e.StatusCode, e.Code))
	}
	switch e.Kind {
	case ErrUnreachable:
		return fmt.Sprintf("image: cannot reach registry %s: %s; check the reference and that the registry is running", e.Registry, e.Reason)
	case ErrNotFound:
		return fmt.Sprintf("image: %s not found in registry %s (%s); check the repository name and the tag or digest", e.Ref, e.Registry, status)
	case ErrUnauthorized:
		return fmt.Sprintf("image: registry %s refused access to %s (%s); log in with `docker login %s` (credentials are read from the Docker config) and check that the account may pull it; some registries answer this way for a repository that does not exist", e.Registry, e.Ref, status, e.Registry)
	}
	retry := "; the registry may be misbehaving"
	if e.Temporary {
		retry = "; retrying later may help"
	}
	return fmt.Sprintf("image: registry %s failed reading %s: %s%s", e.Registry, e.Ref, e.Reason, retry)
}

// Is makes a RegistryError match its Kind.
func (e *RegistryError) Is(target error) bool { return target == e.Kind }

func (e *RegistryError) Unwrap() error { return e.Err }

// ManifestError says why a manifest, index or config blob cannot be read. It matches
// ErrBadManifest.
type ManifestError struct {
	// Ref is the reference being read; Digest and MediaType describe the blob.
	Ref       string
	Digest    string
	MediaType string
	Reason    string
	Err       error
	advice    string
}

func (e *ManifestError) Error() string {
	what := e.Ref
	if e.Digest != "" {
		what += " (" + e.Digest + ")"
	}
	msg := fmt.Sprintf("image: malformed manifest for %s: %s", what, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	advice := e.advice
	if advice == "" {
		advice = "tether reads OCI and Docker schema 2 images and indexes: rebuild or re-push the image with a current tool"
	}
	return msg + "; " + advice
}

// Is makes a ManifestError match ErrBadManifest.
func (e *ManifestError) Is(target error) bool { return target == ErrBadManifest }

func (e *ManifestError) Unwrap() error { return e.Err }

// LayoutError says why a directory is not a readable OCI image layout. It matches
// ErrNotLayout, and fs.ErrNotExist when the directory or one of its files is missing.
type LayoutError struct {
	Path   string
	Reason string
	Err    error
}

func (e *LayoutError) Error() string {
	msg := fmt.Sprintf("image: %s is not an OCI image layout: %s", e.Path, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + "; point oci: at a directory holding oci-layout, index.json and blobs/ (e.g. written by `skopeo copy … oci:DIR` or `crane pull --format=oci`)"
}

// Is makes a LayoutError match ErrNotLayout.
func (e *LayoutError) Is(target error) bool { return target == ErrNotLayout }

func (e *LayoutError) Unwrap() error { return e.Err }

// ArchiveError says why a file is not a readable docker-archive. It matches
// ErrNotArchive, and fs.ErrNotExist when the file is missing.
type ArchiveError struct {
	Path   string
	Reason string
	Err    error
}

func (e *ArchiveError) Error() string {
	msg := fmt.Sprintf("image: %s is not a docker-archive: %s", e.Path, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + "; point docker-archive: at a complete tarball written by `docker save IMAGE -o FILE`"
}

// Is makes an ArchiveError match ErrNotArchive.
func (e *ArchiveError) Is(target error) bool { return target == ErrNotArchive }

func (e *ArchiveError) Unwrap() error { return e.Err }

// NotFoundError says that a layout or archive holds no image with the tag or digest
// asked for, and which it holds. It matches ErrNotFound.
type NotFoundError struct {
	Ref       string
	Available []string
}

func (e *NotFoundError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("image: %s not found: it holds no tagged images; name one by digest", e.Ref)
	}
	return fmt.Sprintf("image: %s not found; it holds %s", e.Ref, strings.Join(e.Available, ", "))
}

// Is makes a NotFoundError match ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AmbiguousError says that a layout or archive holds several images and the reference
// names none. It matches ErrAmbiguous.
type AmbiguousError struct {
	Ref        string
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("image: %s holds %d images (%s); name one, as in %s:TAG or %s@DIGEST",
		e.Ref, len(e.Candidates), strings.Join(e.Candidates, ", "), e.Ref, e.Ref)
}

// Is makes an AmbiguousError match ErrAmbiguous.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// PlatformError says that the image has no manifest for the platform asked for. It
// matches ErrPlatformNotFound.
type PlatformError struct {
	Ref       string
	Want      string
	Available []string
}

func (e *PlatformError) Error() string {
	have := "none"
	if len(e.Available) > 0 {
		have = strings.Join(e.Available, ", ")
	}
	return fmt.Sprintf("image: %s has no %s image (it has: %s); pick one of those platforms or leave the platform unset to read all", e.Ref, e.Want, have)
}

// Is makes a PlatformError match ErrPlatformNotFound.
func (e *PlatformError) Is(target error) bool { return target == ErrPlatformNotFound }

// EngineError is a failure talking to a container engine (docker:, podman:). It
// matches its Kind: one of ErrEngineUnavailable, ErrNotFound and ErrEngine.
type EngineError struct {
	Kind error
	// Engine is "docker" or "podman"; Socket the address tried ("unix:///run/…" or
	// "tcp://…"), Ref the reference being read.
	Engine string
	Socket string
	Ref    string
	// StatusCode is the HTTP status the engine answered with (0 when it did not).
	StatusCode int
	// Reason is a short cause, e.g. "the socket does not exist" or the engine's own
	// message.
	Reason string
	Err    error
	advice string
}

func (e *EngineError) Error() string {
	switch e.Kind {
	case ErrEngineUnavailable:
		advice := e.advice
		if advice == "" {
			advice = e.startAdvice()
		}
		return fmt.Sprintf("image: cannot reach the %s engine at %s: %s; %s", e.Engine, e.Socket, e.Reason, advice)
	case ErrNotFound:
		cli := e.Engine
		return fmt.Sprintf("image: %s not found in the %s engine at %s (%s); pull it first (`%s pull IMAGE`) or check the name with `%s images`",
			e.Ref, e.Engine, e.Socket, e.Reason, cli, cli)
	}
	msg := fmt.Sprintf("image: the %s engine at %s failed reading %s: %s", e.Engine, e.Socket, e.Ref, e.Reason)
	if e.advice != "" {
		msg += "; " + e.advice
	}
	return msg
}

// startAdvice says how to start the engine's API service on the socket tried.
func (e *EngineError) startAdvice() string {
	path, isUnix := strings.CutPrefix(e.Socket, "unix://")
	if e.Engine == string(TransportPodman) {
		if !isUnix {
			return "check that the Podman API service listens there, or point CONTAINER_HOST or WithEngineSocket at its socket"
		}
		return fmt.Sprintf("start the Podman API service with `podman system service --time=0 unix://%s` (or `systemctl --user start podman.socket`), or point CONTAINER_HOST (unix:///PATH) or WithEngineSocket at its socket", path)
	}
	if !isUnix {
		return "check that the Docker daemon listens there (plain HTTP; TLS is not supported), or point DOCKER_HOST or WithEngineSocket at its socket"
	}
	return fmt.Sprintf("start the Docker daemon (`sudo systemctl start docker`), or point DOCKER_HOST (unix:///PATH) or WithEngineSocket at its socket; Podman serves the same API: `podman system service --time=0 unix://%s`", path)
}

// Is makes an EngineError match its Kind.
func (e *EngineError) Is(target error) bool { return target == e.Kind }

func (e *EngineError) Unwrap() error { return e.Err }

// remoteError turns an error from go-containerregistry's remote package into a typed
// error. A cancelled or expired ctx is returned as is (wrapped), so that errors.Is
// with context.Canceled keeps working.
func remoteError(ctx context.Context, err error, registry, ref string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("image: reading %s: %w", ref, ctx.Err())
	}
	if isTyped(err) {
		return err
	}
	e := &RegistryError{Kind: ErrRegistry, Registry: registry, Ref: ref, Reason: err.Error(), Err: err}
	var te *transport.Error
	if errors.As(err, &te) {
		// go-containerregistry joins the failed HTTPS attempt of a plain-HTTP registry
		// into the error; the registry's own answer is what matters.
		e.Reason = te.Error()
		e.StatusCode = te.StatusCode
		e.Temporary = te.Temporary()
		if len(te.Errors) > 0 {
			e.Code = string(te.Errors[0].Code)
		}
		switch {
		case te.StatusCode == http.StatusNotFound || e.Code == string(transport.ManifestUnknownErrorCode) ||
			e.Code == string(transport.NameUnknownErrorCode) || e.Code == string(transport.BlobUnknownErrorCode):
			e.Kind = ErrNotFound
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden ||
			e.Code == string(transport.UnauthorizedErrorCode) || e.Code == string(transport.DeniedErrorCode):
			e.Kind = ErrUnauthorized
		}
		return e
	}
	if reason, ok := unreachable(err); ok {
		e.Kind, e.Reason, e.Temporary = ErrUnreachable, reason, true
		return e
	}
	return e
}

// unreachable reports whether err means the registry did not answer, with a short
// reason that says what to do where that is known.
func unreachable(err error) (string, bool) {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var netErr net.Error
	var opErr *net.OpError
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.As(err, &dns):
		return "no such host " + dns.Name, true
	case errors.As(err, &cert), errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return "its TLS certificate is not trusted (" + msg + "); add its CA to the system trust store", true
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "it speaks plain HTTP, not HTTPS; allow that with WithInsecure (--insecure)", true
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out", true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return msg, true
	case errors.As(err, &opErr):
		return msg, true
	}
	return "", false
}

// isTyped reports whether err already is one of this package's errors.
func isTyped(err error) bool {
	for _, s := range []error{ErrBadReference, ErrUnreachable, ErrNotFound, ErrUnauthorized, ErrRegistry,
		ErrBadManifest, ErrNotLayout, ErrNotArchive, ErrAmbiguous, ErrPlatformNotFound, ErrEngineUnavailable, ErrEngine} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
