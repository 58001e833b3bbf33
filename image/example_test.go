package image_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tether-sec/tether/image"
)

func ExampleParseRef() {
	for _, s := range []string{"alpine:3.20", "oci:./build/layout:v1", "docker-archive:app.tar:registry.example.com/app:v1"} {
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
