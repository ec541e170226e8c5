package transcode

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestCommandLines pins the exact argv of every program the photo child runs.
// Run with -update after a deliberate change and review the diff.
func TestCommandLines(t *testing.T) {
	const blob = "/data/blobs/sha256/ab/cd/abcdef0123456789"
	var b strings.Builder
	line := func(program string, args []string) {
		fmt.Fprintf(&b, "%s %s\n", program, strings.Join(args, " "))
	}
	for _, size := range [][2]int{{4000, 3000}, {6000, 4000}, {8256, 5504}, {2048, 1536}, {2100, 1400}, {1200, 800}, {3000, 4500}} {
		long := max(size[0], size[1])
		fmt.Fprintf(&b, "# JPEG %dx%d\n", size[0], size[1])
		line(djpegProgram, djpegArgs(blob, djpegScale(long, photoRenditions[0].LongEdge)))
	}
	b.WriteString("# HEIC\n")
	line(heifConvertProgram, heifConvertArgs(blob, "/data/staging/job1/0a1b2c3d-heif.jpg", heifIntermediateQuality))
	b.WriteString("# encode\n")
	for _, r := range photoRenditions {
		line(cjpegProgram, cjpegArgs("/data/staging/job1/0a1b2c3d-"+r.Name, jpegQuality))
	}
	b.WriteString("# exiftool\n")
	line("exiftool", exiftoolArgs)

	checkGolden(t, "commands.golden", b.String())
}

func TestDjpegScale(t *testing.T) {
	cases := []struct{ long, minLong, want int }{
		{4000, 2048, 5}, // 2500: 4/8 would give 2000
		{6000, 2048, 3}, // 2250
		{8256, 2048, 2}, // 2064
		{16384, 2048, 1},
		{4096, 2048, 4}, // exactly 2048
		{4095, 2048, 4}, // libjpeg rounds scaled sizes up: 2047.5 → 2048
		{2048, 2048, 8},
		{1200, 2048, 8},
		{2100, 2048, 8},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.long), func(t *testing.T) {
			got := djpegScale(tc.long, tc.minLong)
			if got != tc.want {
				t.Errorf("djpegScale(%d, %d) = %d, want %d", tc.long, tc.minLong, got, tc.want)
			}
			if scaled := (tc.long*got + 7) / 8; scaled < min(tc.long, tc.minLong) {
				t.Errorf("scale %d/8 gives %d px, under %d", got, scaled, tc.minLong)
			}
		})
	}
}

// checkGolden compares got with testdata/name, or rewrites the file when
// the test runs with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("command lines changed; got:\n%s\nwant:\n%s", got, want)
	}
}
