package dockerfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/tether-sec/tether/dockerfile"
)

const (
	distroless = "gcr.io/distroless/static-debian12@sha256:3f2b64ef97bd285e36132c684e6b2ae8f2723293d09aae046196cca64251acac"
	bookworm   = "debian:bookworm-slim@sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf"
)

// ins builds an expected instruction; lines are start and end.
func ins(stage int, cmd, original string, start, end int, args ...string) dockerfile.Instruction {
	return dockerfile.Instruction{Stage: stage, Command: cmd, Original: original, Args: args, StartLine: start, EndLine: end}
}

func withFlags(in dockerfile.Instruction, flags ...string) dockerfile.Instruction {
	in.Flags = flags
	return in
}

func asJSON(in dockerfile.Instruction) dockerfile.Instruction {
	in.JSON = true
	return in
}

func asHeredoc(in dockerfile.Instruction) dockerfile.Instruction {
	in.Heredoc = true
	return in
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want *dockerfile.File
	}{
		{
			file: "multistage.Dockerfile",
			want: &dockerfile.File{
				Args: []dockerfile.Arg{
					{Name: "GO_VERSION", Default: "1.22.5", HasDefault: true, Line: 2},
					{Name: "ALPINE", Default: "3.20", HasDefault: true, Line: 3},
					{Name: "BASE_IMAGE", Default: "alpine:${ALPINE}", HasDefault: true, Line: 4},
				},
				Stages: []dockerfile.Stage{
					{Index: 0, Name: "build", From: "golang:${GO_VERSION}-alpine${ALPINE}", FromResolved: "golang:1.22.5-alpine3.20", FromStage: -1, StartLine: 6, EndLine: 12},
					{Index: 1, Name: "test", From: "build", FromResolved: "build", FromStage: 0, StartLine: 14, EndLine: 15},
					{Index: 2, Name: "runtime-base", From: "${BASE_IMAGE}", FromResolved: "alpine:3.20", FromStage: -1, StartLine: 17, EndLine: 18},
					{Index: 3, From: distroless, FromResolved: distroless, FromDigest: "sha256:3f2b64ef97bd285e36132c684e6b2ae8f2723293d09aae046196cca64251acac", FromStage: -1, StartLine: 20, EndLine: 23},
				},
				Instructions: []dockerfile.Instruction{
					ins(-1, "ARG", "ARG GO_VERSION=1.22.5", 2, 2, "GO_VERSION=1.22.5"),
					ins(-1, "ARG", "ARG ALPINE=3.20", 3, 3, "ALPINE=3.20"),
					ins(-1, "ARG", "ARG BASE_IMAGE=alpine:${ALPINE}", 4, 4, "BASE_IMAGE=alpine:${ALPINE}"),
					ins(0, "FROM", "FROM golang:${GO_VERSION}-alpine${ALPINE} AS Build", 6, 6, "golang:${GO_VERSION}-alpine${ALPINE}", "AS", "Build"),
					ins(0, "WORKDIR", "WORKDIR /src", 7, 7, "/src"),
					ins(0, "COPY", "COPY go.mod go.sum ./", 8, 8, "go.mod", "go.sum", "./"),
					withFlags(ins(0, "RUN", "RUN --mount=type=cache,target=/go/pkg/mod     go mod download", 9, 10, "go mod download"), "--mount=type=cache,target=/go/pkg/mod"),
					ins(0, "COPY", "COPY . .", 11, 11, ".", "."),
					ins(0, "RUN", "RUN CGO_ENABLED=0 go build -trimpath -o /out/app ./cmd/app", 12, 12, "CGO_ENABLED=0 go build -trimpath -o /out/app ./cmd/app"),
					ins(1, "FROM", "FROM build AS test", 14, 14, "build", "AS", "test"),
					ins(1, "RUN", "RUN go test ./...", 15, 15, "go test ./..."),
					ins(2, "FROM", "FROM ${BASE_IMAGE} AS runtime-base", 17, 17, "${BASE_IMAGE}", "AS", "runtime-base"),
					ins(2, "RUN", "RUN apk add --no-cache ca-certificates", 18, 18, "apk add --no-cache ca-certificates"),
					ins(3, "FROM", "FROM "+distroless, 20, 20, distroless),
					withFlags(ins(3, "COPY", "COPY --from=build /out/app /app", 21, 21, "/out/app", "/app"), "--from=build"),
					ins(3, "USER", "USER nonroot:nonroot", 22, 22, "nonroot:nonroot"),
					asJSON(ins(3, "ENTRYPOINT", `ENTRYPOINT ["/app"]`, 23, 23, "/app")),
				},
			},
		},
		{
			file: "platform.Dockerfile",
			want: &dockerfile.File{
				Stages: []dockerfile.Stage{
					{Index: 0, Name: "xx", From: "tonistiigi/xx:1.4.0", FromResolved: "tonistiigi/xx:1.4.0", Platform: "$BUILDPLATFORM", FromStage: -1, StartLine: 1, EndLine: 1},
					{Index: 1, Name: "build", From: "golang:1.22", FromResolved: "golang:1.22", Platform: "$BUILDPLATFORM", FromStage: -1, StartLine: 3, EndLine: 6},
					{Index: 2, From: bookworm, FromResolved: bookworm, FromDigest: "sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf", Platform: "linux/amd64", FromStage: -1, StartLine: 8, EndLine: 10},
				},
				Instructions: []dockerfile.Instruction{
					withFlags(ins(0, "FROM", "FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.4.0 AS xx", 1, 1, "tonistiigi/xx:1.4.0", "AS", "xx"), "--platform=$BUILDPLATFORM"),
					withFlags(ins(1, "FROM", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build", 3, 3, "golang:1.22", "AS", "build"), "--platform=$BUILDPLATFORM"),
					withFlags(ins(1, "COPY", "COPY --from=xx / /", 4, 4, "/", "/"), "--from=xx"),
					ins(1, "ARG", "ARG TARGETPLATFORM", 5, 5, "TARGETPLATFORM"),
					ins(1, "RUN", "RUN xx-go build -o /app .", 6, 6, "xx-go build -o /app ."),
					withFlags(ins(2, "FROM", "FROM --platform=linux/amd64 "+bookworm, 8, 8, bookworm), "--platform=linux/amd64"),
					withFlags(ins(2, "COPY", "COPY --from=build /app /usr/local/bin/app", 9, 9, "/app", "/usr/local/bin/app"), "--from=build"),
					ins(2, "CMD", "CMD app --serve", 10, 10, "app --serve"),
				},
			},
		},
		{
			file: "heredoc.Dockerfile",
			want: &dockerfile.File{
				Stages: []dockerfile.Stage{
					{Index: 0, From: "ubuntu:24.04", FromResolved: "ubuntu:24.04", FromStage: -1, StartLine: 2, EndLine: 16},
				},
				Instructions: []dockerfile.Instruction{
					ins(0, "FROM", "FROM ubuntu:24.04", 2, 2, "ubuntu:24.04"),
					asHeredoc(ins(0, "RUN", "RUN <<EOT", 3, 7, "<<EOT")),
					asHeredoc(ins(0, "COPY", "COPY <<-EOF /etc/app/config.toml", 8, 10, "<<-EOF", "/etc/app/config.toml")),
					asHeredoc(ins(0, "RUN", "RUN <<A cat > /a && <<B cat > /b", 11, 15, "<<A cat > /a && <<B cat > /b")),
					asJSON(ins(0, "CMD", `CMD ["sleep", "infinity"]`, 16, 16, "sleep", "infinity")),
				},
			},
		},
		{
			file: "continuation.Dockerfile",
			want: &dockerfile.File{
				Stages: []dockerfile.Stage{
					{Index: 0, From: "debian:12", FromResolved: "debian:12", FromStage: -1, StartLine: 1, EndLine: 18},
				},
				Instructions: []dockerfile.Instruction{
					ins(0, "FROM", "FROM debian:12", 1, 1, "debian:12"),
					ins(0, "RUN", "RUN apt-get update     && apt-get install -y --no-install-recommends         build-essential         git     && rm -rf /var/lib/apt/lists/*", 4, 10,
						"apt-get update     && apt-get install -y --no-install-recommends         build-essential         git     && rm -rf /var/lib/apt/lists/*"),
					ins(0, "ENV", "ENV PATH=/opt/bin:$PATH     LANG=C.UTF-8", 11, 12, "PATH=/opt/bin:$PATH", "LANG=C.UTF-8"),
					ins(0, "ENV", "ENV LEGACY value with spaces", 13, 13, "LEGACY=value with spaces"),
					ins(0, "LABEL", `LABEL org.opencontainers.image.source="https://github.com/acme/app"       maintainer="team@acme.example"`, 14, 15,
						`org.opencontainers.image.source="https://github.com/acme/app"`, `maintainer="team@acme.example"`),
					ins(0, "EXPOSE", "EXPOSE 8080/tcp 9090", 16, 16, "8080/tcp", "9090"),
					ins(0, "ONBUILD", "ONBUILD COPY --chown=app . /src", 17, 17, "COPY", "--chown=app", ".", "/src"),
					withFlags(ins(0, "HEALTHCHECK", "HEALTHCHECK --interval=30s CMD curl -f http://localhost:8080/ || exit 1", 18, 18, "CMD", "curl -f http://localhost:8080/ || exit 1"), "--interval=30s"),
				},
				Warnings: []dockerfile.Warning{{
					Line:    10,
					Message: "Empty continuation line found in: RUN apt-get update     && apt-get install -y --no-install-recommends         build-essential         git     && rm -rf /var/lib/apt/lists/*",
				}},
			},
		},
		{
			file: "crlf.Dockerfile",
			want: &dockerfile.File{
				Stages: []dockerfile.Stage{
					{Index: 0, From: "alpine:3.20", FromResolved: "alpine:3.20", FromStage: -1, StartLine: 1, EndLine: 4},
				},
				Instructions: []dockerfile.Instruction{
					ins(0, "FROM", "FROM alpine:3.20", 1, 1, "alpine:3.20"),
					ins(0, "RUN", "RUN echo one     two", 2, 3, "echo one     two"),
					asJSON(ins(0, "CMD", `CMD ["sh"]`, 4, 4, "sh")),
				},
			},
		},
		{
			file: "escape.Dockerfile",
			want: &dockerfile.File{
				Stages: []dockerfile.Stage{
					{Index: 0, From: "mcr.microsoft.com/windows/servercore:ltsc2022", FromResolved: "mcr.microsoft.com/windows/servercore:ltsc2022", FromStage: -1, StartLine: 3, EndLine: 7},
				},
				Instructions: []dockerfile.Instruction{
					ins(0, "FROM", "FROM mcr.microsoft.com/windows/servercore:ltsc2022", 3, 3, "mcr.microsoft.com/windows/servercore:ltsc2022"),
					asJSON(ins(0, "SHELL", `SHELL ["powershell", "-Command"]`, 4, 4, "powershell", "-Command")),
					ins(0, "RUN", `RUN New-Item -ItemType Directory C:\app ;     Write-Host done`, 5, 6, `New-Item -ItemType Directory C:\app ;     Write-Host done`),
					ins(0, "WORKDIR", `WORKDIR C:\app`, 7, 7, `C:\app`),
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := dockerfile.Parse(open(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		line int
		msg  string // the error's full text starts with this
	}{
		{"empty.Dockerfile", 0, "Dockerfile: no FROM instruction"},
		{"comments-only.Dockerfile", 0, "Dockerfile: no FROM instruction"},
		{"unknown-instruction.Dockerfile", 3, `Dockerfile line 3: unknown instruction "RUNN": check its spelling`},
		{"run-before-from.Dockerfile", 2, "Dockerfile line 2: RUN comes before the first FROM"},
		{"unterminated-heredoc.Dockerfile", 2, "Dockerfile line 2: unterminated heredoc"},
		{"bad-from.Dockerfile", 1, "Dockerfile line 1: FROM requires either one or three arguments"},
		{"garbage.bin", 1, "Dockerfile line 1: binary data where an instruction should be"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := dockerfile.Parse(open(t, tt.file))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", f)
			}
			if !errors.Is(err, dockerfile.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			var pe *dockerfile.ParseError
			if !errors.As(err, &pe) || pe.Line != tt.line {
				t.Errorf("error %#v: want a *ParseError on line %d", err, tt.line)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error = %q, want it to start with %q", err, tt.msg)
			}
		})
	}
}

func TestParseInline(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		stages  []dockerfile.Stage
		wantErr string
	}{
		{
			name: "arg without default stays as written",
			src:  "ARG TAG\nFROM app:${TAG:-latest}\n",
			stages: []dockerfile.Stage{
				{From: "app:${TAG:-latest}", FromResolved: "app:${TAG:-latest}", FromStage: -1, StartLine: 2, EndLine: 2},
			},
		},
		{
			name: "arg default with quotes and a later override",
			src:  "ARG REG=\"ghcr.io/acme\"\nARG IMG=${REG}/base\nARG REG=docker.io\nFROM ${IMG}:1 AS A\nFROM a\n",
			stages: []dockerfile.Stage{
				{Name: "a", From: "${IMG}:1", FromResolved: "ghcr.io/acme/base:1", FromStage: -1, StartLine: 4, EndLine: 4},
				{Index: 1, From: "a", FromResolved: "a", FromStage: 0, StartLine: 5, EndLine: 5},
			},
		},
		{
			name: "digest from an arg; a stage name after FROM is not a stage reference",
			src:  "ARG D=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nFROM later\nFROM alpine@${D} AS later\n",
			stages: []dockerfile.Stage{
				{From: "later", FromResolved: "later", FromStage: -1, StartLine: 2, EndLine: 2},
				{Index: 1, Name: "later", From: "alpine@${D}", FromResolved: "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					FromDigest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", FromStage: -1, StartLine: 3, EndLine: 3},
			},
		},
		{
			name: "lower-case instructions and a BOM",
			src:  "\ufefffrom alpine as base\nrun echo hi\n",
			stages: []dockerfile.Stage{
				{Name: "base", From: "alpine", FromResolved: "alpine", FromStage: -1, StartLine: 1, EndLine: 2},
			},
		},
		{name: "duplicate stage", src: "FROM a AS x\nFROM b AS X\n", wantErr: `Dockerfile line 2: duplicate build stage name "x"`},
		{name: "bad stage name", src: "FROM a AS 1st\n", wantErr: `Dockerfile line 1: invalid build stage name "1st"`},
		{name: "empty arg", src: "ARG\nFROM a\n", wantErr: "Dockerfile line 1: ARG requires at least one argument"},
		{name: "bad json", src: "FROM a\nCMD [1, 2]\n", wantErr: "Dockerfile line 2: "},
		{name: "bad escape directive", src: "# escape=x\nFROM a\n", wantErr: "Dockerfile line 1: invalid escape token"},
		{name: "repeated directive", src: "# escape=`\n# escape=\\\nFROM a\n", wantErr: "Dockerfile line 2: only one escape parser directive"},
		{name: "long line", src: "FROM a\nRUN " + strings.Repeat("x", 70000) + "\n", wantErr: "Dockerfile line 2: dockerfile line greater than max allowed size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dockerfile.Parse(strings.NewReader(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || !errors.Is(err, dockerfile.ErrInvalid) {
					t.Fatalf("Parse error = %v, want one starting with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.stages, got.Stages); diff != "" {
				t.Errorf("stages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := dockerfile.Parse(iotest.TimeoutReader(strings.NewReader("FROM a\n")))
	if err == nil || errors.Is(err, dockerfile.ErrInvalid) {
		t.Errorf("Parse with a failing reader = %v, want a read error", err)
	}
	_, err = dockerfile.Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("Parse = %v, want it to wrap %v", err, boom)
	}
}

func TestIsDockerfile(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"Dockerfile", true},
		{"dockerfile", true},
		{"DOCKERFILE", true},
		{"Containerfile", true},
		{"build/Dockerfile", true},
		{`build\Dockerfile`, true},
		{"Dockerfile.prod", true},
		{"dockerfile.dev", true},
		{"Containerfile.rhel9", true},
		{"services/api/api.Dockerfile", true},
		{"worker.dockerfile", true},
		{"base.Containerfile", true},
		{"Dockerfile.dockerignore", false},
		{"api.Dockerfile.dockerignore", false},
		{".dockerignore", false},
		{"Dockerfile.md", false},
		{"Dockerfile.j2", false},
		{"Dockerfile.orig", false},
		{"dockerfile/dockerfile.go", false},
		{"Dockerfile.", false},
		{".dockerfile", false},
		{"Dockerfiles", false},
		{"MyDockerfile", false},
		{"docker-compose.yml", false},
		{"Dockerfile/README", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := dockerfile.IsDockerfile(tt.path); got != tt.want {
			t.Errorf("IsDockerfile(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func ExampleParse() {
	src := `ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
RUN go build -o /app .

FROM gcr.io/distroless/static@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
COPY --from=build /app /app
`
	f, err := dockerfile.Parse(strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range f.Stages {
		fmt.Printf("stage %d %q lines %d-%d: %s digest=%q from_stage=%d\n", s.Index, s.Name, s.StartLine, s.EndLine, s.FromResolved, s.FromDigest, s.FromStage)
	}
	// Output:
	// stage 0 "build" lines 2-3: golang:1.22 digest="" from_stage=-1
	// stage 1 "" lines 5-6: gcr.io/distroless/static@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef digest="sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" from_stage=-1
}

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
