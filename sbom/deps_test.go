package sbom_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-sec/tether/graph"

	"github.com/tether-sec/tether/sbom"
)

// relations returns s's relationships as "from-name@version type to-name@version".
func relations(s *sbom.SBOM) map[string]bool {
	byID := map[string]sbom.Package{}
	for _, p := range s.Packages {
		byID[p.ID] = p
	}
	out := map[string]bool{}
	for _, r := range s.Relationships {
		f, t := byID[r.From], byID[r.To]
		out[f.Type+":"+f.Name+"@"+f.Version+" "+string(r.Type)+" "+t.Type+":"+t.Name+"@"+t.Version] = true
	}
	return out
}

func TestRelationshipsFromLockfiles(t *testing.T) {
	s, err := sbom.CatalogDir(context.Background(), "testdata/tree", sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rels := relations(s)
	for _, want := range []string{
		"npm:express@4.19.2 depends-on npm:accepts@1.3.8",
		"npm:express@4.19.2 depends-on npm:body-parser@1.20.2",
		"cargo:serde@1.0.204 depends-on cargo:serde_derive@1.0.204",
		"gem:sinatra@4.0.0 depends-on gem:rack@3.1.7",
	} {
		if !rels[want] {
			t.Errorf("missing relationship %q", want)
		}
	}
	ids := map[string]bool{}
	for _, p := range s.Packages {
		ids[p.ID] = true
	}
	for _, r := range s.Relationships {
		if !ids[r.From] || !ids[r.To] {
			t.Errorf("relationship %+v names a package that is not in the SBOM", r)
		}
	}
	t.Logf("%d relationships", len(s.Relationships))

	b := sbom.Facts(s, time.Now())
	if err := b.Validate(); err != nil {
		t.Fatalf("facts: %v", err)
	}
	deps, found := 0, false
	for _, e := range b.Edges {
		if e.Kind != graph.EdgeDependsOn {
			continue
		}
		deps++
		found = found || (e.From == graph.PackageID("pkg:npm/express@4.19.2") && e.To == graph.PackageID("pkg:npm/accepts@1.3.8"))
	}
	if !found {
		t.Errorf("facts hold %d depends_on edges, none express → accepts", deps)
	}

	// The same lockfile in an image layer gives the same relationships.
	img := buildImage(t, layerStep{Layer: tarLayer(t,
		reg("srv/package-lock.json", readFile(t, "testdata/tree/app/js/package-lock.json")),
	), CreatedBy: "COPY package-lock.json /srv/"},
		layerStep{Layer: tarLayer(t, reg("etc/motd", "hi")), CreatedBy: "COPY motd /etc/"})
	is, err := sbom.CatalogImage(context.Background(), img, sbom.Subject{}, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if irels := relations(is); !irels["npm:express@4.19.2 depends-on npm:accepts@1.3.8"] {
		t.Errorf("image relationships lack express → accepts (%d relationships)", len(is.Relationships))
	}
}
