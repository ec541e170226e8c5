package catalog_test

import (
	"slices"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// Quoted phrases need their words adjacent, in one text of the asset;
// stop words inside a phrase stand for any one word, as they are not
// indexed.
func TestSearchPhrases(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Inauguración del parque lineal"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Parque", Caption: "Lineal y verde"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Parque lineal de la colonia Centro", Tags: []string{"Obras"}}},
		fixture{NewAsset: catalog.NewAsset{Caption: "Recorrido por el puente vehicular nuevo"}},
		fixture{NewAsset: catalog.NewAsset{Caption: "El puente nuevo y el vehicular"}},
	)
	inaug, split, centro, puente := ids[0], ids[1], ids[2], ids[3]
	waitIndexed(t, cat)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{`"parque lineal"`, []string{inaug, centro}},
		{`"Parque Lineal"`, []string{inaug, centro}},
		{`"lineal parque"`, nil},
		{`"inauguración del parque"`, []string{inaug}},
		{`"inauguración de parque"`, []string{inaug}},
		{`"inauguración parque"`, nil},
		{`"del parque lineal"`, []string{inaug, centro}},
		{`"parque lineal de la colonia"`, []string{centro}},
		{`"parque lineal" obras`, []string{centro}},
		{`"puente vehicular nuevo"`, []string{puente}},
		{`"parque"`, []string{inaug, split, centro}},
		{`"lineal y verde"`, []string{split}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			res := search(t, x, catalog.SearchRequest{Q: tc.q})
			got := slices.Clone(res.IDs)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || res.Total != len(want) {
				t.Errorf("got %v (total %d), want %v", got, res.Total, want)
			}
		})
	}
}
