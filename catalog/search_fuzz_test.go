package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// FuzzSearchQuery: search input is user input (issue #4: a hostile query must not stall
// the server). Whatever q, kind, tag, sort, page and per_page a client sends, the
// request is refused as ErrInvalid when it is over the caps (bytes, terms, page window)
// and otherwise becomes a query of plain term, fuzzy and phrase parts: no wildcard,
// regexp, prefix or query-string syntax ever reaches Bleve, at most MaxFuzzyTerms
// words get typo variants and only words of 5–40 runes do, and the search over a real
// index returns at most per_page known ids.
func FuzzSearchQuery(f *testing.F) {
	cat := catalogtest.Open(f, nil)
	x := openIndex(f, cat, "")
	ids := addAssets(f, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Inauguración del parque", Tags: []string{"parque", "obra"}, Event: "Informe anual"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Niños en la escuela", Caption: "jean-pierre visita la biblioteca"}, Captured: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		fixture{NewAsset: catalog.NewAsset{Kind: catalog.KindVideo, Title: "Rueda de prensa 10:30", People: []string{"Ana Pérez"}}},
	)
	waitIndexed(f, cat)

	f.Add("inauguracion parque", "", "", "", 0, 0)
	f.Add(`"rueda de prensa" niños`, catalog.KindVideo, "Parque", "relevance", 1, 50)
	f.Add(`title:* +foo -bar ~2 a* ?b /re.*/ ^2 field:"x y"`, "", "", "", 2, 10)
	f.Add(strings.Repeat("palabra ", 17), "", "", "", 1, 1)
	f.Add(strings.Repeat("jean-pierre-", 40), "", "", "-captured_at", 1, 200)
	f.Add(strings.Repeat("á", 300), "", "", "", 1, 1)
	f.Add("inaguracion biblioteka escuella presna informme", "", "", "", 1, 1)
	f.Add(`"unclosed phrase de la`, "photo", "", "uploaded_at", 10000, 1)
	f.Add("\xff\xfe", "", "", "", 1, 1)
	f.Add("", "", "", "", 1<<62, 4) // page × per_page overflows int
	f.Add("", "", "", "", -1, -1)
	f.Add("x", "sticker", "", "random", 0, 201)

	maxFuzzy := catalog.MaxFuzzyTermsForTest(x)
	f.Fuzz(func(t *testing.T, q, kind, tag, sort string, page, perPage int) {
		req := catalog.SearchRequest{Q: q, Kind: kind, Tag: tag, Sort: sort, Page: page, PerPage: perPage}
		terms := 0
		for _, part := range strings.Split(q, `"`) {
			terms += len(strings.Fields(part))
		}
		overCaps := len(q) > catalog.MaxQueryBytes || !utf8.ValidString(q) || terms > catalog.MaxQueryTerms
		built, norm, err := catalog.BuildQueryForTest(x, req)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Fatalf("%+v: %v", req, err)
			}
		} else {
			if overCaps {
				t.Fatalf("%+v accepted over the caps", req)
			}
			if norm.Page < 1 || norm.PerPage < 1 || norm.PerPage > catalog.MaxPerPage || norm.Page > catalog.MaxSearchWindow/norm.PerPage {
				t.Fatalf("page %d × per_page %d accepted", norm.Page, norm.PerPage)
			}
			fuzzy := 0
			walkQuery(t, built, func(leaf query.Query) {
				switch l := leaf.(type) {
				case *query.FuzzyQuery:
					fuzzy++
					if n := utf8.RuneCountInString(l.Term); n < 5 || n > 40 {
						t.Fatalf("typo variants of a %d-rune word %q", n, l.Term)
					}
				case *query.TermQuery, *query.MatchPhraseQuery, *query.MatchNoneQuery, *query.MatchAllQuery, *query.DateRangeQuery:
				default:
					t.Fatalf("q %q became a %T", q, leaf)
				}
			})
			if fuzzy > 2*maxFuzzy { // each fuzzy word is searched in two fields
				t.Fatalf("q %q has %d fuzzy queries, over 2×%d", q, fuzzy, maxFuzzy)
			}
		}

		res, serr := x.Search(context.Background(), req)
		if (serr == nil) != (err == nil) {
			t.Fatalf("%+v: query built with %v, search %v", req, err, serr)
		}
		if serr != nil {
			return
		}
		if len(res.IDs) > res.PerPage || res.Total < len(res.IDs) {
			t.Fatalf("%+v: %d ids of %d, per page %d", req, len(res.IDs), res.Total, res.PerPage)
		}
		for _, id := range res.IDs {
			if !slices.Contains(ids, id) {
				t.Fatalf("unknown id %q", id)
			}
		}
	})
}

// walkQuery calls leaf for every query that is not a conjunction or disjunction.
func walkQuery(t *testing.T, q query.Query, leaf func(query.Query)) {
	switch q := q.(type) {
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			walkQuery(t, c, leaf)
		}
	case *query.DisjunctionQuery:
		for _, d := range q.Disjuncts {
			walkQuery(t, d, leaf)
		}
	default:
		leaf(q)
	}
}
