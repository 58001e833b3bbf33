package runtime_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tether-sec/tether/runtime"
)

func ExampleReadK8sSnapshot() {
	const snapshot = `{"apiVersion":"v1","kind":"List","items":[
	  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web"}},
	   "spec":{"containers":[{"name":"web","image":"nginx:1.27","env":[{"name":"TOKEN","value":"never stored"}]}]},
	   "status":{"phase":"Running","containerStatuses":[{"name":"web","image":"docker.io/library/nginx:1.27",
	     "imageID":"docker.io/library/nginx@sha256:65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a",
	     "ready":true,"restartCount":0,"state":{"running":{"startedAt":"2026-03-02T09:15:07Z"}}}]}},
	  {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},
	   "spec":{"type":"ClusterIP","selector":{"app":"web"},"ports":[{"port":80}]}}]}`
	b, err := runtime.ReadK8sSnapshot(context.Background(), strings.NewReader(snapshot), runtime.K8sOptions{Cluster: "prod", Source: "pods.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range b.Nodes {
		stub := ""
		if n.Stub {
			stub = " (stub)"
		}
		fmt.Printf("%s%s\n", n.ID, stub)
	}
	for _, e := range b.Edges {
		fmt.Printf("%s -%s-> %s [%s]\n", e.From, e.Kind, e.To, e.Method)
	}
	// Output:
	// cluster:prod
	// container:prod/shop/web-1/web
	// image:sha256:65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a (stub)
	// service:prod/shop/web
	// workload:prod/shop/Pod/web-1
	// container:prod/shop/web-1/web -in_workload-> workload:prod/shop/Pod/web-1 [k8s-snapshot]
	// container:prod/shop/web-1/web -runs-> image:sha256:65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a [k8s-status]
	// service:prod/shop/web -exposes-> workload:prod/shop/Pod/web-1 [k8s-selector]
	// service:prod/shop/web -in_cluster-> cluster:prod [k8s-snapshot]
	// workload:prod/shop/Pod/web-1 -in_cluster-> cluster:prod [k8s-snapshot]
}
