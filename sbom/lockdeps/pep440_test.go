package lockdeps

import "testing"

func TestPEP440Match(t *testing.T) {
	tests := []struct {
		constraint, version string
		want                bool
	}{
		{"*", "1.0", true},
		{"", "1.0", true},
		{"1.2.3", "1.2.3", true},
		{"==1.2", "1.2.0", true},
		{"==1.2.*", "1.2.9", true},
		{"==1.2.*", "1.3.0", false},
		{"!=1.2.*", "1.3.0", true},
		{">=1.13.3,<1.25", "1.24.4", true},
		{">=1.13.3,<1.25", "1.26.2", false},
		{">=1.13.3, <1.25", "1.25.0", false},
		{">=1.0 <2.0", "1.5", true},
		{">= 2.0", "1.9", false},
		{">=1.5.6,<1.5.7 || >1.5.7", "1.5.7", false},
		{">=1.5.6,<1.5.7 || >1.5.7", "1.5.8", true},
		{"~=1.4.5", "1.4.9", true},
		{"~=1.4.5", "1.5.0", false},
		{"~=2.2", "2.9", true},
		{"~=2.2", "3.0", false},
		{"^1.2.3", "1.9.0", true},
		{"^1.2.3", "2.0.0", false},
		{"^0.2.3", "0.2.9", true},
		{"^0.2.3", "0.3.0", false},
		{"^0.0.3", "0.0.4", false},
		{"~1.2.3", "1.2.9", true},
		{"~1.2.3", "1.3.0", false},
		{"~1", "1.9", true},
		{"<2.0", "2.0.0a1", false}, // not a pre-release of the bound
		{"<2.0", "2.0.dev3", false},
		{"<2.0rc1", "2.0b1", true},
		{"<2.0", "1.99", true},
		{">1.0", "1.0.post1", false}, // not a post-release of the bound
		{">1.0.post1", "1.0.post2", true},
		{">1.0", "1.0.1", true},
		{">=2023.1", "2023.3.post1", true},
		{"<1.0", "1.0.dev1", false},
		{"<1.0", "0.9.dev1", true},
		{">=1.0a1", "1.0b2", true},
		{">=1.0rc1", "1.0b2", false},
		{"===1.0+local", "1.0+local", true},
		{">=1!1.0", "2.0", false},
		{">=1.0", "v1.0", true},
		{">=1.0", "1.0+ubuntu1", true},
	}
	for _, tt := range tests {
		got, err := pep440Match(tt.constraint, tt.version)
		if err != nil {
			t.Errorf("pep440Match(%q, %q): %v", tt.constraint, tt.version, err)
			continue
		}
		if got != tt.want {
			t.Errorf("pep440Match(%q, %q) = %v, want %v", tt.constraint, tt.version, got, tt.want)
		}
	}
}

func TestPEP440Errors(t *testing.T) {
	for _, tt := range [][2]string{{">=1.0", "latest"}, {">=x", "1.0"}, {"~=1", "1.0"}, {"=>1.0", "1.0"}, {">=1.0", "99999999999.0"}} {
		if _, err := pep440Match(tt[0], tt[1]); err == nil {
			t.Errorf("pep440Match(%q, %q): no error", tt[0], tt[1])
		}
	}
}

func TestTOMLCheck(t *testing.T) {
	ok := []string{
		"[[package]]\nname = \"a\"\ndependencies = [\n \"b 1.0 (registry+https://x)\",\n]\n",
		"a = \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n",
		"a = '''\n{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n'''\n",
		"a = \"\"\"\n\\\"\"\" [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n\"\"\"\n",
		"# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nb = 1\n",
		"markers = \"python_version < \\\"3.10\\\" and platform_machine == \\\"x86_64\\\"\"\n",
	}
	for _, s := range ok {
		if err := tomlCheck([]byte(s)); err != nil {
			t.Errorf("tomlCheck(%q): %v", s, err)
		}
	}
	bad := []string{
		"a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r = 1\n",
	}
	for _, s := range bad {
		if err := tomlCheck([]byte(s)); err == nil {
			t.Errorf("tomlCheck(%q): no error", s)
		}
	}
}
