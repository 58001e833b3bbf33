package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path"
	"strings"
)

// ID is a node's stable identity: "<kind>:<key>". The same thing observed twice, by
// any collector, gets the same ID, so ingestion is idempotent.
type ID string

// Kind returns the kind named by the ID's prefix, or "" when there is none.
func (id ID) Kind() Kind {
	k, _, ok := strings.Cut(string(id), ":")
	if !ok {
		return ""
	}
	return Kind(k)
}

// Key returns the ID without its kind prefix.
func (id ID) Key() string {
	_, k, _ := strings.Cut(string(id), ":")
	return k
}

func mk(k Kind, parts ...string) ID {
	return ID(string(k) + ":" + strings.Join(parts, ""))
}

// NormalizeRepoURL turns the many spellings of a git remote into one key:
// "https://GitHub.com/Acme/App.git", "git@github.com:acme/app" and
// "ssh://git@github.com/acme/app/" all become "github.com/acme/app". Host names are
// lower-cased; paths keep their case except on well-known hosts that ignore it.
// A local path becomes "file://" + its cleaned absolute form.
func NormalizeRepoURL(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	// scp-like syntax: user@host:path (no scheme, colon before the first slash).
	if !strings.Contains(s, "://") {
		if at := strings.Index(s, "@"); at >= 0 {
			if c := strings.Index(s[at:], ":"); c > 0 {
				host := s[at+1 : at+c]
				p := s[at+c+1:]
				return joinRepo(host, p)
			}
		}
		if strings.HasPrefix(s, "/") {
			return "file://" + path.Clean(s)
		}
		// "github.com/acme/app" without a scheme.
		host, p, _ := strings.Cut(s, "/")
		return joinRepo(host, p)
	}
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if u.Scheme == "file" {
		return "file://" + path.Clean(u.Path)
	}
	return joinRepo(u.Hostname(), u.Path)
}

func joinRepo(host, p string) string {
	host = strings.ToLower(host)
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	p = strings.Trim(p, "/")
	switch host {
	case "github.com", "gitlab.com", "bitbucket.org", "www.github.com":
		host = strings.TrimPrefix(host, "www.")
		p = strings.ToLower(p)
	}
	if p == "" {
		return host
	}
	return host + "/" + p
}

// RepoID identifies a repository by its normalized remote URL (see NormalizeRepoURL).
func RepoID(repoURL string) ID { return mk(KindRepo, NormalizeRepoURL(repoURL)) }

// CommitID identifies a commit by repository and full SHA.
func CommitID(repoURL, sha string) ID {
	return mk(KindCommit, NormalizeRepoURL(repoURL), "@", strings.ToLower(sha))
}

// FileID identifies one version of a file: repository, path and git blob SHA. The
// same content at the same path in many commits is one node.
func FileID(repoURL, filePath, blobSHA string) ID {
	return mk(KindFile, NormalizeRepoURL(repoURL), "//", strings.TrimPrefix(path.Clean("/"+filePath), "/"), "@", strings.ToLower(blobSHA))
}

// OwnerID identifies a person or team: a CODEOWNERS handle ("@org/team") or an e-mail.
func OwnerID(handle string) ID { return mk(KindOwner, strings.ToLower(strings.TrimSpace(handle))) }

// BuildID identifies a CI build by system ("github-actions") and run ID.
func BuildID(system, id string) ID { return mk(KindBuild, system, "/", id) }

// ImageID identifies an image by its manifest digest ("sha256:…"), wherever it is stored.
func ImageID(digest string) ID { return mk(KindImage, strings.ToLower(digest)) }

// ImageIndexID identifies a multi-platform image index by its digest.
func ImageIndexID(digest string) ID { return mk(KindImageIndex, strings.ToLower(digest)) }

// LayerID identifies a layer by its uncompressed content digest (diff ID).
func LayerID(diffID string) ID { return mk(KindLayer, strings.ToLower(diffID)) }

// PackageID identifies a package by its purl.
func PackageID(purl string) ID { return mk(KindPackage, purl) }

// VulnerabilityID identifies an advisory by its ID (CVE, GHSA, GO-…).
func VulnerabilityID(id string) ID { return mk(KindVulnerability, strings.ToUpper(id)) }

// ClusterID identifies a Kubernetes cluster by name (kube context or API server).
func ClusterID(name string) ID { return mk(KindCluster, name) }

// AccountID identifies a cloud account, e.g. AccountID("aws", "123456789012").
func AccountID(provider, id string) ID { return mk(KindAccount, provider, "/", id) }

// WorkloadID identifies a workload: cluster, namespace, kind (Pod, Deployment, …), name.
func WorkloadID(cluster, namespace, kind, name string) ID {
	return mk(KindWorkload, cluster, "/", namespace, "/", kind, "/", name)
}

// ContainerID identifies a container by its pod and container name.
func ContainerID(cluster, namespace, pod, container string) ID {
	return mk(KindContainer, cluster, "/", namespace, "/", pod, "/", container)
}

// ServiceID identifies a Kubernetes Service.
func ServiceID(cluster, namespace, name string) ID {
	return mk(KindService, cluster, "/", namespace, "/", name)
}

// IngressID identifies a Kubernetes Ingress by cluster, namespace and name.
func IngressID(cluster, namespace, name string) ID {
	return mk(KindIngress, cluster, "/", namespace, "/", name)
}

// CloudResourceID identifies a cloud resource by ARN or the provider's unique ID.
func CloudResourceID(arn string) ID { return mk(KindCloudResource, arn) }

// IaCBlockID identifies an IaC block by repository, file and resource address.
func IaCBlockID(repoURL, filePath, address string) ID {
	return mk(KindIaCBlock, NormalizeRepoURL(repoURL), "//", filePath, "#", address)
}

// FindingID identifies a finding by a digest of the parts that define it, so the same
// finding found again is the same node.
func FindingID(parts ...string) ID {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return mk(KindFinding, hex.EncodeToString(h.Sum(nil))[:32])
}

// TicketID identifies a ticket by system ("github", "jira") and key.
func TicketID(system, key string) ID { return mk(KindTicket, system, "/", key) }
