package catalog_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
)

// Word lists of the synthetic archive: a city press office's events.
var (
	benchActions = []string{"Inauguración", "Entrega", "Recorrido", "Conferencia de prensa", "Reunión", "Visita", "Arranque",
		"Supervisión", "Firma de convenio", "Presentación", "Festival", "Jornada", "Rehabilitación", "Clausura", "Informe",
		"Mesa de trabajo", "Ceremonia", "Homenaje", "Feria", "Campaña"}
	benchObjects = []string{"del parque lineal", "de patrullas", "de la clínica", "del mercado", "de la escuela primaria",
		"de luminarias", "del puente vehicular", "de becas", "del programa de salud", "de la biblioteca", "del deportivo",
		"de la ciclovía", "de la planta de agua", "de uniformes escolares", "del centro cultural", "de la pista de atletismo",
		"de apoyos a mujeres", "del huerto urbano", "de la estación de bomberos", "del sistema de drenaje", "de la lechería",
		"de títulos de propiedad", "del año escolar", "de vacunación canina", "de cámaras de vigilancia"}
	benchPlaces = []string{"en Iztapalapa", "en la colonia Centro", "en San Ángel", "en Coyoacán", "en Tláhuac", "en Xochimilco",
		"en la Unidad Habitacional", "en el Zócalo", "en Azcapotzalco", "en la Gustavo A. Madero", "en Peñón de los Baños",
		"en Santa Fe", "en Cuajimalpa", "en Milpa Alta", "en la colonia Doctores", "en Tepito"}
	benchCaptions = []string{"La alcaldesa saluda a vecinos durante", "Funcionarios y vecinos asisten a", "Vista general de",
		"Niñas y niños participan en", "Personal de protección civil durante", "Detalle de la placa conmemorativa de",
		"Asistentes escuchan el mensaje en", "Trabajadores concluyen los trabajos de"}
	benchFirst = []string{"María", "José", "Juan", "Guadalupe", "Ana", "Luis", "Carmen", "Jorge", "Patricia", "Miguel",
		"Rosa", "Francisco", "Laura", "Pedro", "Verónica", "Alejandro", "Sofía", "Ricardo", "Claudia", "Fernando",
		"Gabriela", "Héctor", "Mónica", "Raúl", "Adriana", "Sergio", "Leticia", "Arturo", "Silvia", "Óscar"}
	benchLast = []string{"García", "Hernández", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez",
		"Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz",
		"Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez", "Rivera",
		"Juárez", "Domínguez", "Muñoz", "Núñez", "Ibáñez", "Peña", "Castañeda", "Zúñiga"}
	benchTagWords = []string{"obras", "salud", "seguridad", "educación", "cultura", "deporte", "agua", "movilidad",
		"medio ambiente", "mujeres", "juventud", "adultos mayores", "vivienda", "alumbrado", "bacheo", "limpieza",
		"protección civil", "bienestar", "economía", "turismo", "mercados", "parques", "escuelas", "transparencia",
		"participación ciudadana", "derechos humanos", "igualdad", "empleo", "cuidados", "infancia"}
)

// benchArchive describes a synthetic archive, deterministically from its seed.
type benchArchive struct {
	assets int
	events []catalog.Ref
	people []catalog.Ref
	tags   []string
}

func newBenchArchive(n int) *benchArchive {
	r := rand.New(rand.NewPCG(1, 2))
	a := &benchArchive{assets: n}
	start := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5000 {
		when := start.Add(time.Duration(r.Int64N(int64(15 * 365 * 24 * time.Hour))))
		name := fmt.Sprintf("%s %s %s %d", pick(r, benchActions), pick(r, benchObjects), pick(r, benchPlaces), when.Year())
		a.events = append(a.events, catalog.Ref{ID: fmt.Sprintf("ev%05d", i), Name: name})
	}
	for i := range 2000 {
		name := fmt.Sprintf("%s %s %s", pick(r, benchFirst), pick(r, benchLast), pick(r, benchLast))
		a.people = append(a.people, catalog.Ref{ID: fmt.Sprintf("pe%05d", i), Name: name})
	}
	seen := map[string]bool{}
	for len(a.tags) < 20000 {
		var t string
		if len(a.tags) < len(benchTagWords) {
			t = benchTagWords[len(a.tags)]
		} else {
			t = fmt.Sprintf("%s %s", pick(r, benchTagWords), strings.TrimPrefix(strings.TrimPrefix(pick(r, benchPlaces), "en "), "la "))
			if seen[t] {
				t = fmt.Sprintf("%s %d", t, r.IntN(100000))
			}
		}
		if !seen[t] {
			seen[t] = true
			a.tags = append(a.tags, t)
		}
	}
	return a
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// zipfIndex draws popular items more often, like real archives.
func zipfIndex(z *rand.Zipf) int { return int(z.Uint64()) }

// each yields the archive's assets in id order.
func (a *benchArchive) each(yield func(catalog.Asset) error) error {
	r := rand.New(rand.NewPCG(3, 4))
	zEvent := rand.NewZipf(r, 1.1, 10, uint64(len(a.events)-1))
	zPerson := rand.NewZipf(r, 1.1, 5, uint64(len(a.people)-1))
	zTag := rand.NewZipf(r, 1.2, 5, uint64(len(a.tags)-1))
	start := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []string{catalog.KindPhoto, catalog.KindPhoto, catalog.KindPhoto, catalog.KindPhoto, catalog.KindPhoto,
		catalog.KindPhoto, catalog.KindPhoto, catalog.KindPhoto, catalog.KindVideo, catalog.KindAudio, catalog.KindDocument}
	for i := range a.assets {
		captured := start.Add(time.Duration(r.Int64N(int64(15 * 365 * 24 * time.Hour))))
		ev := a.events[zipfIndex(zEvent)]
		as := catalog.Asset{
			ID: fmt.Sprintf("as%08d", i), Kind: pick(r, kinds), Status: catalog.StatusReady,
			Filename: fmt.Sprintf("DSC_%05d.JPG", r.IntN(100000)), Size: 20 << 20,
			CapturedAt: &captured, UploadedAt: captured.Add(48 * time.Hour), Event: &ev,
			Title:   fmt.Sprintf("%s %s %s", pick(r, benchActions), pick(r, benchObjects), pick(r, benchPlaces)),
			Caption: fmt.Sprintf("%s %s %s %s.", pick(r, benchCaptions), strings.ToLower(pick(r, benchActions)), pick(r, benchObjects), pick(r, benchPlaces)),
		}
		for range r.IntN(4) {
			p := a.people[zipfIndex(zPerson)]
			if !slices.Contains(as.People, p) {
				as.People = append(as.People, p)
			}
		}
		for range 1 + r.IntN(5) {
			if t := a.tags[zipfIndex(zTag)]; !slices.Contains(as.Tags, t) {
				as.Tags = append(as.Tags, t)
			}
		}
		if err := yield(as); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSearchArchive builds a synthetic archive of ACERVO_BENCH_ASSETS
// assets (default 20,000), times the full index build, then measures
// latency percentiles of three searches over the real HTTP API (the server
// package's handler on loopback, cookie session). Run it once:
// go test -run '^$' -bench SearchArchive -benchtime 1x ./catalog
// (scripts/bench-search does).
func BenchmarkSearchArchive(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("ACERVO_BENCH_ASSETS")); err == nil && v > 0 {
		n = v
	}
	rounds := 300
	if v, err := strconv.Atoi(os.Getenv("ACERVO_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir := b.TempDir()
	if d := os.Getenv("ACERVO_BENCH_DIR"); d != "" {
		dir = d
	}
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(dir, "catalog.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	arch := newBenchArchive(n)
	t0 := time.Now()
	// A kept ACERVO_BENCH_DIR already holds the same archive (it is
	// deterministic): reuse it, and its index if of the current mapping.
	if have, err := catalog.AssetCountForBench(cat); err != nil || have != n {
		if err := catalog.BulkPutForBench(cat, arch.events, arch.people, arch.each); err != nil {
			b.Fatal(err)
		}
		b.Logf("catalog of %d assets written in %s", n, time.Since(t0).Round(time.Millisecond))
	}

	t0 = time.Now()
	idx, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(dir, "index"), Catalog: cat, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	for idx.Rebuilding() {
		time.Sleep(50 * time.Millisecond)
	}
	indexTime := time.Since(t0)
	t0 = time.Now()
	segments := catalog.WaitMergedForBench(idx, 30*time.Minute)
	b.Logf("index merges settled %s after the build: %d segments", time.Since(t0).Round(time.Second), segments)

	store, err := disk.New(disk.Config{Root: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateUser(catalog.NewUser{Username: "bench", Password: "bench-password-1", Role: catalog.RoleViewer}); err != nil && !errors.Is(err, catalog.ErrExists) {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Catalog: cat, Store: store, Ingester: &catalog.Ingester{Catalog: cat, Store: store}, Search: idx, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Post(hs.URL+"/api/v1/login", "application/json", strings.NewReader(`{"username":"bench","password":"bench-password-1"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()

	r := rand.New(rand.NewPCG(5, 6))
	texts := []string{"inauguración parque", "entrega patrullas", "conferencia", "mercado", "escuela primaria",
		"inauguracion", "biblioteca coyoacan", "luminarias iztapalapa", "vacunacion", "festival cultural", "\"parque lineal\"", "rehabilitacion deportivo"}
	popular := func() string { return arch.people[r.IntN(20)].ID }
	cases := []struct {
		name   string
		params func() url.Values
	}{
		{"text", func() url.Values { return url.Values{"q": {pick(r, texts)}} }},
		{"text+person+dates", func() url.Values {
			y := 2011 + r.IntN(13)
			return url.Values{"q": {pick(r, texts[:6])}, "person": {popular()}, "from": {fmt.Sprintf("%d-01-01", y)}, "to": {fmt.Sprintf("%d-12-31", y+2)}}
		}},
		{"empty+facets", func() url.Values { return url.Values{} }},
	}
	only := os.Getenv("ACERVO_BENCH_CASES") // comma-separated case names; default all
	profile := os.Getenv("ACERVO_BENCH_CPUPROFILE")
	b.ResetTimer()
	for range b.N {
		for _, tc := range cases {
			if only != "" && !slices.Contains(strings.Split(only, ","), tc.name) {
				continue
			}
			stop := startCPUProfile(b, profile, tc.name)
			var lat []time.Duration
			var total int
			for range rounds {
				p := tc.params()
				start := time.Now()
				resp, err := client.Get(hs.URL + "/api/v1/search?" + p.Encode())
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d %s", p.Encode(), resp.StatusCode, body)
				}
				var out struct{ Total int }
				json.Unmarshal(body, &out)
				total += out.Total
			}
			stop()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			fmt.Printf("| %s | %.1f | %.1f | %.1f | %d |\n", tc.name, q(0.50), q(0.95), q(0.99), total/rounds)
			b.ReportMetric(q(0.99), tc.name+"-p99-ms")
		}
	}
	b.StopTimer()
	size := dirSize(filepath.Join(dir, "index"))
	fmt.Printf("\nassets %d; index built in %s (%.0f assets/s); index on disk %.1f MiB; RSS (bench process: server + client) %s\n",
		n, indexTime.Round(time.Millisecond), float64(n)/indexTime.Seconds(), float64(size)/(1<<20), rss())
	b.ReportMetric(indexTime.Seconds(), "index-s")
	b.ReportMetric(float64(size)/(1<<20), "index-MiB")
}

// startCPUProfile profiles one case's searches into prefix-<case>.pprof
// (ACERVO_BENCH_CPUPROFILE=prefix); the index build is left out.
func startCPUProfile(b *testing.B, prefix, name string) (stop func()) {
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + strings.ReplaceAll(name, "+", "-") + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func rss() string {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return "peak " + strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
