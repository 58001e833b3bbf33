package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/tether-sec/tether/source"
)

func TestExport(t *testing.T) {
	f, c := shop(t)
	ctx := context.Background()
	for _, tc := range []struct {
		rev    string
		commit int
	}{
		{c[1].String(), 1},
		{c[1].String()[:7], 1},
		{"deploy-1", 1},
		{"v1.0.0", 2},
		{"feature", 3},
		{"HEAD", 4},
		{"", 4},
		{"master~2", 1},
	} {
		t.Run(tc.rev, func(t *testing.T) {
			dst := t.TempDir()
			o, skipped, err := source.Export(ctx, f.dir, tc.rev, dst, 0)
			if err != nil {
				t.Fatal(err)
			}
			if o.Commit != c[tc.commit].String() || o.RepoURL != originURL {
				t.Errorf("origin = %+v, want commit %d (%s) of %s", o, tc.commit, c[tc.commit], originURL)
			}
			if len(skipped) != 0 {
				t.Errorf("skipped %v without a size limit", skipped)
			}
			var want []string
			for p, s := range f.trees[c[tc.commit]] {
				if s.mode != filemode.Symlink {
					want = append(want, p)
				}
			}
			slices.Sort(want)
			if got := listFiles(t, dst); !slices.Equal(got, want) {
				t.Errorf("exported files = %v, want %v (symlinks left out)", got, want)
			}
			for p, s := range f.trees[c[tc.commit]] {
				if s.mode == filemode.Symlink {
					continue
				}
				fi, err := os.Stat(filepath.Join(dst, p))
				if err != nil {
					t.Fatal(err)
				}
				if exec := fi.Mode()&0o111 != 0; exec != (s.mode == filemode.Executable) {
					t.Errorf("%s mode %v, want executable=%v", p, fi.Mode(), s.mode == filemode.Executable)
				}
				b, _ := os.ReadFile(filepath.Join(dst, p))
				if string(b) != s.content {
					t.Errorf("%s content %q, want %q", p, b, s.content)
				}
			}
		})
	}

	dst := t.TempDir()
	_, skipped, err := source.Export(ctx, f.dir, "HEAD", dst, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(skipped, "Dockerfile") || slices.Contains(skipped, "CODEOWNERS") {
		t.Errorf("skipped %v with a 20-byte limit: want the long Dockerfile, not the 17-byte CODEOWNERS", skipped)
	}

	if _, _, err := source.Export(ctx, f.dir, "no-such-ref", t.TempDir(), 0); !errors.Is(err, source.ErrBadRevision) {
		t.Errorf("unknown revision: err = %v, want ErrBadRevision", err)
	}
	if _, _, err := source.Export(ctx, t.TempDir(), "HEAD", t.TempDir(), 0); !errors.Is(err, source.ErrNotRepo) {
		t.Errorf("not a repository: err = %v, want ErrNotRepo", err)
	}
}

func TestDescribe(t *testing.T) {
	f, c := shop(t)
	ctx := context.Background()
	o, err := source.Describe(ctx, filepath.Join(f.dir, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Commit != c[4].String() || o.RepoURL != originURL || !o.Clean {
		t.Errorf("Describe = %+v, want clean HEAD %s of %s", o, c[4], originURL)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "main.go"), []byte("package main // edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := source.Describe(ctx, f.dir); err != nil || o.Clean {
		t.Errorf("after an edit Describe = %+v, %v: want not clean", o, err)
	}
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
