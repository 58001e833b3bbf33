package sbom_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/sbom"
)

// A multi-module Maven build: versions come from the parent's properties and
// dependency management, which osv-scalibr's offline reader does not follow.
var mavenTree = map[string]string{
	"pom.xml": `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.acme</groupId>
  <artifactId>acme-parent</artifactId>
  <version>2.3.0</version>
  <packaging>pom</packaging>
  <modules><module>service</module></modules>
  <properties>
    <commons.validator.version>1.10.1</commons.validator.version>
    <jackson.version>2.17.2</jackson.version>
    <junit.version>5.10.3</junit.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>com.fasterxml.jackson.core</groupId>
        <artifactId>jackson-databind</artifactId>
        <version>${jackson.version}</version>
      </dependency>
      <dependency>
        <groupId>org.junit</groupId>
        <artifactId>junit-bom</artifactId>
        <version>${junit.version}</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
</project>
`,
	"service/pom.xml": `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>io.acme</groupId>
    <artifactId>acme-parent</artifactId>
    <version>2.3.0</version>
  </parent>
  <artifactId>payments-service</artifactId>
  <dependencies>
    <dependency>
      <groupId>commons-validator</groupId>
      <artifactId>commons-validator</artifactId>
      <version>${commons.validator.version}</version>
    </dependency>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
    </dependency>
    <dependency>
      <groupId>${project.groupId}</groupId>
      <artifactId>acme-common</artifactId>
      <version>${project.version}</version>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>${junit.version}</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>ranged</artifactId>
      <version>[1.0,2.0)</version>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>undefined</artifactId>
      <version>${nowhere.version}</version>
    </dependency>
  </dependencies>
</project>
`,
}

func TestCatalogDirMavenModules(t *testing.T) {
	dir := writeTree(t, mavenTree)
	s, err := sbom.CatalogDir(context.Background(), dir, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range s.Packages {
		if p.Locations[0].Path == "service/pom.xml" {
			got = append(got, p.PURL)
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	want := []string{
		"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.17.2",
		"pkg:maven/commons-validator/commons-validator@1.10.1",
		"pkg:maven/io.acme/acme-common@2.3.0",
		"pkg:maven/io.acme/payments-service@2.3.0",
		// osv-scalibr reads a version range as its lower bound.
		"pkg:maven/org.example/ranged@1.0",
		"pkg:maven/org.junit.jupiter/junit-jupiter@5.10.3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service/pom.xml packages (-want +got):\n%s", diff)
	}
	if p, ok := byPURL(s, "pkg:maven/io.acme/acme-parent@2.3.0"); !ok || p.Locations[0].Path != "pom.xml" {
		t.Errorf("the parent project itself: %+v, %v", p, ok)
	}
	rels := relations(s)
	for _, want := range []string{
		"maven:io.acme:payments-service@2.3.0 depends-on maven:commons-validator:commons-validator@1.10.1",
		"maven:io.acme:payments-service@2.3.0 depends-on maven:com.fasterxml.jackson.core:jackson-databind@2.17.2",
		"maven:io.acme:payments-service@2.3.0 dev-depends-on maven:org.junit.jupiter:junit-jupiter@5.10.3",
	} {
		if !rels[want] {
			t.Errorf("missing relationship %q in %v", want, rels)
		}
	}
}
