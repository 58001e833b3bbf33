package image

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const userAgent = "tether"

// openRegistry reads a reference from a registry.
func openRegistry(ctx context.Context, r Ref, o *options) (*Target, error) {
	n := r.Name
	if o.insecure {
		var err error
		if n, err = name.ParseReference(n.String(), name.Insecure); err != nil {
			return nil, badRef(r.Name.String(), err.Error())
		}
		r.Name = n
	}
	registry := n.Context().RegistryStr()
	ref := canonicalName(n)
	rd := &reader{
		source: DigestFromRegistry,
		wrap: func(err error, what string) error {
			return remoteError(ctx, err, registry, what)
		},
		refFor: func(digest string) string {
			return canonicalName(n.Context().Digest(digest))
		},
	}
	desc, err := remote.Get(n,
		remote.WithContext(ctx),
		remote.WithTransport(o.transport),
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithUserAgent(userAgent),
	)
	if err != nil {
		return nil, rd.wrap(err, ref)
	}
	mt, err := mediaTypeOf(desc.MediaType, desc.Manifest, ref, desc.Digest.String())
	if err != nil {
		return nil, err
	}
	// Some registries send a generic Content-Type; go-containerregistry decides by the
	// descriptor's media type.
	desc.MediaType = mt
	t := &Target{Ref: r, Digest: desc.Digest.String(), MediaType: string(mt)}
	var (
		idx v1.ImageIndex
		img v1.Image
	)
	if mt.IsIndex() {
		idx, err = desc.ImageIndex()
	} else {
		img, err = desc.Image()
	}
	if err != nil {
		return nil, rd.wrap(err, ref)
	}
	if err := rd.finish(ctx, t, idx, img, o.platform); err != nil {
		return nil, err
	}
	registryAttestations(ctx, t, n.Context(),
		remote.WithTransport(o.transport), remote.WithAuthFromKeychain(o.keychain), remote.WithUserAgent(userAgent))
	return t, nil
}
