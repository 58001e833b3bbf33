package engineapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-sec/tether/image/internal/engineapi"
)

func TestParseHost(t *testing.T) {
	for in, want := range map[string]engineapi.Host{
		"/run/podman/podman.sock":     {Network: "unix", Addr: "/run/podman/podman.sock"},
		"unix:///var/run/docker.sock": {Network: "unix", Addr: "/var/run/docker.sock"},
		"tcp://127.0.0.1:2376":        {Network: "tcp", Addr: "127.0.0.1:2376"},
		"tcp://docker.internal/":      {Network: "tcp", Addr: "docker.internal:2375"},
		"tcp://[::1]:2375":            {Network: "tcp", Addr: "[::1]:2375"},
	} {
		got, err := engineapi.ParseHost(in)
		if err != nil {
			t.Errorf("ParseHost(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("ParseHost(%q) = %+v, want %+v", in, got, want)
		}
		if again, err := engineapi.ParseHost(got.String()); err != nil || again != got {
			t.Errorf("ParseHost(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
	for _, in := range []string{"", "unix://", "tcp://", "ssh://me@host", "npipe:////./pipe/docker_engine", "https://host:2376"} {
		if h, err := engineapi.ParseHost(in); err == nil {
			t.Errorf("ParseHost(%q) = %+v, want an error", in, h)
		}
	}
}

func TestLocate(t *testing.T) {
	xdg := t.TempDir()
	user := filepath.Join(xdg, "podman", "podman.sock")
	if err := os.MkdirAll(filepath.Dir(user), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(user, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	type result struct {
		Host  string
		Tried []string
		Err   string
	}
	for _, c := range []struct {
		name, engine string
		env          map[string]string
		want         result
	}{
		{"docker default", "docker", nil, result{Host: "unix:///var/run/docker.sock"}},
		{"DOCKER_HOST", "docker", map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"}, result{Host: "unix:///tmp/d.sock"}},
		{"DOCKER_HOST tcp", "docker", map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375"}, result{Host: "tcp://127.0.0.1:2375"}},
		{"DOCKER_HOST tls", "docker", map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"},
			result{Err: "DOCKER_HOST is not usable: DOCKER_TLS_VERIFY is set but TLS to the engine is not supported"}},
		{"DOCKER_HOST ssh", "docker", map[string]string{"DOCKER_HOST": "ssh://me@host"}, result{Err: "DOCKER_HOST is not usable: \"ssh://me@host\" is not unix:///PATH or tcp://HOST:PORT (ssh:// and TLS are not supported: forward the socket, e.g. `ssh -L /tmp/engine.sock:/var/run/docker.sock HOST`, and use unix:///tmp/engine.sock)"}},
		{"CONTAINER_HOST", "podman", map[string]string{"CONTAINER_HOST": "unix:///tmp/p.sock", "XDG_RUNTIME_DIR": xdg}, result{Host: "unix:///tmp/p.sock"}},
		{"user socket", "podman", map[string]string{"XDG_RUNTIME_DIR": xdg}, result{Host: "unix://" + user}},
		{"root socket", "podman", map[string]string{"XDG_RUNTIME_DIR": empty}, result{Host: "unix:///run/podman/podman.sock", Tried: []string{"unix://" + filepath.Join(empty, "podman", "podman.sock")}}},
		{"no XDG_RUNTIME_DIR", "podman", nil, result{Host: "unix:///run/podman/podman.sock"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"DOCKER_HOST", "DOCKER_TLS_VERIFY", "CONTAINER_HOST", "XDG_RUNTIME_DIR"} {
				t.Setenv(k, c.env[k])
			}
			h, tried, err := engineapi.Locate(c.engine)
			var got result
			if err != nil {
				got.Err = err.Error()
				var env *engineapi.EnvError
				if !errors.As(err, &env) {
					t.Errorf("error %v is not an *EnvError", err)
				}
			} else {
				got.Host, got.Tried = h.String(), tried
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Locate(%q) (-want +got):\n%s", c.engine, diff)
			}
		})
	}
}
