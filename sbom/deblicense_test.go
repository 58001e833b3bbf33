package sbom_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/sbom"
)

const (
	debStatus = `Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: libfoo1
Status: install ok installed
Architecture: amd64
Version: 2.0-1

Package: perl-base
Status: install ok installed
Architecture: amd64
Source: perl
Version: 5.36.0-7+deb12u1

Package: oldstyle
Status: install ok installed
Architecture: all
Version: 1.0
`
	// A machine-readable (DEP-5) copyright file with several paragraphs.
	zlibCopyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zlib

Files: *
Copyright: 1995-2022 Jean-loup Gailly and Mark Adler
License: Zlib

Files: debian/*
Copyright: 2007 Example Maintainer
License: GPL-2+
 This program is free software; see /usr/share/common-licenses/GPL-2 for details.
`
	perlCopyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
License: GPL-1+ or Artistic

Files: cpan/Some-Module/*
License: LGPLv3+_or_GPLv2+
`
	// An old free-text copyright file that points at the common licences.
	oldCopyright = `This package was debianized by someone.

It is licensed under the GNU General Public License version 3; on Debian
systems the full text is in /usr/share/common-licenses/GPL-3.
`
)

func TestDebLicenses(t *testing.T) {
	want := map[string][]string{
		"zlib1g":    {"GPL-2.0-or-later", "Zlib"},
		"perl-base": {"GPL-1.0-or-later OR Artistic-1.0-Perl", "LGPLv3+_or_GPLv2+"},
		"oldstyle":  {"GPL-3.0-only"},
		"libfoo1":   nil, // no copyright file
	}
	files := map[string]string{
		"var/lib/dpkg/status":               debStatus,
		"usr/share/doc/zlib1g/copyright":    zlibCopyright,
		"usr/share/doc/perl-base/copyright": perlCopyright,
		"usr/share/doc/oldstyle/copyright":  oldCopyright,
	}
	check := func(t *testing.T, s *sbom.SBOM) {
		t.Helper()
		got := map[string][]string{}
		for _, p := range s.Packages {
			got[p.Name] = p.Licenses
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("licences (-want +got):\n%s", diff)
		}
	}

	t.Run("directory", func(t *testing.T) {
		dir := writeTree(t, files)
		s, err := sbom.CatalogDir(context.Background(), dir, sbom.Options{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})

	t.Run("image, status rewritten by a later layer", func(t *testing.T) {
		var base []entry
		for p, body := range files {
			base = append(base, reg(p, body))
		}
		img := buildImage(t,
			layerStep{Layer: tarLayer(t, base...), CreatedBy: "ADD rootfs.tar /"},
			// apt in a later layer rewrites the status file; the copyright files
			// stay in the base layer.
			layerStep{Layer: tarLayer(t, reg("var/lib/dpkg/status", debStatus)), CreatedBy: "RUN apt-get update"},
		)
		s, err := sbom.CatalogImage(context.Background(), img, sbom.Subject{}, sbom.Options{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
		for _, p := range s.Packages {
			if p.Locations[0].LayerIndex != 0 {
				t.Errorf("%s attributed to layer %d, want the base layer", p.Name, p.Locations[0].LayerIndex)
			}
		}
	})
}
