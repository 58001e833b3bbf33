package source_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/source"
)

const ghaWorkflow = `name: release
on:
  push:
    branches: [main]
env:
  REGISTRY: ghcr.io
jobs:
  api:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ${{ env.REGISTRY }}/${{ github.repository }}/api
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: ./services/api
          file: ./services/api/Dockerfile
          push: true
          tags: ${{ steps.meta.outputs.tags }}
  web:
    runs-on: ubuntu-latest
    env:
      IMAGE: ghcr.io/acme/web
    steps:
      - uses: actions/checkout@v4
      - run: |
          docker build --build-arg VERSION=1 -f deploy/web.Dockerfile \
            -t $IMAGE:${{ github.sha }} .
          docker push $IMAGE:${{ github.sha }}
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: go vet ./...
`

const gitlabCI = `stages: [build]
variables:
  IMAGE: $CI_REGISTRY_IMAGE/worker
build-api:
  stage: build
  image:
    name: gcr.io/kaniko-project/executor:debug
    entrypoint: [""]
  script:
    - /kaniko/executor --context "${CI_PROJECT_DIR}" --dockerfile "${CI_PROJECT_DIR}/Dockerfile" --destination "${CI_REGISTRY_IMAGE}:${CI_COMMIT_SHA}"
build-worker:
  stage: build
  script:
    - buildah bud --isolation chroot -f worker/Dockerfile -t $IMAGE:latest worker
`

func TestParseCIWorkflow(t *testing.T) {
	cases := []struct {
		name, file, repo, data string
		want                   []source.CIBuild
	}{
		{"github actions", ".github/workflows/release.yml", "https://github.com/Acme/shop.git", ghaWorkflow, []source.CIBuild{
			{Job: "api", Tool: "docker/build-push-action", Dockerfile: "./services/api/Dockerfile", Context: "./services/api", Images: []string{"ghcr.io/acme/shop/api"}, Line: 16},
			{Job: "web", Tool: "docker build", Dockerfile: "deploy/web.Dockerfile", Context: ".", Images: []string{"ghcr.io/acme/web"}, Line: 30},
		}},
		{"gitlab ci", ".gitlab-ci.yml", "https://gitlab.com/acme/shop", gitlabCI, []source.CIBuild{
			{Job: "build-api", Tool: "kaniko", Dockerfile: "${CI_PROJECT_DIR}/Dockerfile", Context: "${CI_PROJECT_DIR}", Images: []string{"registry.gitlab.com/acme/shop"}, Line: 10},
			{Job: "build-worker", Tool: "buildah bud", Dockerfile: "worker/Dockerfile", Context: "worker", Images: []string{"registry.gitlab.com/acme/shop/worker"}, Line: 14},
		}},
		{"no builds", ".github/workflows/ci.yml", "", "on: push\njobs:\n  test:\n    steps:\n      - run: go test ./...\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := source.ParseCIWorkflow(tc.file, []byte(tc.data), tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("builds (-want +got):\n%s", d)
			}
		})
	}
	if _, err := source.ParseCIWorkflow(".gitlab-ci.yml", []byte("a: [b\n"), ""); err == nil {
		t.Error("malformed YAML: no error")
	}
}

func FuzzParseCIWorkflow(f *testing.F) {
	f.Add(".github/workflows/release.yml", ghaWorkflow)
	f.Add(".gitlab-ci.yml", gitlabCI)
	f.Add(".github/workflows/x.yml", "jobs:\n  a:\n    steps:\n      - run: docker build -t\n")
	f.Fuzz(func(t *testing.T, name, data string) {
		builds, err := source.ParseCIWorkflow(name, []byte(data), "https://github.com/acme/shop")
		if err != nil {
			return
		}
		for _, b := range builds {
			if b.Job == "" || b.Tool == "" {
				t.Fatalf("build without job or tool: %+v", b)
			}
		}
	})
}
