package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
	"golang.org/x/text/unicode/norm"
)

// Weights of where a word is found: the asset's names and descriptions
// ("body", where names count twice; see searchDoc) above the long text of
// documents; a typo's variants below the word as typed.
const (
	bodyBoost  = 1
	textBoost  = 0.5
	fuzzyBoost = 0.3
)

// buildQuery turns a request into a Bleve query: every word or phrase of Q
// and every filter is required.
func (x *Index) buildQuery(r SearchRequest) (query.Query, error) {
	words, phrases, err := splitQuery(r.Q)
	if err != nil {
		return nil, err
	}
	an := x.idx.Mapping().AnalyzerNamed(spanishAnalyzerName)
	if an == nil {
		return nil, errors.New("catalog: search: Spanish analyzer not registered")
	}
	var must []query.Query
	fuzzy := 0
	for _, w := range words {
		toks := an.Analyze([]byte(w))
		switch len(toks) {
		case 0: // a stop word or punctuation: nothing to require
		case 1:
			tok := string(toks[0].Term)
			// A field that lacks the word is left out: one posting list
			// per word is the cheapest search.
			var or []query.Query
			inBody, inText := x.termExists(fBody, tok), x.termExists(fText, tok)
			if inBody {
				or = append(or, termQuery(fBody, tok, bodyBoost))
			}
			if inText {
				or = append(or, termQuery(fText, tok, textBoost))
			}
			// A word the archive knows is taken as spelled right: its typo
			// variants are not searched, which on a big archive avoids
			// OR-ing in tens of thousands of near-miss documents.
			if n := utf8.RuneCountInString(tok); !inBody && !inText && n >= minFuzzyRunes && n <= maxFuzzyRunes && fuzzy < x.cfg.MaxFuzzyTerms {
				fuzzy++
				for _, field := range []string{fBody, fText} {
					fq := query.NewFuzzyQuery(tok)
					fq.SetField(field)
					fq.SetFuzziness(1)
					if n >= minFuzzy2Runes {
						fq.SetFuzziness(2)
					}
					fq.SetPrefix(fuzzyPrefixLength)
					fq.SetBoost(fuzzyBoost)
					or = append(or, fq)
				}
			}
			switch len(or) {
			case 0:
				return query.NewMatchNoneQuery(), nil // a required word no asset has
			case 1:
				must = append(must, or[0])
			default:
				must = append(must, query.NewDisjunctionQuery(or))
			}
		default: // "jean-pierre", "10:30": the parts, adjacent
			phrases = append(phrases, w)
		}
	}
	for _, p := range phrases {
		toks := an.Analyze([]byte(p))
		if len(toks) == 0 {
			continue
		}
		var or []query.Query
		if body := bodyPhrase(p, toks); body != nil {
			or = append(or, body)
		}
		inText := true
		for _, t := range toks {
			inText = inText && x.termExists(fText, string(t.Term))
		}
		if inText {
			pq := query.NewMatchPhraseQuery(p)
			pq.SetField(fText)
			pq.Analyzer = spanishAnalyzerName
			pq.SetBoost(textBoost)
			or = append(or, pq)
		}
		if len(or) == 1 {
			must = append(must, or[0])
		} else {
			must = append(must, query.NewDisjunctionQuery(or))
		}
	}
	if len(words)+len(phrases) > 0 && len(must) == 0 {
		return query.NewMatchNoneQuery(), nil // only stop words: nothing is about them
	}
	exact := func(facet, value string) {
		if value != "" {
			must = append(must, termQuery(fFacets, facetTerm(facet, value), 1))
		}
	}
	exact("kind", r.Kind)
	exact("event", r.Event)
	exact("person", r.Person)
	exact("tag", foldKeyword(r.Tag))
	if r.From != nil || r.To != nil {
		var from, to time.Time
		if r.From != nil {
			from = r.From.UTC()
		}
		if r.To != nil {
			to = r.To.UTC()
		}
		incl, excl := true, false
		dq := query.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
		dq.SetField(fDate)
		must = append(must, dq)
	}
	if len(must) == 0 {
		return query.NewMatchAllQuery(), nil
	}
	return query.NewConjunctionQuery(must), nil
}

// bodyPhrase finds phrase p, analyzed into toks, in "body". A phrase of
// two adjacent words is one term of "body_pairs", which costs one posting
// list where a phrase query reads the positions of both words in every
// asset that has them (a hundred thousand for a common place name); a
// longer phrase must have all its pairs, and only then are positions
// checked.
func bodyPhrase(p string, toks analysis.TokenStream) query.Query {
	if len(toks) == 1 {
		return termQuery(fBody, string(toks[0].Term), bodyBoost)
	}
	var all []query.Query
	for _, pair := range phrasePairs(toks) {
		all = append(all, termQuery(fBodyPairs, pair, bodyBoost))
	}
	if len(all) == 1 {
		return all[0]
	}
	pq := query.NewMatchPhraseQuery(p)
	pq.SetField(fBody)
	pq.Analyzer = spanishAnalyzerName
	pq.SetBoost(bodyBoost)
	return query.NewConjunctionQuery(append(all, pq))
}

// phrasePairs are the "body_pairs" terms an asset has if it has the
// phrase toks: consecutive terms, with "_" for each removed stop word
// between them, as pairsAnalyzer makes them. Stop words before the first
// term or after the last are not part of the match.
func phrasePairs(toks analysis.TokenStream) []string {
	var pairs []string
	for i := 1; i < len(toks); i++ {
		prev, gap := string(toks[i-1].Term), toks[i].Position-toks[i-1].Position-1
		for range gap {
			pairs = append(pairs, prev+" _")
			prev = "_"
		}
		pairs = append(pairs, prev+" "+string(toks[i].Term))
	}
	return pairs
}

func termQuery(field, term string, boost float64) query.Query {
	tq := query.NewTermQuery(term)
	tq.SetField(field)
	tq.SetBoost(boost)
	return tq
}

// termExists reports whether some asset has this analyzed term in field.
func (x *Index) termExists(field, term string) bool {
	d, err := x.idx.FieldDictRange(field, []byte(term), []byte(term))
	if err != nil {
		return false
	}
	defer d.Close()
	e, err := d.Next()
	return err == nil && e != nil && e.Term == term && e.Count > 0
}

// splitQuery splits free text into words and "quoted phrases" (an
// unclosed quote runs to the end), NFC-normalised, and enforces the term cap.
func splitQuery(q string) (words, phrases []string, err error) {
	q = norm.NFC.String(q)
	count := 0
	for i, part := range strings.Split(q, `"`) {
		if i%2 == 1 {
			if f := strings.Fields(part); len(f) > 0 {
				phrases = append(phrases, strings.Join(f, " "))
				count += len(f)
			}
			continue
		}
		f := strings.Fields(part)
		words = append(words, f...)
		count += len(f)
	}
	if count > MaxQueryTerms {
		return nil, nil, fmt.Errorf("%w: demasiadas palabras en la búsqueda (máximo %d) / more than %d search terms", ErrInvalid, MaxQueryTerms, MaxQueryTerms)
	}
	return words, phrases, nil
}
