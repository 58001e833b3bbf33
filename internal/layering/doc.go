// Package layering holds the test that keeps tether's parts depending downward.
package layering
