package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"
)

// The decoding child is this same binary, re-executed with childEnvVar set
// to childEnvValue and its request, as JSON, in childRequestVar. Environment
// variables rather than argv so that RunChild works whatever flags main or
// the test binary would parse; argv[1] is childArg only so that a main that
// forgot to call RunChild fails at once on an unknown command instead of
// running. Stdin is /dev/null, the response is one JSON object on stdout,
// and stderr is for crashes only.
const (
	childEnvVar     = "ACERVO_TRANSCODE_CHILD"
	childEnvValue   = "photo"
	childRequestVar = "ACERVO_TRANSCODE_REQUEST"
	childArg        = "transcode-child"
)

// Child exit statuses besides 0 (rendered): the response names the error.
const (
	exitReported = 3 // the response carries an error kind and message
	exitBadCall  = 4 // no usable request
)

// childRequest is what the parent asks of the child.
type childRequest struct {
	Path        string `json:"path"`        // absolute
	MIME        string `json:"mime"`        // sniffed by the parent
	Out         string `json:"out"`         // path prefix of every file the child writes
	Orientation int    `json:"orientation"` // EXIF orientation to apply (ignored for HEIF)
	MaxPixels   int64  `json:"max_pixels"`
	MemoryLimit int64  `json:"memory_limit"`
	// Specs are the renditions to write, largest first; default
	// photoRenditions. /verify asks for one small picture to hash.
	Specs []renditionSpec `json:"specs,omitempty"`
	// Early asks for the smallest rendition (the thumbnail) to be reported
	// on a line of its own as soon as it is written, before the others.
	Early bool `json:"early,omitempty"`
}

// childResponse is the child's answer: renditions, or an error. With
// childRequest.Early, a line holding only Early comes first.
type childResponse struct {
	Width      int          `json:"width"`  // full size, upright
	Height     int          `json:"height"` // full size, upright
	Renditions []Rendition  `json:"renditions,omitempty"`
	Error      *childErrMsg `json:"error,omitempty"`
	Early      *Rendition   `json:"early,omitempty"`
}

type childErrMsg struct {
	Kind    string `json:"kind"` // "unsupported", "too_large" or "internal"
	Message string `json:"message"`
}

// renditionSpec is one rendition of a photo: its file name and long edge.
// Each is resized from the one before it, so the list goes from large to
// small.
type renditionSpec struct {
	Name     string
	LongEdge int
}

var photoRenditions = []renditionSpec{
	{Name: "preview.jpg", LongEdge: 2048},
	{Name: "thumb.jpg", LongEdge: 400},
}

// specs returns the renditions asked for.
func (r childRequest) specs() []renditionSpec {
	if len(r.Specs) == 0 {
		return photoRenditions
	}
	return r.Specs
}

// jpegQuality is the quality of the renditions: 85 is indistinguishable at
// viewing size and about a third of the bytes of 95.
const jpegQuality = 85

// RunChild must be called first thing in main, and in TestMain of any test
// package that renders. In the decoding child that RenderPhoto starts it does
// the child's work and exits the process; anywhere else it returns false at
// once.
func RunChild() bool {
	if os.Getenv(childEnvVar) != childEnvValue {
		return false
	}
	os.Exit(childMain())
	return true
}

func childMain() int {
	// A Go panic dump is not a message for an admin: a crash reports one line.
	debug.SetTraceback("none")
	var req childRequest
	if err := json.Unmarshal([]byte(os.Getenv(childRequestVar)), &req); err != nil || req.Path == "" || req.Out == "" {
		fmt.Fprintf(os.Stderr, "acervo photo child: bad request: %v\n", err)
		return exitBadCall
	}
	resp := childResponse{}
	info, err := childRender(req)
	if err != nil {
		resp.Error = &childErrMsg{Kind: "internal", Message: err.Error()}
		var ke *kindError
		if errors.As(err, &ke) {
			resp.Error.Message = ke.msg
			switch ke.kind {
			case ErrUnsupported:
				resp.Error.Kind = "unsupported"
			case ErrTooLarge:
				resp.Error.Kind = "too_large"
			}
		}
	} else {
		resp = info
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fmt.Fprintf(os.Stderr, "acervo photo child: write response: %v\n", err)
		return exitBadCall
	}
	if resp.Error != nil {
		return exitReported
	}
	return 0
}

// childRender sets the child's limits and renders, turning a decoder panic on
// a hostile file into an "unsupported" error.
func childRender(req childRequest) (resp childResponse, err error) {
	// One decode per process; the worker pool runs processes in parallel.
	// (imaging is not used here; its v1.6.2 would read GOMAXPROCS as well.)
	runtime.GOMAXPROCS(1)
	if req.MemoryLimit > 0 {
		lim := &unix.Rlimit{Cur: uint64(req.MemoryLimit), Max: uint64(req.MemoryLimit)}
		if err := unix.Setrlimit(unix.RLIMIT_AS, lim); err != nil {
			return resp, fmt.Errorf("set memory limit: %w", err)
		}
		// A short-lived process with a handful of big pixel buffers: collect
		// only when the heap nears the limit, rather than after every buffer.
		debug.SetMemoryLimit(req.MemoryLimit / 2)
		debug.SetGCPercent(-1)
	}
	defer func() {
		if p := recover(); p != nil {
			err = unsupportedf("the decoder failed on this file: %v", p)
		}
	}()
	var early func(Rendition) error
	if req.Early {
		early = func(r Rendition) error { return json.NewEncoder(os.Stdout).Encode(childResponse{Early: &r}) }
	}
	return render(context.Background(), req, early)
}

// render decodes the photo once and makes each rendition from the previous,
// larger one, then compresses them smallest first, so that the thumbnail is
// on disk, and handed to early when it is not nil, before the preview is
// compressed. The parent's timeout kills the whole process group, djpeg,
// cjpeg and heif-convert included, so no context deadline is needed here.
func render(ctx context.Context, req childRequest, early func(Rendition) error) (childResponse, error) {
	specs := req.specs()
	d, err := decodePhoto(ctx, req.Path, req.MIME, req.Out, specs[0].LongEdge, req.MaxPixels)
	if err != nil {
		return childResponse{}, err
	}
	o := req.Orientation
	if d.Oriented {
		o = 1
	}
	resp := childResponse{Width: d.FullW, Height: d.FullH}
	if o >= 5 && o <= 8 {
		resp.Width, resp.Height = d.FullH, d.FullW
	}
	// The first rendition is sized from the full dimensions (the decoded
	// image may be DCT-reduced), and resized before it is turned, which is
	// cheaper than turning the larger image.
	img := d.Img
	imgs := make([]*rgbImage, len(specs))
	for i, spec := range specs {
		var w, h int
		if i == 0 {
			w, h = fitLongEdge(d.FullW, d.FullH, spec.LongEdge)
			if w > img.W || h > img.H { // never upscale a DCT-reduced image
				w, h = img.W, img.H
			}
			img = orient(resize(img, w, h, catmullRom), o)
		} else {
			w, h = fitLongEdge(img.W, img.H, spec.LongEdge)
			img = resize(img, w, h, catmullRom)
		}
		imgs[i] = img
	}
	resp.Renditions = make([]Rendition, len(specs))
	for i := len(specs) - 1; i >= 0; i-- {
		spec, img := specs[i], imgs[i]
		path := req.Out + spec.Name
		if err := encodeJPEG(ctx, img, path); err != nil {
			return childResponse{}, fmt.Errorf("encode %s: %w", spec.Name, err)
		}
		resp.Renditions[i] = Rendition{Name: spec.Name, Path: path, Width: img.W, Height: img.H, MIME: "image/jpeg"}
		if early != nil && i == len(specs)-1 && i > 0 {
			if err := early(resp.Renditions[i]); err != nil {
				return childResponse{}, fmt.Errorf("report %s: %w", spec.Name, err)
			}
		}
	}
	return resp, nil
}

// encodeJPEG writes img to path with cjpeg (libjpeg-turbo's SIMD encoder;
// about twice as fast as image/jpeg on a preview).
func encodeJPEG(ctx context.Context, img *rgbImage, path string) error {
	ppm := io.MultiReader(strings.NewReader(ppmHeader(img)), bytes.NewReader(img.Pix))
	_, err := runCommand(ctx, command{Path: cjpegProgram, Args: cjpegArgs(path, jpegQuality), Env: childEnv(), Stdin: ppm})
	return err
}

// childEnv is the environment for the child's own programs: the child's,
// without the request.
func childEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, childEnvVar+"=") && !strings.HasPrefix(kv, childRequestVar+"=") {
			out = append(out, kv)
		}
	}
	return out
}
