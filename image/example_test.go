package image_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tether-sec/tether/image"
)

func ExampleParseRef() {
	for _, s := range []string{"alpine:3.20", "oci:./build/layout:v1", "docker-archive:app.tar:registry.example.com/app:v1",
		"docker:alpine", "podman:app:v1"} {
		r, err := image.ParseRef(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Transport, r.String())
	}
	// Output:
	// registry docker.io/library/alpine:3.20
	// oci-layout oci:./build/layout:v1
	// docker-archive docker-archive:app.tar:registry.example.com/app:v1
	// docker docker:docker.io/library/alpine:latest
	// podman podman:app:v1
}

func ExampleScan() {
	b, err := image.Scan(context.Background(), "registry.example.com/app:v1", image.WithPlatform("linux/amd64"))
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range b.Nodes {
		fmt.Println(n.Kind, n.ID)
	}
}

// Open an image a local Podman holds, through its API service. Close removes the
// temporary copy of the image that its layers are read from.
func ExampleOpen_podman() {
	t, err := image.Open(context.Background(), "podman:registry.example.com/app:v1",
		image.WithEngineSocket("unix:///run/podman/podman.sock"))
	if err != nil {
		log.Fatal(err) // e.g. "start the Podman API service with `podman system service --time=0 unix:///run/podman/podman.sock`"
	}
	defer t.Close()
	fmt.Println(t.Digest, t.DigestSource) // the registry's manifest digest, "engine"
}
