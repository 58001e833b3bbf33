package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// GitHubAttestations configures the lookup of GitHub artifact attestations
// (actions/attest-build-provenance) through GitHub's REST API, for images
// whose attestations were not pushed to the registry.
type GitHubAttestations struct {
	// API is the API root: https://api.github.com, or a GitHub Enterprise
	// Server's https://HOST/api/v3.
	API string
	// Token is a token that may read the attestations (GITHUB_TOKEN).
	Token string
	// Orgs are organizations whose attestations are searched
	// (GET /orgs/ORG/attestations/DIGEST). Images on ghcr.io are also looked up
	// in their own repository (GET /repos/OWNER/REPO/attestations/DIGEST).
	Orgs []string
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// WithGitHubAttestations makes Open ask GitHub for each image's artifact
// attestations. A failed request fails Open with the status and GitHub's message.
func WithGitHubAttestations(g GitHubAttestations) Option {
	return func(o *options) error {
		if g.API == "" {
			g.API = "https://api.github.com"
		}
		if _, err := url.Parse(g.API); err != nil {
			return fmt.Errorf("%w: GitHub API URL %q: %v", ErrBadOption, g.API, err)
		}
		o.github = &g
		return nil
	}
}

// maxGitHubResponse bounds one attestations response.
const maxGitHubResponse = 64 << 20

// githubAttestations asks GitHub for the attestations of every image of t.
func githubAttestations(ctx context.Context, t *Target, g *GitHubAttestations) error {
	client := g.Client
	if client == nil {
		client = http.DefaultClient
	}
	var paths []string
	for _, org := range g.Orgs {
		paths = append(paths, "orgs/"+url.PathEscape(org))
	}
	if t.Ref.Transport == TransportRegistry && t.Ref.Name != nil && t.Ref.Name.Context().RegistryStr() == "ghcr.io" {
		parts := strings.Split(t.Ref.Name.Context().RepositoryStr(), "/")
		if len(parts) >= 2 {
			paths = append(paths, "repos/"+url.PathEscape(parts[0])+"/"+url.PathEscape(parts[1]))
		}
	}
	for i := range t.Images {
		im := &t.Images[i]
		for _, p := range paths {
			ps, err := githubLookup(ctx, client, g, p, im.Digest)
			if err != nil {
				return err
			}
			for _, pv := range ps {
				if !slices.Contains(im.Provenance, pv) {
					im.Provenance = append(im.Provenance, pv)
				}
			}
		}
	}
	return nil
}

// githubLookup runs GET {api}/{path}/attestations/{digest} and reads the
// provenance in the sigstore bundles it returns.
func githubLookup(ctx context.Context, client *http.Client, g *GitHubAttestations, path, digest string) ([]Provenance, error) {
	u := strings.TrimSuffix(g.API, "/") + "/" + path + "/attestations/" + url.PathEscape(digest) + "?per_page=100"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", userAgent)
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("image: GitHub attestations: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxGitHubResponse))
	if err != nil {
		return nil, fmt.Errorf("image: GitHub attestations: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil // no attestation for this digest
	case resp.StatusCode != http.StatusOK:
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = ": set GITHUB_TOKEN to a token that can read the repository's attestations"
		}
		return nil, fmt.Errorf("image: GitHub attestations: GET %s: %s %s%s", strings.TrimSuffix(u, "?per_page=100"), resp.Status, e.Message, hint)
	}
	var page struct {
		Attestations []struct {
			Bundle json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("image: GitHub attestations: %s: not the attestations response: %v", u, err)
	}
	var out []Provenance
	for _, a := range page.Attestations {
		if len(a.Bundle) == 0 || string(a.Bundle) == "null" {
			continue
		}
		st, err := DecodeAttestation(a.Bundle)
		if err != nil || !st.About(digest) {
			continue
		}
		if p, ok := st.Provenance(); ok {
			p.Via = "github-api"
			out = append(out, p)
		}
	}
	return out, nil
}
