package transcode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkRenderPhoto renders photos two at a time, as a two-worker pool
// would, and reports renders per second. The photos are noisy 12 MP and
// 24 MP JPEGs made with ffmpeg, so they compress like camera files. With
// ACERVO_BENCH_PHOTOS set to a folder, it renders each file in it instead
// (scripts/bench-photo uses that to time Acervo and vipsthumbnail on the
// same files).
func BenchmarkRenderPhoto(b *testing.B) {
	requireTools(b, "djpeg", "cjpeg", "exiftool")
	photos := benchPhotos(b)
	et := newExifTool(b)
	for _, p := range photos {
		b.Run(p.name, func(b *testing.B) {
			cfg := PhotoConfig{ScratchDir: b.TempDir()}
			b.SetParallelism(1) // with GOMAXPROCS 2: two renders at a time
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					info, err := RenderPhoto(b.Context(), cfg, et, p.path)
					if err != nil {
						b.Error(err)
						return
					}
					for _, r := range info.Renditions {
						os.Remove(r.Path)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "renders/s")
		})
	}
}

type benchPhoto struct{ name, path string }

func benchPhotos(b *testing.B) []benchPhoto {
	if dir := os.Getenv("ACERVO_BENCH_PHOTOS"); dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		var out []benchPhoto
		for _, e := range entries {
			if e.Type().IsRegular() {
				out = append(out, benchPhoto{name: e.Name(), path: filepath.Join(dir, e.Name())})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out
	}
	requireTools(b, "ffmpeg")
	dir := b.TempDir()
	var out []benchPhoto
	for _, s := range []struct {
		name string
		w, h int
	}{{"12MP", 4000, 3000}, {"24MP", 6000, 4000}} {
		path := filepath.Join(dir, s.name)
		cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi",
			"-i", fmt.Sprintf("testsrc2=s=%dx%d,noise=alls=30:allf=t", s.w, s.h),
			"-frames:v", "1", "-q:v", "2", "-f", "mjpeg", path)
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, o)
		}
		out = append(out, benchPhoto{name: s.name, path: path})
	}
	return out
}
