package dockerfile_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/tether-sec/tether/dockerfile"
)

// FuzzParse checks that Parse never panics or hangs, that it fails only with
// ErrInvalid, and that what it returns is consistent. Its seed corpus under
// testdata/fuzz/FuzzParse holds the files of testdata.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := dockerfile.Parse(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, dockerfile.ErrInvalid) {
				t.Fatalf("Parse error %v does not match ErrInvalid", err)
			}
			return
		}
		again, err := dockerfile.Parse(bytes.NewReader(data))
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("Parse is not deterministic: %v", err)
		}
		if len(got.Stages) == 0 {
			t.Fatal("no stages and no error")
		}
		prevEnd := 0
		for i, in := range got.Instructions {
			if in.StartLine <= prevEnd || in.EndLine < in.StartLine {
				t.Fatalf("instruction %d lines %d-%d after line %d", i, in.StartLine, in.EndLine, prevEnd)
			}
			prevEnd = in.EndLine
			if in.Stage < -1 || in.Stage >= len(got.Stages) {
				t.Fatalf("instruction %d in stage %d of %d", i, in.Stage, len(got.Stages))
			}
			if in.Stage >= 0 {
				st := got.Stages[in.Stage]
				if in.StartLine < st.StartLine || in.EndLine > st.EndLine {
					t.Fatalf("instruction %d lines %d-%d outside its stage %d-%d", i, in.StartLine, in.EndLine, st.StartLine, st.EndLine)
				}
			}
		}
		for i, st := range got.Stages {
			if st.Index != i || st.FromStage >= i || st.FromStage < -1 {
				t.Fatalf("stage %d: index %d, from_stage %d", i, st.Index, st.FromStage)
			}
		}
	})
}
