package gosymbols_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tether-sec/tether/gosymbols"
)

// pclntab returns a Go 1.20 table header followed by a name table, the part of
// a binary Read parses, for the fuzz seeds.
func pclntab(names ...string) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(0xfffffff1))
	b.Write([]byte{0, 0, 1, 8})
	nameOff := uint64(8 + 8*8)
	var tab bytes.Buffer
	for _, n := range names {
		tab.WriteString(n)
		tab.WriteByte(0)
	}
	for _, w := range []uint64{uint64(len(names)), 1, 0x401000, nameOff, nameOff + uint64(tab.Len()), 0, 0, 0} {
		binary.Write(&b, binary.LittleEndian, w)
	}
	b.Write(tab.Bytes())
	return b.Bytes()
}

func FuzzRead(f *testing.F) {
	f.Add(pclntab("main.main", "net/http.(*Server).Serve", "gopkg.in/yaml%2ev3.Unmarshal"))
	f.Add(append([]byte("\x7fELF\x02\x01\x01\x00"), pclntab("main.main")...))
	f.Add([]byte("MZ\x90\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x0c\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := gosymbols.Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, gosymbols.ErrNoSymbols) && tab != nil {
				t.Fatalf("error %v with a table", err)
			}
			return
		}
		for pkg, syms := range tab.Packages {
			for _, s := range syms {
				if !tab.Has(pkg, s) {
					t.Fatalf("Has(%q, %q) = false for a listed symbol", pkg, s)
				}
			}
		}
	})
}

func FuzzSplitName(f *testing.F) {
	for _, s := range []string{"net/http.(*Server).Serve", "a/b%2ec.F[go.shape.*x/y.Z].func1", "type:.eq.[2]int", "x.(*T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		pkg, sym, ok := gosymbols.SplitName(name)
		if ok && (pkg == "" || sym == "") {
			t.Fatalf("SplitName(%q) = %q, %q, true", name, pkg, sym)
		}
	})
}
