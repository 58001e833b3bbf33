// Package engineapi is a minimal client of the Docker Engine API, as Docker and Podman
// serve it on a unix socket (or plain TCP): the calls that find and export an image.
package engineapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where engines listen when nothing says otherwise.
const (
	DefaultDockerSocket = "/var/run/docker.sock"
	RootPodmanSocket    = "/run/podman/podman.sock"
)

// APIVersion is the API version spoken when the engine serves it; an engine whose
// range excludes it is spoken to at the nearest version it serves (Docker 29 serves
// 1.44 and later). The calls used have not changed since 1.41.
const APIVersion = "1.41"

// maxJSON bounds the engine's JSON answers.
const maxJSON = 16 << 20

// Host is where an engine listens.
type Host struct {
	Network string // "unix" or "tcp"
	Addr    string // a socket path or host:port
}

// String returns the host as unix:///PATH or tcp://HOST:PORT.
func (h Host) String() string { return h.Network + "://" + h.Addr }

// ParseHost reads a socket path, unix:///PATH or tcp://HOST[:PORT] (port 2375 by
// default).
func ParseHost(s string) (Host, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case s == "":
		return Host{}, errors.New("the address is empty")
	case !ok:
		return Host{Network: "unix", Addr: s}, nil
	case scheme == "unix" && rest != "":
		return Host{Network: "unix", Addr: rest}, nil
	case scheme == "tcp" && rest != "":
		host := strings.TrimSuffix(rest, "/")
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(host, "2375")
		}
		return Host{Network: "tcp", Addr: host}, nil
	}
	return Host{}, fmt.Errorf("%q is not unix:///PATH or tcp://HOST:PORT (ssh:// and TLS are not supported: forward the socket, e.g. `ssh -L /tmp/engine.sock:/var/run/docker.sock HOST`, and use unix:///tmp/engine.sock)", s)
}

// EnvError says that an environment variable naming the engine's socket is not usable.
type EnvError struct {
	Var, Value string
	Err        error
}

func (e *EnvError) Error() string { return e.Var + " is not usable: " + e.Err.Error() }

func (e *EnvError) Unwrap() error { return e.Err }

// Locate finds the socket of engine "docker" or "podman" when none is given: for
// docker, DOCKER_HOST, else DefaultDockerSocket; for podman, CONTAINER_HOST, else
// $XDG_RUNTIME_DIR/podman/podman.sock when it exists, else RootPodmanSocket. It also
// returns the sockets looked for and not found before the one chosen.
func Locate(engine string) (h Host, tried []string, err error) {
	fromEnv := func(name string) (Host, bool, error) {
		v := os.Getenv(name)
		if v == "" {
			return Host{}, false, nil
		}
		h, err := ParseHost(v)
		if err != nil {
			return Host{}, false, &EnvError{Var: name, Value: v, Err: err}
		}
		return h, true, nil
	}
	if engine == "docker" {
		h, ok, err := fromEnv("DOCKER_HOST")
		switch {
		case err != nil:
			return Host{}, nil, err
		case !ok:
			return Host{Network: "unix", Addr: DefaultDockerSocket}, nil, nil
		case h.Network == "tcp" && os.Getenv("DOCKER_TLS_VERIFY") != "":
			return Host{}, nil, &EnvError{Var: "DOCKER_HOST", Value: h.String(), Err: errors.New("DOCKER_TLS_VERIFY is set but TLS to the engine is not supported")}
		}
		return h, nil, nil
	}
	h, ok, err := fromEnv("CONTAINER_HOST")
	if err != nil || ok {
		return h, nil, err
	}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		user := filepath.Join(xdg, "podman", "podman.sock")
		if _, err := os.Stat(user); err == nil {
			return Host{Network: "unix", Addr: user}, nil, nil
		}
		tried = append(tried, "unix://"+user)
	}
	return Host{Network: "unix", Addr: RootPodmanSocket}, tried, nil
}

// ConnError is a request that got no answer: the engine could not be reached.
type ConnError struct{ Err error }

func (e *ConnError) Error() string { return e.Err.Error() }

func (e *ConnError) Unwrap() error { return e.Err }

// StatusError is an answer other than 2xx, with the engine's message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// Client talks to one engine.
type Client struct {
	host    Host
	version string
	http    *http.Client
	agent   string
}

// New returns a client of the engine at h that sends userAgent and speaks APIVersion
// until Negotiate says otherwise.
func New(h Host, userAgent string) *Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &Client{host: h, version: APIVersion, agent: userAgent, http: &http.Client{Transport: &http.Transport{
		Proxy: nil, // an engine socket is local; never send it through a proxy
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, h.Network, h.Addr)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}}}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Version is the API version the client speaks.
func (c *Client) Version() string { return c.version }

// url builds the address of an API path; an empty version is the unversioned API.
func (c *Client) url(version string, segments ...string) string {
	host := "engine"
	if c.host.Network == "tcp" {
		host = c.host.Addr
	}
	var b strings.Builder
	b.WriteString("http://" + host)
	if version != "" {
		b.WriteString("/v" + version)
	}
	for _, s := range segments {
		b.WriteString("/" + s)
	}
	return b.String()
}

// escapeName escapes an image name for a path, keeping its slashes: the engines route
// /images/{name}/json with the name's slashes as they are.
func escapeName(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// get sends GET u and returns the response when it is a 2xx one; otherwise a
// ConnError, a StatusError, or the context's error.
func (c *Client) get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnError{Err: err}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, &StatusError{Status: resp.StatusCode, Message: message(body)}
}

// message is the "message" of an engine's JSON error body, else the body itself.
func message(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// getJSON decodes the answer to GET u into v.
func (c *Client) getJSON(ctx context.Context, u string, v any) (http.Header, error) {
	resp, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(v); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return resp.Header, err
	}
	return resp.Header, nil
}

// Negotiate picks the API version: APIVersion when the engine serves it, else the
// nearest one it does. GET /_ping tells the newest version the engine serves, and
// whether it is Podman, which serves every version from 1.24 up; Docker's oldest
// comes from GET /version (slow on Podman, which looks up its components' packages).
// An engine that answers neither is spoken to at APIVersion. Only a failure to reach
// the engine, or the context's end, is an error.
func (c *Client) Negotiate(ctx context.Context) error {
	resp, err := c.get(ctx, c.url("", "_ping"))
	var se *StatusError
	if errors.As(err, &se) {
		return nil // an old or odd engine: try the calls themselves
	} else if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	newest := resp.Header.Get("Api-Version")
	c.version = pick(APIVersion, "", newest)
	if resp.Header.Get("Libpod-Api-Version") != "" {
		return nil
	}
	var v struct {
		APIVersion    string `json:"ApiVersion"`
		MinAPIVersion string `json:"MinAPIVersion"`
	}
	if _, err := c.getJSON(ctx, c.url("", "version"), &v); err != nil {
		var ce *ConnError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return err
		}
		return nil
	}
	c.version = pick(APIVersion, v.MinAPIVersion, v.APIVersion)
	return nil
}

// pick clamps want into [low, high]; a bound that does not parse is ignored.
func pick(want, low, high string) string {
	if _, ok := parseVersion(low); ok && compareVersions(want, low) < 0 {
		return low
	}
	if _, ok := parseVersion(high); ok && compareVersions(want, high) > 0 {
		return high
	}
	return want
}

// parseVersion reads "MAJOR.MINOR".
func parseVersion(s string) ([2]int, bool) {
	major, minor, ok := strings.Cut(s, ".")
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 {
		return [2]int{}, false
	}
	return [2]int{a, b}, true
}

func compareVersions(a, b string) int {
	x, _ := parseVersion(a)
	y, _ := parseVersion(b)
	if x[0] != y[0] {
		return x[0] - y[0]
	}
	return x[1] - y[1]
}

// Image is what GET /images/{name}/json says of an image.
type Image struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	OS           string   `json:"Os"`
	Architecture string   `json:"Architecture"`
}

// Inspect reads the record of the image name (a name, NAME@DIGEST or an ID), which
// the engine resolves as its own CLI does. A JSON answer that does not decode is
// returned as the decoder's error.
func (c *Client) Inspect(ctx context.Context, name string) (*Image, error) {
	var im Image
	if _, err := c.getJSON(ctx, c.url(c.version, "images", escapeName(name), "json"), &im); err != nil {
		return nil, err
	}
	return &im, nil
}

// PulledBy asks Podman's own API which digest the image id was pulled by (for an
// image pulled through an index, the index's). It returns "" when that cannot be
// told, as from Docker.
func (c *Client) PulledBy(ctx context.Context, id string) string {
	var v struct {
		Digest string `json:"Digest"`
	}
	if _, err := c.getJSON(ctx, c.url("", "v4.0.0", "libpod", "images", escapeName(id), "json"), &v); err != nil {
		return ""
	}
	return v.Digest
}

// Export starts GET /images/{id}/get: the image as `docker save` writes it. The caller
// reads and closes the stream.
func (c *Client) Export(ctx context.Context, id string) (io.ReadCloser, error) {
	resp, err := c.get(ctx, c.url(c.version, "images", escapeName(id), "get"))
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
