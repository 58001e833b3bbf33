// Package gosymbols reads which functions a Go binary holds, so that an advisory
// that names vulnerable symbols (the Go vulnerability database's
// ecosystem_specific.imports) can be checked against the code that was linked in.
//
// The names come from the binary's pclntab, which the Go runtime needs and which
// stripping (-ldflags=-s -w, strip(1)) leaves in place. Since Go 1.16 its function
// name table holds the name of every function compiled into the binary and of
// every function inlined into one, so a vulnerable function that the compiler
// inlined everywhere is still seen. A function whose every call was optimised away
// (constant folding, dead code) leaves no name: then no code of it is present.
// Binaries older than Go 1.16 carry only the names of out-of-line functions; Table.Inlined
// is false for them.
package gosymbols

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// ErrNoSymbols is matched by the error of a file that is not a Go binary tether
// can read a function table from.
var ErrNoSymbols = errors.New("gosymbols: no Go function table")

// maxTable bounds the bytes read for a function name table (a very large Go
// binary has a few MiB of names).
const maxTable = 256 << 20

// Table is the set of functions of one Go binary.
type Table struct {
	// GOOS and GOARCH the binary was built for, from its build information;
	// empty when it has none.
	GOOS   string `json:"goos,omitempty"`
	GOARCH string `json:"goarch,omitempty"`
	// Inlined is true when the names include functions inlined into others
	// (Go 1.16 and later).
	Inlined bool `json:"inlined"`
	// Packages maps an import path to the sorted, de-duplicated names of its
	// functions in the form the Go vulnerability database uses: "Parse",
	// "Reader.Read" (pointer receivers and type parameters dropped), closures and
	// wrappers as "Parse.func1".
	Packages map[string][]string `json:"packages"`
}

// ReadFile reads the function table of the Go binary at path.
func ReadFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Read reads the function table of the Go binary in r (ELF, Mach-O or PE).
func Read(r io.ReaderAt) (t *Table, err error) {
	defer func() {
		// The binaries come from untrusted images; the object file readers of
		// the standard library trust some of their fields.
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("%w: damaged binary (%v)", ErrNoSymbols, p)
		}
	}()
	names, inlined, err := functionNames(r, sizeOf(r))
	if err != nil {
		return nil, err
	}
	t = &Table{Inlined: inlined, Packages: map[string][]string{}}
	for _, n := range names {
		pkg, sym, ok := SplitName(n)
		if !ok {
			continue
		}
		t.Packages[pkg] = append(t.Packages[pkg], sym)
	}
	for p, syms := range t.Packages {
		slices.Sort(syms)
		t.Packages[p] = slices.Clip(slices.Compact(syms))
	}
	if bi, err := buildinfo.Read(r); err == nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "GOOS":
				t.GOOS = s.Value
			case "GOARCH":
				t.GOARCH = s.Value
			}
		}
	}
	return t, nil
}

// HasPackage reports whether any function of the package at path is in the binary.
func (t *Table) HasPackage(path string) bool {
	return t != nil && len(t.Packages[path]) > 0
}

// Has reports whether the function sym ("Parse", "Reader.Read") of the package at
// path is in the binary, itself or through a closure of it.
func (t *Table) Has(path, sym string) bool {
	if t == nil {
		return false
	}
	syms := t.Packages[path]
	i, found := slices.BinarySearch(syms, sym)
	if found {
		return true
	}
	// Closures and nested functions sort right after their parent's prefix.
	return i < len(syms) && strings.HasPrefix(syms[i], sym+".")
}

// SplitName splits a function name as the Go linker writes it
// ("golang.org/x/net/html.(*Tokenizer).Next", "gopkg.in/yaml%2ev3.Unmarshal",
// "slices.Sort[...]") into the import path and the symbol in the form the Go
// vulnerability database uses ("Tokenizer.Next"). It reports false for names
// that are not Go functions of a package (linker-generated symbols, C functions).
func SplitName(fn string) (pkg, sym string, ok bool) {
	if fn == "" || strings.HasPrefix(fn, "go:") || strings.HasPrefix(fn, "type:") || strings.HasPrefix(fn, "go.") {
		return "", "", false
	}
	s, ok := dropTypeArgs(fn)
	if !ok {
		return "", "", false
	}
	slash := strings.LastIndexByte(s, '/')
	dot := strings.IndexByte(s[slash+1:], '.')
	if dot < 0 {
		return "", "", false
	}
	dot += slash + 1
	pkg, rest := s[:dot], s[dot+1:]
	if strings.Contains(pkg, "%") {
		pkg = unescape(pkg)
	}
	// Receivers: "(*T).M" and "(T).M" become "T.M".
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return "", "", false
		}
		rest = strings.TrimPrefix(rest[1:end], "*") + rest[end+1:]
	}
	// Wrappers: method values "T.M-fm", range-over-func bodies "F-range1".
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest = rest[:i]
	}
	if pkg == "" || rest == "" || strings.ContainsAny(rest, " ()*") {
		return "", "", false
	}
	return pkg, rest, true
}

// dropTypeArgs removes bracketed type arguments ("[...]", "[go.shape.int]"),
// which may themselves hold dots and slashes.
func dropTypeArgs(s string) (string, bool) {
	if !strings.Contains(s, "[") {
		return s, true
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			depth++
		case c == ']':
			if depth == 0 {
				return "", false
			}
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String(), depth == 0
}

// unescape undoes the linker's %xx escapes of an import path (a dot in the last
// element is written "%2e").
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, ok := unhex(s[i+1]); ok {
				if w, ok := unhex(s[i+2]); ok {
					b.WriteByte(v<<4 | w)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pclntab magic numbers by the Go release that introduced the layout.
const (
	magic12  = 0xfffffffb // Go 1.2–1.15: no separate name table
	magic116 = 0xfffffffa // Go 1.16–1.17
	magic118 = 0xfffffff0 // Go 1.18–1.19
	magic120 = 0xfffffff1 // Go 1.20 and later
)

// sizeOf returns the size of r when it can tell, else the largest size tether
// reads.
func sizeOf(r io.ReaderAt) int64 {
	switch v := r.(type) {
	case interface{ Size() int64 }:
		return v.Size()
	case *os.File:
		if fi, err := v.Stat(); err == nil {
			return fi.Size()
		}
	}
	return 1 << 40
}

// functionNames returns every function name of the binary's pclntab and whether
// inlined functions are among them.
func functionNames(r io.ReaderAt, size int64) ([]string, bool, error) {
	tab, err := findTable(r, size)
	if err != nil {
		return nil, false, err
	}
	return tableNames(tab)
}

// findTable returns a reader over the pclntab: the named section where the
// format has one, else a search of the data sections for a valid header.
// Sections that claim to reach past the end of the file (size) are not read.
func findTable(r io.ReaderAt, size int64) (*io.SectionReader, error) {
	var candidates []*io.SectionReader
	section := func(ra io.ReaderAt, off, n uint64) *io.SectionReader {
		if off > uint64(size) || n > uint64(size)-off {
			return nil
		}
		return io.NewSectionReader(ra, 0, int64(n))
	}
	if f, err := elf.NewFile(r); err == nil {
		for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
			if s := f.Section(name); s != nil && s.Type != elf.SHT_NOBITS {
				if sr := section(s, s.Offset, s.Size); sr != nil {
					return sr, nil
				}
			}
		}
		for _, s := range f.Sections {
			if s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_ALLOC != 0 && s.Flags&elf.SHF_EXECINSTR == 0 {
				candidates = append(candidates, section(s, s.Offset, s.Size))
			}
		}
	} else if f, err := macho.NewFile(r); err == nil {
		if s := f.Section("__gopclntab"); s != nil {
			if sr := section(s, uint64(s.Offset), s.Size); sr != nil {
				return sr, nil
			}
		}
		for _, s := range f.Sections {
			if s.Seg == "__DATA_CONST" || s.Seg == "__DATA" || s.Name == "__rodata" {
				candidates = append(candidates, section(s, uint64(s.Offset), s.Size))
			}
		}
	} else if f, err := pe.NewFile(r); err == nil {
		for _, s := range f.Sections {
			if s.Name == ".rdata" || s.Name == ".data" {
				candidates = append(candidates, section(s, uint64(s.Offset), uint64(s.Size)))
			}
		}
	} else {
		return nil, fmt.Errorf("%w: not an ELF, Mach-O or PE file", ErrNoSymbols)
	}
	for _, c := range candidates {
		if c == nil {
			continue
		}
		if tab := searchTable(c); tab != nil {
			return tab, nil
		}
	}
	return nil, ErrNoSymbols
}

// searchTable looks for a pclntab header inside sec.
func searchTable(sec *io.SectionReader) *io.SectionReader {
	if sec.Size() > maxTable*4 {
		return nil
	}
	data := make([]byte, sec.Size())
	if _, err := sec.ReadAt(data, 0); err != nil {
		return nil
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, m := range []uint32{magic120, magic118, magic116, magic12} {
			var pat [6]byte
			order.PutUint32(pat[:], m)
			for off := 0; ; {
				i := bytes.Index(data[off:], pat[:])
				if i < 0 {
					break
				}
				at := off + i
				tab := io.NewSectionReader(sec, int64(at), sec.Size()-int64(at))
				if _, err := parseHeader(tab); err == nil {
					return tab
				}
				off = at + 1
			}
		}
	}
	return nil
}

// header is the part of a pclntab header tether reads.
type header struct {
	magic    uint32
	order    binary.ByteOrder
	ptrSize  int
	nfunc    uint64
	nameOff  uint64 // start of the function name table
	nameEnd  uint64 // its end (the start of the next table)
	quantum  uint8
	tableLen int64
}

func parseHeader(tab *io.SectionReader) (*header, error) {
	var raw [8 + 8*8]byte
	n, _ := tab.ReadAt(raw[:], 0)
	if n < 8 {
		return nil, fmt.Errorf("%w: table too short", ErrNoSymbols)
	}
	h := &header{tableLen: tab.Size()}
	known := func(m uint32) bool { return m == magic120 || m == magic118 || m == magic116 || m == magic12 }
	switch {
	case known(binary.LittleEndian.Uint32(raw[:])):
		h.order = binary.LittleEndian
	case known(binary.BigEndian.Uint32(raw[:])):
		h.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: unknown table magic", ErrNoSymbols)
	}
	h.magic = h.order.Uint32(raw[:])
	if raw[4] != 0 || raw[5] != 0 {
		return nil, fmt.Errorf("%w: bad header padding", ErrNoSymbols)
	}
	h.quantum = raw[6]
	if q := h.quantum; q != 1 && q != 2 && q != 4 {
		return nil, fmt.Errorf("%w: bad instruction size %d", ErrNoSymbols, q)
	}
	h.ptrSize = int(raw[7])
	if h.ptrSize != 4 && h.ptrSize != 8 {
		return nil, fmt.Errorf("%w: bad pointer size %d", ErrNoSymbols, h.ptrSize)
	}
	word := func(i int) (uint64, bool) {
		off := 8 + i*h.ptrSize
		if off+h.ptrSize > n {
			return 0, false
		}
		if h.ptrSize == 8 {
			return h.order.Uint64(raw[off:]), true
		}
		return uint64(h.order.Uint32(raw[off:])), true
	}
	var nameIdx int
	switch h.magic {
	case magic120, magic118:
		nameIdx = 3 // nfunc, nfiles, textStart, funcnameOffset, cuOffset
	case magic116:
		nameIdx = 2 // nfunc, nfiles, funcnameOffset, cuOffset
	default: // magic12
		return h, nil
	}
	var ok1, ok2, ok3 bool
	h.nfunc, ok1 = word(0)
	h.nameOff, ok2 = word(nameIdx)
	h.nameEnd, ok3 = word(nameIdx + 1)
	if !ok1 || !ok2 || !ok3 || h.nameOff < uint64(8+2*h.ptrSize) || h.nameEnd < h.nameOff ||
		h.nameEnd > uint64(h.tableLen) || h.nameEnd-h.nameOff > maxTable || h.nfunc == 0 || h.nfunc > 1<<24 {
		return nil, fmt.Errorf("%w: implausible table header", ErrNoSymbols)
	}
	return h, nil
}

// tableNames reads the function names of the pclntab in tab.
func tableNames(tab *io.SectionReader) ([]string, bool, error) {
	h, err := parseHeader(tab)
	if err != nil {
		return nil, false, err
	}
	if h.magic == magic12 {
		return oldNames(tab)
	}
	buf := make([]byte, h.nameEnd-h.nameOff)
	if _, err := tab.ReadAt(buf, int64(h.nameOff)); err != nil {
		return nil, false, fmt.Errorf("%w: reading the name table: %v", ErrNoSymbols, err)
	}
	var names []string
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, 0)
		if i < 0 {
			i = len(buf)
		}
		if i > 0 {
			names = append(names, string(buf[:i]))
		}
		buf = buf[min(i+1, len(buf)):]
	}
	if len(names) == 0 {
		return nil, false, fmt.Errorf("%w: empty name table", ErrNoSymbols)
	}
	return names, true, nil
}

// oldNames lists the functions of a Go 1.2–1.15 table through debug/gosym, which
// knows no inlined functions.
func oldNames(tab *io.SectionReader) ([]string, bool, error) {
	if tab.Size() > maxTable*4 {
		return nil, false, fmt.Errorf("%w: table too large", ErrNoSymbols)
	}
	data := make([]byte, tab.Size())
	if _, err := tab.ReadAt(data, 0); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNoSymbols, err)
	}
	st, err := gosym.NewTable(nil, gosym.NewLineTable(data, 0))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrNoSymbols, err)
	}
	var names []string
	for _, f := range st.Funcs {
		names = append(names, f.Name)
	}
	return names, false, nil
}
