package storage

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The hand-written checks of key parts accept exactly what the regular
// expressions they replaced did.
func TestKeyPartsMatchTheirExpressions(t *testing.T) {
	checks := []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"hexSum", regexp.MustCompile(`^[0-9a-f]{64}$`), hexSum},
		{"assetID", regexp.MustCompile(`^[0-9a-z]{8,40}$`), assetID},
		{"renditionName", regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`), renditionName},
	}
	fixed := []string{"", ".", "..", "thumb.jpg", "-thumb.jpg", "_x", "Thumb.jpg", "thumb.jpg\n", "a/b", "thumb jpg",
		"01jd3x8k9q2m4n5p6r7s8t9v0w", "01JD3X8K9Q2M4N5P6R7S8T9V0W", "1234567", "12345678", strings.Repeat("a", 40), strings.Repeat("a", 41),
		strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("f", 64), strings.Repeat("g", 64), "ñandú.jpg", "thumb.jpg\x00"}
	const alphabet = "0123456789abcdefgxyzA._-/ \n\x00é"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := rng.IntN(70)
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		fixed = append(fixed, b.String())
	}
	for _, c := range checks {
		for _, s := range fixed {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", c.name, s, got, want)
			}
		}
	}
}
