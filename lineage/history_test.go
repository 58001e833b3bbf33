package lineage

import "testing"

func TestParseHistory(t *testing.T) {
	tests := []struct {
		createdBy string
		want      step
		ok        bool
	}{
		{"RUN /bin/sh -c apk add --no-cache ca-certificates # buildkit", step{"RUN", "apk add --no-cache ca-certificates"}, true},
		{"/bin/sh -c #(nop)  CMD [\"nginx\" \"-g\" \"daemon off;\"]", step{"CMD", "nginx -g daemon off;"}, true},
		{"/bin/sh -c #(nop) COPY dir:3f2a91 in /app ", step{"COPY", "dir:3f2a91 in /app"}, true},
		{"|2 GOOS=linux GOARCH=amd64 /bin/sh -c go build -o /out/app .", step{"RUN", "go build -o /out/app ."}, true},
		{"/bin/sh -c apt-get update &&     apt-get install -y curl", step{"RUN", "apt-get update && apt-get install -y curl"}, true},
		{"COPY . /src # buildkit", step{"COPY", ". /src"}, true},
		{"WORKDIR /app", step{"WORKDIR", "/app"}, true},
		{"EXPOSE map[8080/tcp:{}]", step{"EXPOSE", "8080"}, true},
		{`ENTRYPOINT ["/app/server"]`, step{"ENTRYPOINT", "/app/server"}, true},
		{"", step{}, false},
		{"bazel build //app:image", step{}, false},
		{"/bin/sh -c #(nop) FROBNICATE", step{}, false},
	}
	for _, tt := range tests {
		got, ok := parseHistory(tt.createdBy)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseHistory(%q) = %+v, %v; want %+v, %v", tt.createdBy, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		hist string
		cmd  string
		args []string
		want bool
	}{
		{"RUN /bin/sh -c make build # buildkit", "RUN", []string{"make build"}, true},
		{"RUN /bin/sh -c make build # buildkit", "RUN", []string{"make test"}, false},
		{"/bin/sh -c #(nop) COPY dir:3f2a91 in /app ", "COPY", []string{".", "/app/"}, true},
		{"/bin/sh -c #(nop) COPY dir:3f2a91 in /app ", "COPY", []string{".", "/srv"}, false},
		{"COPY /out/app /app/app # buildkit", "COPY", []string{"/out/app", "/app/app"}, true},
		{`ENTRYPOINT ["/app/server"]`, "ENTRYPOINT", []string{`["/app/server"]`}, true},
		{`/bin/sh -c #(nop)  CMD ["serve", "--port", "80"]`, "CMD", []string{`["serve", "--port", "80"]`}, true},
		{"EXPOSE map[8080/tcp:{}]", "EXPOSE", []string{"8080"}, true},
		{"WORKDIR /app", "USER", []string{"/app"}, false},
	}
	for _, tt := range tests {
		h, ok := parseHistory(tt.hist)
		if !ok {
			t.Fatalf("parseHistory(%q) not ok", tt.hist)
		}
		if got := matches(h, instructionStep(tt.cmd, tt.args)); got != tt.want {
			t.Errorf("matches(%q, %s %v) = %v, want %v", tt.hist, tt.cmd, tt.args, got, tt.want)
		}
	}
}

func TestAlign(t *testing.T) {
	hist := []string{
		"/bin/sh -c #(nop) ADD file:aa in / ", `/bin/sh -c #(nop)  CMD ["bash"]`, // base image
		"WORKDIR /app", "COPY . /app # buildkit", "RUN /bin/sh -c make # buildkit", "USER 1000",
	}
	steps := make([]step, len(hist))
	ok := make([]bool, len(hist))
	for i, h := range hist {
		steps[i], ok[i] = parseHistory(h)
	}
	ins := []step{
		instructionStep("ARG", []string{"V=1"}),
		instructionStep("WORKDIR", []string{"/app"}),
		instructionStep("COPY", []string{".", "/app"}),
		instructionStep("RUN", []string{"make"}),
		instructionStep("USER", []string{"1000"}),
	}
	a := align(steps, ok, ins)
	if a.score() != 1 || len(a.pairs) != 4 || a.pairs[0] != [2]int{2, 1} {
		t.Errorf("align = %+v (score %v), want all 4 build steps matched from history entry 2", a, a.score())
	}
	other := []step{instructionStep("WORKDIR", []string{"/migrations"}), instructionStep("COPY", []string{"m/", "/migrations/"})}
	if s := align(steps, ok, other).score(); s != 0 {
		t.Errorf("unrelated Dockerfile scored %v, want 0", s)
	}
}

// FuzzParseHistory feeds the history normaliser arbitrary created_by strings:
// it must not panic, and what it accepts it gives an instruction keyword and
// whitespace-normalized arguments, which match themselves.
func FuzzParseHistory(f *testing.F) {
	for _, s := range []string{
		"RUN /bin/sh -c apk add --no-cache ca-certificates # buildkit",
		"/bin/sh -c #(nop)  CMD [\"nginx\" \"-g\" \"daemon off;\"]",
		"|2 GOOS=linux GOARCH=amd64 /bin/sh -c go build -o /out/app .",
		"RUN --mount=type=cache,target=/root/.cache/go-build go build ./... # buildkit",
		"EXPOSE map[8080/tcp:{}]",
		"COPY --from=build /out/app /app # buildkit",
		"/bin/sh -c #(nop) ADD file:0a1b in / ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, createdBy string) {
		st, ok := parseHistory(createdBy)
		if !ok {
			return
		}
		if st.cmd == "" {
			t.Fatalf("parseHistory(%q) accepted with no instruction", createdBy)
		}
		if !matches(st, st) {
			t.Fatalf("parseHistory(%q) = %+v does not match itself", createdBy, st)
		}
	})
}
