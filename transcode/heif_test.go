package transcode

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func box(typ string, body ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(bytes.Join(body, nil))))
	b = append(b, typ...)
	return append(b, bytes.Join(body, nil)...)
}

// heifWithSizes is the skeleton of a HEIC file whose property boxes declare
// the given image sizes (ispe), with no image data.
func heifWithSizes(sizes ...[2]uint32) []byte {
	var props [][]byte
	for _, s := range sizes {
		ispe := make([]byte, 12) // version and flags, width, height
		binary.BigEndian.PutUint32(ispe[4:], s[0])
		binary.BigEndian.PutUint32(ispe[8:], s[1])
		props = append(props, box("ispe", ispe))
	}
	hdlr := box("hdlr", make([]byte, 8), []byte("pict"), make([]byte, 13))
	meta := box("meta", make([]byte, 4), hdlr, box("iprp", box("ipco", props...)))
	return append(append(ftyp("heic", "mif1", "heic")[:24], meta...), box("mdat")...)
}

func TestHeifSize(t *testing.T) {
	cases := []struct {
		name    string
		data    []byte
		w, h    int
		wantErr string
	}{
		{name: "one image", data: heifWithSizes([2]uint32{4032, 3024}), w: 4032, h: 3024},
		{name: "grid and tiles: the largest", data: heifWithSizes([2]uint32{512, 512}, [2]uint32{4032, 3024}, [2]uint32{320, 240}), w: 4032, h: 3024},
		{name: "bomb", data: heifWithSizes([2]uint32{30000, 30000}), w: 30000, h: 30000},
		{name: "no ispe", data: heifWithSizes(), wantErr: "no image size"},
		{name: "no meta", data: append(ftyp("heic")[:16], box("mdat", make([]byte, 100))...), wantErr: "no meta box"},
		{name: "truncated", data: heifWithSizes([2]uint32{4032, 3024})[:40], wantErr: "meta box"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, h, err := heifSize(bytes.NewReader(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || w != tc.w || h != tc.h {
				t.Fatalf("heifSize = %d, %d, %v; want %d, %d", w, h, err, tc.w, tc.h)
			}
		})
	}
}
