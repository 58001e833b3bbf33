package vuln_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-sec/tether/sbom"
	"github.com/tether-sec/tether/vuln"
)

func TestTargetOf(t *testing.T) {
	tests := []struct {
		name string
		pkg  sbom.Package
		want vuln.Target
		err  error
	}{
		{"go module", pkg("pkg:golang/github.com/gin-gonic/gin@v1.9.1"), vuln.Target{Ecosystems: []string{"Go"}, Name: "github.com/gin-gonic/gin", Version: "1.9.1"}, nil},
		{"go incompatible", pkg("pkg:golang/github.com/docker/docker@v24.0.7+incompatible"), vuln.Target{Ecosystems: []string{"Go"}, Name: "github.com/docker/docker", Version: "24.0.7+incompatible"}, nil},
		{"go module case from the name", sbom.Package{Type: "golang", Name: "github.com/Masterminds/goutils", PURL: "pkg:golang/github.com/masterminds/goutils@v1.1.0"}, vuln.Target{Ecosystems: []string{"Go"}, Name: "github.com/Masterminds/goutils", Version: "1.1.0"}, nil},
		{"go module case kept in the purl", pkg("pkg:golang/github.com/BurntSushi/toml@v1.3.2"), vuln.Target{Ecosystems: []string{"Go"}, Name: "github.com/BurntSushi/toml", Version: "1.3.2"}, nil},
		{"go stdlib", pkg("pkg:golang/stdlib@1.22.3"), vuln.Target{Ecosystems: []string{"Go"}, Name: "stdlib", Version: "1.22.3"}, nil},
		{"go toolchain go1.22", pkg("pkg:golang/stdlib@go1.22"), vuln.Target{Ecosystems: []string{"Go"}, Name: "stdlib", Version: "1.22.0"}, nil},
		{"go toolchain beta", pkg("pkg:golang/stdlib@go1.12beta1"), vuln.Target{Ecosystems: []string{"Go"}, Name: "stdlib", Version: "1.12.0-beta.1"}, nil},
		{"go toolchain boringcrypto", sbom.Package{Type: "golang", Name: "stdlib", Version: "go1.22.1 X:boringcrypto"}, vuln.Target{Ecosystems: []string{"Go"}, Name: "stdlib", Version: "1.22.1"}, nil},
		{"npm scoped", pkg("pkg:npm/%40babel/core@7.23.0"), vuln.Target{Ecosystems: []string{"npm"}, Name: "@babel/core", Version: "7.23.0"}, nil},
		{"npm scope not encoded", pkg("pkg:npm/@babel/core@7.23.0"), vuln.Target{Ecosystems: []string{"npm"}, Name: "@babel/core", Version: "7.23.0"}, nil},
		{"deb encoded plus and colon", pkg("pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u4?distro=debian-12#sub"), vuln.Target{Ecosystems: []string{"Debian:12"}, Name: "libc6", Version: "1:2.36-9+deb12u4"}, nil},
		{"pypi normalized", pkg("pkg:pypi/Jinja2@3.1.2"), vuln.Target{Ecosystems: []string{"PyPI"}, Name: "jinja2", Version: "3.1.2"}, nil},
		{"pypi dots and underscores", pkg("pkg:pypi/zope.interface@6.0"), vuln.Target{Ecosystems: []string{"PyPI"}, Name: "zope-interface", Version: "6.0"}, nil},
		{"maven", pkg("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), vuln.Target{Ecosystems: []string{"Maven"}, Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"}, nil},
		{"cargo", pkg("pkg:cargo/smallvec@0.6.0"), vuln.Target{Ecosystems: []string{"crates.io"}, Name: "smallvec", Version: "0.6.0"}, nil},
		{"gem", pkg("pkg:gem/rails@7.0.0"), vuln.Target{Ecosystems: []string{"RubyGems"}, Name: "rails", Version: "7.0.0"}, nil},
		{"composer", pkg("pkg:composer/symfony/http-kernel@v6.3.0"), vuln.Target{Ecosystems: []string{"Packagist"}, Name: "symfony/http-kernel", Version: "v6.3.0"}, nil},
		{"nuget", pkg("pkg:nuget/Newtonsoft.Json@13.0.1"), vuln.Target{Ecosystems: []string{"NuGet"}, Name: "newtonsoft.json", Version: "13.0.1"}, nil},
		{"debian numeric", pkg("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12", "openssl"), vuln.Target{Ecosystems: []string{"Debian:12"}, Name: "openssl", Version: "3.0.15-1~deb12u1"}, nil},
		{"debian point release", pkg("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?distro=debian-12.8", "openssl"), vuln.Target{Ecosystems: []string{"Debian:12"}, Name: "openssl", Version: "3.0.15-1~deb12u1"}, nil},
		{"debian code names", pkg("pkg:deb/debian/bash@5.1-2+deb11u1?distro=bullseye"), vuln.Target{Ecosystems: []string{"Debian:11"}, Name: "bash", Version: "5.1-2+deb11u1"}, nil},
		{"debian buster", pkg("pkg:deb/debian/bash@5.0-4?distro=buster"), vuln.Target{Ecosystems: []string{"Debian:10"}, Name: "bash", Version: "5.0-4"}, nil},
		{"debian trixie", pkg("pkg:deb/debian/bash@5.2.37-2?distro=trixie"), vuln.Target{Ecosystems: []string{"Debian:13"}, Name: "bash", Version: "5.2.37-2"}, nil},
		{"debian source version differs", pkg("pkg:deb/debian/libc6@2.36-9+deb12u4?distro=debian-12", "glibc", "2.36-9+deb12u4"), vuln.Target{Ecosystems: []string{"Debian:12"}, Name: "glibc", Version: "2.36-9+deb12u4"}, nil},
		{"debian Syft upstream with version", pkg("pkg:deb/debian/libssl3@3.0.11-1~deb12u2+b1?upstream=openssl%403.0.11-1~deb12u2&distro=debian-12"), vuln.Target{Ecosystems: []string{"Debian:12"}, Name: "openssl", Version: "3.0.11-1~deb12u2"}, nil},
		{"ubuntu LTS", pkg("pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.8?distro=ubuntu-22.04", "openssl"), vuln.Target{Ecosystems: []string{"Ubuntu:22.04:LTS", "Ubuntu:22.04"}, Name: "openssl", Version: "3.0.2-0ubuntu1.8"}, nil},
		{"ubuntu code name", pkg("pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?distro=noble"), vuln.Target{Ecosystems: []string{"Ubuntu:24.04:LTS", "Ubuntu:24.04"}, Name: "bash", Version: "5.2.21-2ubuntu4"}, nil},
		{"ubuntu interim", pkg("pkg:deb/ubuntu/bash@5.2.15-2ubuntu1?distro=ubuntu-23.04"), vuln.Target{Ecosystems: []string{"Ubuntu:23.04"}, Name: "bash", Version: "5.2.15-2ubuntu1"}, nil},
		{"alpine", pkg("pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=3.19.1", "openssl"), vuln.Target{Ecosystems: []string{"Alpine:v3.19"}, Name: "openssl", Version: "3.1.4-r5"}, nil},
		{"alpine Syft distro", pkg("pkg:apk/alpine/busybox@1.36.1-r15?distro=alpine-3.19.1&upstream=busybox"), vuln.Target{Ecosystems: []string{"Alpine:v3.19"}, Name: "busybox", Version: "1.36.1-r15"}, nil},
		{"alpine edge alpha", pkg("pkg:apk/alpine/busybox@1.36.1-r29?distro=3.21_alpha20240807"), vuln.Target{Ecosystems: []string{"Alpine:v3.21"}, Name: "busybox", Version: "1.36.1-r29"}, nil},
		{"almalinux epoch", pkg("pkg:rpm/almalinux/openssl-libs@3.0.7-27.el9?epoch=1&distro=almalinux-9.3&sourcerpm=openssl-3.0.7-27.el9.src.rpm"), vuln.Target{Ecosystems: []string{"AlmaLinux:9"}, Name: "openssl-libs", Version: "1:3.0.7-27.el9"}, nil},
		{"rocky", pkg("pkg:rpm/rocky/bash@5.1.8-6.el9_1?distro=rocky-9.3", "bash", "5.1.8-6.el9_1"), vuln.Target{Ecosystems: []string{"Rocky Linux:9"}, Name: "bash", Version: "5.1.8-6.el9_1"}, nil},
		{"rhel", pkg("pkg:rpm/redhat/bash@5.1.8-6.el9_1?distro=rhel-9.3", "bash", "5.1.8-6.el9_1"), vuln.Target{Ecosystems: []string{"Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::appstream"}, Name: "bash", Version: "5.1.8-6.el9_1"}, nil},

		{"deb without distro", pkg("pkg:deb/debian/bash@5.1-2"), vuln.Target{}, vuln.ErrNoDistro},
		{"debian sid", pkg("pkg:deb/debian/bash@5.1-2?distro=sid"), vuln.Target{}, vuln.ErrNoDistro},
		{"deb from another distro", pkg("pkg:deb/kali/bash@5.1-2?distro=kali-2024.1"), vuln.Target{}, vuln.ErrNoDistro},
		{"rpm of an unknown distro", pkg("pkg:rpm/fedora/bash@5.2.26-3.fc40?distro=fedora-40"), vuln.Target{}, vuln.ErrNoDistro},
		{"generic", sbom.Package{Type: "generic", Name: "x"}, vuln.Target{}, vuln.ErrUnsupported},
		{"not a purl", sbom.Package{Type: "npm", Name: "x", PURL: "npm/x@1"}, vuln.Target{}, vuln.ErrUnsupported},
		{"purl without a name", sbom.Package{Type: "npm", PURL: "pkg:npm/"}, vuln.Target{}, vuln.ErrUnsupported},
		{"purl with a bad escape", sbom.Package{Type: "npm", PURL: "pkg:npm/x@1%zz"}, vuln.Target{}, vuln.ErrUnsupported},
		{"bitnami", pkg("pkg:bitnami/redis@7.2.4"), vuln.Target{}, vuln.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vuln.TargetOf(tt.pkg)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("target (-want +got):\n%s", d)
			}
		})
	}
}

func FuzzTargetOf(f *testing.F) {
	for _, s := range []string{
		"pkg:npm/%40babel/core@7.23.0", "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12",
		"pkg:rpm/almalinux/openssl-libs@3.0.7-27.el9?epoch=1&distro=almalinux-9.3&sourcerpm=openssl-3.0.7-27.el9.src.rpm",
		"pkg:apk/alpine/libssl3@3.0.7-r2?distro=3.17.2&origin=openssl", "pkg:golang/stdlib@go1.21rc2", "pkg:", "pkg:/@?&=#",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, purl, name string) {
		p := sbom.Package{PURL: purl, Name: name, Type: "golang"}
		a, errA := vuln.TargetOf(p)
		b, errB := vuln.TargetOf(p)
		if (errA == nil) != (errB == nil) || !cmp.Equal(a, b) {
			t.Fatalf("TargetOf(%q) not deterministic", purl)
		}
		if errA == nil && (a.Name == "" || len(a.Ecosystems) == 0) {
			t.Fatalf("TargetOf(%q) = %+v without an error", purl, a)
		}
	})
}

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ eco, in, want string }{
		{"PyPI", "Friendly-Bard", "friendly-bard"},
		{"PyPI", "FRIENDLY-BARD", "friendly-bard"},
		{"PyPI", "friendly.bard", "friendly-bard"},
		{"PyPI", "friendly_bard", "friendly-bard"},
		{"PyPI", "friendly--bard", "friendly-bard"},
		{"PyPI", "FrIeNdLy-._.-bArD", "friendly-bard"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Packagist", "Symfony/HTTP-Kernel", "symfony/http-kernel"},
		{"Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"npm", "JSONStream", "JSONStream"},
		{"Maven", "org.Apache:x", "org.Apache:x"},
		{"RubyGems", "Rails", "Rails"},
		{"Debian:12", "Foo_Bar", "Foo_Bar"},
	} {
		if got := vuln.NormalizeName(tc.eco, tc.in); got != tc.want {
			t.Errorf("vuln.NormalizeName(%q, %q) = %q, want %q", tc.eco, tc.in, got, tc.want)
		}
	}
}
