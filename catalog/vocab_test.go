package catalog_test

import (
	"errors"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

func str(s string) *string { return &s }

func TestFoldName(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Inauguración del Parque", "inauguracion  del parque"},
		{"JOSÉ  Pérez", "jose perez"},
		{"Inauguracio\u0301n", "inauguración"},
	} {
		if got, want := catalog.FoldName(tc.a), catalog.FoldName(tc.b); got != want {
			t.Errorf("fold(%q) = %q, fold(%q) = %q: want equal", tc.a, got, tc.b, want)
		}
	}
	if catalog.FoldName("Año") == catalog.FoldName("Ano") {
		t.Error("año folds like ano; ñ must stay distinct")
	}
}

func TestEventsUniqueAndValidated(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	e, err := cat.CreateEvent(catalog.Actor{}, catalog.EventFields{Name: str("Inauguración del Parque"), Date: str("2025-03-01"), EndDate: str("2025-03-02")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateEvent(catalog.Actor{}, catalog.EventFields{Name: str("inauguracion del  parque")}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("duplicate folded name: err = %v, want ErrExists", err)
	}
	for _, f := range []catalog.EventFields{
		{Name: str("  ")},
		{Name: str("x"), Date: str("2025-13-01")},
		{Name: str("x"), Date: str("2025-03-02"), EndDate: str("2025-03-01")},
		{Name: str("x"), EndDate: str("2025-03-01")},
		{},
	} {
		if _, err := cat.CreateEvent(catalog.Actor{}, f); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("CreateEvent(%+v) err = %v, want ErrInvalid", f, err)
		}
	}
	// An upload naming the event without accents finds it.
	a, _, err := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: "aa", Event: "INAUGURACION del parque"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Event == nil || a.Event.ID != e.ID {
		t.Fatalf("upload event = %+v, want %s", a.Event, e.ID)
	}
	// Renaming shows in the asset; deleting a used event needs force.
	if _, err := cat.UpdateEvent(catalog.Actor{}, e.ID, catalog.EventFields{Name: str("Parque Renovado")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := cat.Asset(a.ID); got.Event == nil || got.Event.Name != "Parque Renovado" {
		t.Errorf("after rename asset event = %+v", got.Event)
	}
	if err := cat.DeleteEvent(catalog.Actor{}, e.ID, false); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("delete used event: err = %v, want ErrExists", err)
	}
	if err := cat.DeleteEvent(catalog.Actor{}, e.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := cat.Asset(a.ID); got.Event != nil {
		t.Errorf("forced delete left event %+v", got.Event)
	}
	if _, err := cat.CreateEvent(catalog.Actor{}, catalog.EventFields{Name: str("Inauguración del Parque")}); err != nil {
		t.Errorf("name not released after delete: %v", err)
	}
}

func TestPeopleAliases(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	p, err := cat.CreatePerson(catalog.Actor{}, catalog.PersonFields{Name: str("Guadalupe Pérez"), Role: str("Presidenta municipal"), Aliases: &[]string{"Lupita Pérez"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreatePerson(catalog.Actor{}, catalog.PersonFields{Name: str("lupita perez")}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("name equal to an alias: err = %v, want ErrExists", err)
	}
	a, _, err := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: "bb", People: []string{"LUPITA PEREZ", "guadalupe pérez", "Nuevo"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.People) != 2 || a.People[0].ID != p.ID || a.People[1].Name != "Nuevo" {
		t.Fatalf("people = %+v", a.People)
	}
	// Dropping the alias frees it.
	if _, err := cat.UpdatePerson(catalog.Actor{}, p.ID, catalog.PersonFields{Aliases: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreatePerson(catalog.Actor{}, catalog.PersonFields{Name: str("Lupita Pérez")}); err != nil {
		t.Errorf("alias not released: %v", err)
	}
	if err := cat.DeletePerson(catalog.Actor{}, p.ID, false); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("delete used person: err = %v", err)
	}
	if err := cat.DeletePerson(catalog.Actor{}, "nope", false); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("delete missing person: err = %v", err)
	}
}

func TestEditAssetsAllOrNothing(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	a, _, _ := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: "cc", Tags: []string{"parque"}, UploadedBy: "u1"})
	b, _, _ := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: "dd", UploadedBy: "u2"})
	_, err := cat.EditAssets(catalog.Actor{}, []string{a.ID, "missing"}, catalog.AssetEdit{Title: str("x")}, nil)
	if !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	deny := func(x catalog.Asset) error {
		if x.UploadedBy != "u1" {
			return catalog.ErrForbidden
		}
		return nil
	}
	if _, err := cat.EditAssets(catalog.Actor{}, []string{a.ID, b.ID}, catalog.AssetEdit{Title: str("x")}, deny); !errors.Is(err, catalog.ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
	if got, _ := cat.Asset(a.ID); got.Title != "" {
		t.Fatalf("refused batch changed the title to %q", got.Title)
	}
	out, err := cat.EditAssets(catalog.Actor{}, []string{a.ID, b.ID}, catalog.AssetEdit{AddTags: []string{"Parque", "Niños"}, RemoveTags: []string{"PARQUE"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Tags; len(got) != 1 || got[0] != "Niños" {
		t.Errorf("tags = %q, want [Niños]", got)
	}
}

func TestRekeyVocabulariesKeepsNamesFindable(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	p, err := cat.CreatePerson(catalog.Actor{}, catalog.PersonFields{Name: str("José Núñez"), Aliases: &[]string{"Pepe"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.RekeyVocabularies(); err != nil {
		t.Fatal(err)
	}
	a, _, err := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: "ee", People: []string{"JOSE núñez", "PEPE"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.People) != 1 || a.People[0].ID != p.ID {
		t.Errorf("people = %+v, want only %s", a.People, p.ID)
	}
}
