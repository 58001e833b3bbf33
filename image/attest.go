package image

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Provenance is what a SLSA provenance attestation says of an image's build.
// tether reads the statement; it does not verify the signature of a DSSE
// envelope or sigstore bundle (Signed says whether there was one).
type Provenance struct {
	// PredicateType is the SLSA predicate ("https://slsa.dev/provenance/v0.2",
	// "https://slsa.dev/provenance/v1").
	PredicateType string `json:"predicate_type"`
	// Source is the repository URI and Revision the commit the build says it
	// built, where it says so; Ref the git ref ("refs/heads/main").
	Source   string `json:"source,omitempty"`
	Revision string `json:"revision,omitempty"`
	Ref      string `json:"ref,omitempty"`
	// Workflow is the build's entry point (a GitHub workflow path, a Dockerfile).
	Workflow string `json:"workflow,omitempty"`
	Builder  string `json:"builder,omitempty"`
	BuildID  string `json:"build_id,omitempty"`
	// Via says where it was found: "buildkit-index" (an attestation manifest in
	// the image index), "referrers" (the OCI referrers API or its tag fallback),
	// "cosign-tag" (a sha256-<hex>.att tag).
	Via    string `json:"via"`
	Signed bool   `json:"signed,omitempty"`
}

// Media types of attestations.
const (
	mediaInToto         = "application/vnd.in-toto+json"
	mediaDSSE           = "application/vnd.dsse.envelope.v1+json"
	mediaSigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// maxAttestation bounds one attestation blob.
	maxAttestation = 16 << 20
)

// ErrNotAttestation is matched by the error of a document that is no in-toto
// statement, DSSE envelope or sigstore bundle.
var ErrNotAttestation = errors.New("image: not an attestation")

// Statement is an in-toto statement: what it is about and its predicate.
type Statement struct {
	Type          string             `json:"_type"`
	Subject       []StatementSubject `json:"subject"`
	PredicateType string             `json:"predicateType"`
	Predicate     json.RawMessage    `json:"predicate"`
	// Signed is true when the statement came in a DSSE envelope with signatures.
	Signed bool `json:"-"`
}

// StatementSubject is one artifact a statement is about.
type StatementSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// DecodeAttestation reads an in-toto statement, a DSSE envelope holding one, or
// a sigstore bundle holding a DSSE envelope.
func DecodeAttestation(b []byte) (*Statement, error) {
	var probe struct {
		Type          string            `json:"_type"`
		PayloadType   string            `json:"payloadType"`
		Payload       string            `json:"payload"`
		Signatures    []json.RawMessage `json:"signatures"`
		DSSE          json.RawMessage   `json:"dsseEnvelope"`
		MediaType     string            `json:"mediaType"`
		PredicateType string            `json:"predicateType"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAttestation, err)
	}
	switch {
	case len(probe.DSSE) > 0: // a sigstore bundle
		return DecodeAttestation(probe.DSSE)
	case probe.PayloadType != "":
		if probe.PayloadType != mediaInToto {
			return nil, fmt.Errorf("%w: DSSE payload type %q", ErrNotAttestation, probe.PayloadType)
		}
		payload, err := base64.StdEncoding.DecodeString(probe.Payload)
		if err != nil {
			if payload, err = base64.RawURLEncoding.DecodeString(probe.Payload); err != nil {
				return nil, fmt.Errorf("%w: DSSE payload is not base64", ErrNotAttestation)
			}
		}
		st, err := decodeStatement(payload)
		if err != nil {
			return nil, err
		}
		st.Signed = len(probe.Signatures) > 0
		return st, nil
	default:
		return decodeStatement(b)
	}
}

func decodeStatement(b []byte) (*Statement, error) {
	var st Statement
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAttestation, err)
	}
	if !strings.HasPrefix(st.Type, "https://in-toto.io/Statement/") || st.PredicateType == "" {
		return nil, fmt.Errorf("%w: _type %q, predicateType %q", ErrNotAttestation, st.Type, st.PredicateType)
	}
	return &st, nil
}

// About reports whether the statement names the artifact with digest
// ("sha256:…") among its subjects.
func (st *Statement) About(digest string) bool {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest[alg], hex) {
			return true
		}
	}
	return false
}

// Provenance reads a SLSA v0.2 or v1 provenance predicate (as GitHub's
// attest-build-provenance, slsa-github-generator and BuildKit write them); other
// predicates give false.
func (st *Statement) Provenance() (Provenance, bool) {
	p := Provenance{PredicateType: st.PredicateType, Signed: st.Signed}
	switch {
	case strings.HasPrefix(st.PredicateType, "https://slsa.dev/provenance/v0."):
		var pr struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			Invocation struct {
				ConfigSource struct {
					URI        string            `json:"uri"`
					Digest     map[string]string `json:"digest"`
					EntryPoint string            `json:"entryPoint"`
				} `json:"configSource"`
			} `json:"invocation"`
			Metadata struct {
				BuildInvocationID string           `json:"buildInvocationId"`
				BuildKit          buildkitMetadata `json:"https://mobyproject.org/buildkit@v1#metadata"`
			} `json:"metadata"`
			Materials []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"materials"`
		}
		if json.Unmarshal(st.Predicate, &pr) != nil {
			return p, false
		}
		p.Builder, p.BuildID = pr.Builder.ID, pr.Metadata.BuildInvocationID
		cs := pr.Invocation.ConfigSource
		p.Workflow = cs.EntryPoint
		p.Source, p.Ref = splitGitURI(cs.URI)
		p.Revision = firstOf(cs.Digest, "sha1", "gitCommit")
		if vcs := pr.Metadata.BuildKit.VCS; vcs.Revision != "" {
			p.Source, p.Revision = cmpOr(vcs.Source, p.Source), vcs.Revision
		}
		if p.Revision == "" {
			for _, m := range pr.Materials {
				if strings.HasPrefix(m.URI, "git+") {
					p.Source, p.Ref = splitGitURI(m.URI)
					p.Revision = firstOf(m.Digest, "sha1", "gitCommit")
					break
				}
			}
		}
	case strings.HasPrefix(st.PredicateType, "https://slsa.dev/provenance/v1"):
		var pr struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Workflow struct {
						Ref        string `json:"ref"`
						Repository string `json:"repository"`
						Path       string `json:"path"`
					} `json:"workflow"`
					ConfigSource struct {
						URI    string            `json:"uri"`
						Digest map[string]string `json:"digest"`
						Path   string            `json:"path"`
					} `json:"configSource"`
				} `json:"externalParameters"`
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
				Metadata struct {
					InvocationID string           `json:"invocationId"`
					BuildKit     buildkitMetadata `json:"https://mobyproject.org/buildkit@v1#metadata"`
				} `json:"metadata"`
			} `json:"runDetails"`
		}
		if json.Unmarshal(st.Predicate, &pr) != nil {
			return p, false
		}
		p.Builder, p.BuildID = pr.RunDetails.Builder.ID, pr.RunDetails.Metadata.InvocationID
		ep := pr.BuildDefinition.ExternalParameters
		p.Workflow = cmpOr(ep.Workflow.Path, ep.ConfigSource.Path)
		p.Source, p.Ref = ep.Workflow.Repository, ep.Workflow.Ref
		if ep.ConfigSource.URI != "" {
			p.Source, p.Ref = splitGitURI(ep.ConfigSource.URI)
			p.Revision = firstOf(ep.ConfigSource.Digest, "sha1", "gitCommit")
		}
		for _, d := range pr.BuildDefinition.ResolvedDependencies {
			if p.Revision != "" {
				break
			}
			if rev := firstOf(d.Digest, "gitCommit", "sha1"); rev != "" && strings.HasPrefix(d.URI, "git+") {
				src, ref := splitGitURI(d.URI)
				p.Source, p.Revision = cmpOr(src, p.Source), rev
				p.Ref = cmpOr(ref, p.Ref)
			}
		}
		if vcs := pr.RunDetails.Metadata.BuildKit.VCS; vcs.Revision != "" {
			p.Source, p.Revision = cmpOr(vcs.Source, p.Source), vcs.Revision
		}
	default:
		return p, false
	}
	return p, true
}

type buildkitMetadata struct {
	VCS struct {
		Source   string `json:"source"`
		Revision string `json:"revision"`
	} `json:"vcs"`
}

// splitGitURI splits "git+https://github.com/o/r@refs/heads/main" into the
// repository URL and the ref. An "@" before the first "/" of the path is a user
// ("ssh://git@github.com/o/r"), not a ref.
func splitGitURI(u string) (string, string) {
	u = strings.TrimPrefix(u, "git+")
	rest := u
	if k := strings.Index(u, "://"); k >= 0 {
		rest = u[k+3:]
	}
	slash := strings.IndexByte(rest, '/')
	at := strings.LastIndexByte(rest, '@')
	if slash < 0 || at < slash {
		return u, ""
	}
	cut := len(u) - len(rest) + at
	return u[:cut], u[cut+1:]
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return strings.ToLower(v)
		}
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// attestationLayers reads the in-toto, DSSE and sigstore-bundle layers of an
// attestation manifest and returns the provenance they hold about digest.
func attestationLayers(img v1.Image, digest, via string) ([]Provenance, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []Provenance
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			continue
		}
		switch string(mt) {
		case mediaInToto, mediaDSSE, mediaSigstoreBundle, "application/json":
		default:
			continue
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxAttestation+1))
		rc.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxAttestation {
			continue
		}
		st, err := DecodeAttestation(b)
		if err != nil || !st.About(digest) {
			continue
		}
		if p, ok := st.Provenance(); ok {
			p.Via = via
			out = append(out, p)
		}
	}
	return out, nil
}

// indexAttestations reads the BuildKit attestation manifests an index lists for
// its images (annotation vnd.docker.reference.type=attestation-manifest).
func indexAttestations(t *Target) {
	if t.Index == nil {
		return
	}
	for _, sk := range t.Skipped {
		if sk.Reason != "attestation manifest" || sk.Refers == "" {
			continue
		}
		h, err := v1.NewHash(sk.Digest)
		if err != nil {
			continue
		}
		att, err := t.Index.Image(h)
		if err != nil {
			continue
		}
		ps, err := attestationLayers(att, sk.Refers, "buildkit-index")
		if err != nil {
			continue
		}
		for i := range t.Images {
			if t.Images[i].Digest == sk.Refers {
				t.Images[i].Provenance = append(t.Images[i].Provenance, ps...)
			}
		}
	}
}

// registryAttestations looks up the attestations a registry holds for each
// image: the OCI referrers API (go-containerregistry falls back to the
// sha256-<hex> tag schema where the registry has no API) and cosign's
// sha256-<hex>.att tag.
func registryAttestations(ctx context.Context, t *Target, repo name.Repository, opts ...remote.Option) {
	opts = append(opts, remote.WithContext(ctx))
	for i := range t.Images {
		im := &t.Images[i]
		var ps []Provenance
		ref := repo.Digest(im.Digest)
		if idx, err := remote.Referrers(ref, opts...); err == nil {
			if m, err := idx.IndexManifest(); err == nil {
				for _, d := range m.Manifests {
					switch d.ArtifactType {
					case mediaInToto, mediaDSSE, mediaSigstoreBundle, "application/vnd.in-toto+json; charset=utf-8":
					default:
						if !strings.Contains(d.ArtifactType, "in-toto") && !strings.Contains(d.ArtifactType, "sigstore") {
							continue
						}
					}
					att, err := remote.Image(repo.Digest(d.Digest.String()), opts...)
					if err != nil {
						continue
					}
					if got, err := attestationLayers(att, im.Digest, "referrers"); err == nil {
						ps = append(ps, got...)
					}
				}
			}
		}
		tag := repo.Tag(strings.Replace(im.Digest, ":", "-", 1) + ".att")
		if att, err := remote.Image(tag, opts...); err == nil {
			if got, err := attestationLayers(att, im.Digest, "cosign-tag"); err == nil {
				ps = append(ps, got...)
			}
		}
		for _, p := range ps {
			if !slices.Contains(im.Provenance, p) {
				im.Provenance = append(im.Provenance, p)
			}
		}
	}
}
