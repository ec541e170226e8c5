package catalog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/token/unicodenorm"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// Names under which the Spanish analysis is registered with Bleve. The
// index mapping refers to analyzers by name, so they live in Bleve's
// registry (registered once, in init, and never changed afterwards).
const (
	spanishAnalyzerName = "acervo_es"
	pairsAnalyzerName   = "acervo_es_pairs"
	foldFilterName      = "acervo_fold_keep_enye"
)

// Changing the analysis changes what the index holds: bump
// indexMappingVersion in index.go with it, so old indexes are rebuilt.
func init() {
	if err := registry.RegisterTokenFilter(foldFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldFilter{}, nil
	}); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(spanishAnalyzerName, spanishAnalyzer); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(pairsAnalyzerName, pairsAnalyzer); err != nil {
		panic(err)
	}
}

// spanishAnalyzer is what DESIGN.md's Language section asks of search:
// Unicode word segmentation, NFC, lower case, Spanish stop words, accents
// folded but ñ kept (año is not ano), then Bleve's light Spanish stemmer
// (plurals and gender: inauguraciones → inauguracion). Bleve's own "es"
// analyzer folds only the five Spanish vowels; ours folds every Latin
// diacritic (ç, ã, è…) so foreign names match without them too.
func spanishAnalyzer(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tok, err := cache.TokenizerNamed(unicodetok.Name)
	if err != nil {
		return nil, err
	}
	nfc, err := unicodenorm.NewUnicodeNormalizeFilter(unicodenorm.NFC)
	if err != nil {
		return nil, err
	}
	names := []string{lowercase.Name, es.StopName, foldFilterName, es.LightStemmerName}
	filters := []analysis.TokenFilter{nfc}
	for _, n := range names {
		f, err := cache.TokenFilterNamed(n)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
}

// pairsAnalyzer makes the terms of "body_pairs": every two consecutive
// terms of the Spanish analysis, joined by a space ("parque lineal"); a
// removed stop word leaves "_" in its place ("inauguracion _", "_ parque"),
// so pairs keep the adjacency a phrase query checks with positions.
func pairsAnalyzer(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	a, err := spanishAnalyzer(config, cache)
	if err != nil {
		return nil, err
	}
	da := a.(*analysis.DefaultAnalyzer)
	da.TokenFilters = append(da.TokenFilters, shingle.NewShingleFilter(2, 2, false, " ", "_"))
	return da, nil
}

// foldFilter removes diacritics from lower-case terms, except the tilde of
// ñ, which in Spanish makes a different letter.
type foldFilter struct{}

func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if needsFold(t.Term) {
			t.Term = []byte(foldTerm(string(t.Term)))
		}
	}
	return in
}

func needsFold(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// foldSpecial are letters that do not decompose into base + mark.
var foldSpecial = map[rune]string{'ø': "o", 'ł': "l", 'đ': "d", 'æ': "ae", 'œ': "oe", 'ß': "ss", 'ð': "d", 'þ': "th", 'ı': "i"}

// foldTerm folds one NFC, lower-case term.
func foldTerm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf, r == 'ñ':
			b.WriteRune(r)
		case foldSpecial[r] != "":
			b.WriteString(foldSpecial[r])
		default:
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, d) {
					b.WriteRune(d)
				}
			}
		}
	}
	return b.String()
}

// foldKeyword is how exact-match fields (tags) are keyed for filters and
// facets: NFC, trimmed, lower case. Accents are kept: a tag is a label
// someone chose, and filters must not merge distinct labels.
func foldKeyword(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}
