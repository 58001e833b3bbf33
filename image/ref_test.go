package image_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/image"
)

func TestParseRef(t *testing.T) {
	dig := "sha256:" + strings.Repeat("ab", 32)
	type parsed struct {
		Transport image.Transport
		Path      string
		Tag       string
		Digest    string
		Name      string // the registry reference in full
		Image     string
		String    string
	}
	tests := []struct {
		in   string
		want parsed
	}{
		{"alpine", parsed{Transport: "registry", Name: "index.docker.io/library/alpine:latest", String: "docker.io/library/alpine:latest"}},
		{"docker.io/library/alpine:3.20", parsed{Transport: "registry", Name: "index.docker.io/library/alpine:3.20", String: "docker.io/library/alpine:3.20"}},
		{"127.0.0.1:5000/app:v1", parsed{Transport: "registry", Name: "127.0.0.1:5000/app:v1", String: "127.0.0.1:5000/app:v1"}},
		{"localhost:5000/team/app", parsed{Transport: "registry", Name: "localhost:5000/team/app:latest", String: "localhost:5000/team/app:latest"}},
		{"docker://ghcr.io/acme/app@" + dig, parsed{Transport: "registry", Name: "ghcr.io/acme/app@" + dig, String: "ghcr.io/acme/app@" + dig}},
		{"registry:ghcr.io/acme/app:v1@" + dig, parsed{Transport: "registry", Name: "ghcr.io/acme/app@" + dig, String: "ghcr.io/acme/app@" + dig}},
		{"oci:/tmp/layout", parsed{Transport: "oci-layout", Path: "/tmp/layout", String: "oci:/tmp/layout"}},
		{"oci:layout:v1", parsed{Transport: "oci-layout", Path: "layout", Tag: "v1", String: "oci:layout:v1"}},
		{"oci:layout:docker.io/library/x:1", parsed{Transport: "oci-layout", Path: "layout", Tag: "docker.io/library/x:1", String: "oci:layout:docker.io/library/x:1"}},
		{"oci:/a@b/layout@" + dig, parsed{Transport: "oci-layout", Path: "/a@b/layout", Digest: dig, String: "oci:/a@b/layout@" + dig}},
		{"oci-dir:./l", parsed{Transport: "oci-layout", Path: "./l", String: "oci:./l"}},
		{"docker-archive:app.tar", parsed{Transport: "docker-archive", Path: "app.tar", String: "docker-archive:app.tar"}},
		{"docker-archive:/x/app.tar:127.0.0.1:5000/app:v1", parsed{Transport: "docker-archive", Path: "/x/app.tar", Tag: "127.0.0.1:5000/app:v1", String: "docker-archive:/x/app.tar:127.0.0.1:5000/app:v1"}},
		// Docker resolves every name as go-containerregistry does: spelled in full.
		{"docker:alpine", parsed{Transport: "docker", Image: "docker.io/library/alpine:latest", Name: "index.docker.io/library/alpine:latest", String: "docker:docker.io/library/alpine:latest"}},
		{"docker-daemon:127.0.0.1:5000/app:v1", parsed{Transport: "docker", Image: "127.0.0.1:5000/app:v1", Name: "127.0.0.1:5000/app:v1", String: "docker:127.0.0.1:5000/app:v1"}},
		{"docker:ghcr.io/acme/app@" + dig, parsed{Transport: "docker", Image: "ghcr.io/acme/app@" + dig, Name: "ghcr.io/acme/app@" + dig, String: "docker:ghcr.io/acme/app@" + dig}},
		{"docker:" + dig, parsed{Transport: "docker", Image: dig, String: "docker:" + dig}},
		{"docker:abcdef012345", parsed{Transport: "docker", Image: "abcdef012345", String: "docker:abcdef012345"}},
		// Podman resolves short names through registries.conf: they stay as written.
		{"podman:app:v1", parsed{Transport: "podman", Image: "app:v1", Name: "index.docker.io/library/app:v1", String: "podman:app:v1"}},
		{"podman:localhost/app", parsed{Transport: "podman", Image: "localhost/app:latest", Name: "localhost/app:latest", String: "podman:localhost/app:latest"}},
		{"podman:127.0.0.1:5000/team/app:v1", parsed{Transport: "podman", Image: "127.0.0.1:5000/team/app:v1", Name: "127.0.0.1:5000/team/app:v1", String: "podman:127.0.0.1:5000/team/app:v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := image.ParseRef(tt.in)
			if err != nil {
				t.Fatalf("ParseRef(%q): %v", tt.in, err)
			}
			got := parsed{Transport: r.Transport, Path: r.Path, Tag: r.Tag, Digest: r.Digest, Image: r.Image, String: r.String()}
			if r.Name != nil {
				got.Name = r.Name.Name()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRef(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseRefErrors(t *testing.T) {
	dig := "sha256:" + strings.Repeat("ab", 32)
	for _, in := range []string{
		"", "oci:", "oci::v1", "oci:dir:", "oci:@" + dig, "oci:dir:v1@" + dig, "oci-dir:",
		"docker-archive:", "docker-archive::app:v1", "docker-archive:f.tar:UPPER:v1", "docker-archive:f.tar:app:",
		"docker://", "registry:", "app@sha256:short", "app:bad tag", "Upper/app", "http://example.com/app",
		"app\n:v1", "oci-archive:x.tar", "dir:/tmp", "containers-storage:app",
		"docker:", "podman:", "docker-daemon:", "docker:UPPER:v1", "podman:/abs/path", "docker:https://example.com/app",
		"podman:app@sha256:short", "docker:sha256:abc",
	} {
		t.Run(in, func(t *testing.T) {
			r, err := image.ParseRef(in)
			if !errors.Is(err, image.ErrBadReference) {
				t.Fatalf("ParseRef(%q) = %+v, %v; want ErrBadReference", in, r, err)
			}
			var re *image.RefError
			if !errors.As(err, &re) || re.Ref != in {
				t.Errorf("error %v is not a *RefError for %q", err, in)
			}
		})
	}
}
