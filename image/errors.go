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
	// ErrNotFound: the registry, layout or archive has no such image (RegistryError,
	// NotFoundError).
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
)

const refSyntax = "use REGISTRY/REPO[:TAG|@DIGEST], oci:DIR[:TAG|@DIGEST] or docker-archive:FILE[:REPO:TAG]"

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
		ErrBadManifest, ErrNotLayout, ErrNotArchive, ErrAmbiguous, ErrPlatformNotFound} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
