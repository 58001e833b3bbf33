package image_test

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tether-sec/tether/image"
)

func TestLayerHistory(t *testing.T) {
	layer, empty := v1.History{}, v1.History{EmptyLayer: true}
	for _, tc := range []struct {
		name    string
		history []v1.History
		n       int
		want    []int
	}{
		{"one to one", []v1.History{layer, empty, empty, layer, empty}, 2, []int{0, 3}},
		{"more layers than history", []v1.History{layer, empty}, 2, []int{-1, -1}},
		{"more history than layers", []v1.History{layer, layer, layer}, 2, []int{-1, -1}},
		{"no history", nil, 1, []int{-1}},
		{"no layers", []v1.History{empty}, 0, []int{}},
	} {
		if got := image.LayerHistory(tc.history, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
