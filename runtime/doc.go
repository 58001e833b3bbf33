// Package runtime inventories what runs — Kubernetes today, ECS later — as graph
// facts: clusters, workloads, containers, the image digests they run and the
// services that expose them.
package runtime
