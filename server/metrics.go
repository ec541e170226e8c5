package server

import (
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// metrics are the server's counters, exposed in the Prometheus text format.
// Hand-written because a handful of counters don't need a client library.
type metrics struct {
	uploads        atomic.Int64
	uploadBytes    atomic.Int64
	uploadNanos    atomic.Int64
	duplicates     atomic.Int64
	uploadsRefused atomic.Int64
	// Public verifications by verdict, and those refused (type, size,
	// rate, bad request): counted instead of audited (see verify.go).
	verifyExact, verifySimilar, verifyNone, verifyRefused atomic.Int64
}

func (m *metrics) observeVerify(match string) {
	switch match {
	case "exact":
		m.verifyExact.Add(1)
	case "similar":
		m.verifySimilar.Add(1)
	default:
		m.verifyNone.Add(1)
	}
}

func (m *metrics) observeUpload(size int64, took time.Duration, duplicate bool) {
	if duplicate {
		m.duplicates.Add(1)
		return
	}
	m.uploads.Add(1)
	m.uploadBytes.Add(size)
	m.uploadNanos.Add(int64(took))
}

func (s *Server) getMetrics(c echo.Context) error {
	queued, running, err := s.cat.QueueDepth()
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := s.metrics
	hotBytes, hotEntries, hotHits, hotMisses := s.hot.stats()
	w := c.Response()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for _, line := range []struct {
		name, help, typ string
		value           float64
	}{
		{"acervo_uploads_total", "Originals stored.", "counter", float64(m.uploads.Load())},
		{"acervo_upload_bytes_total", "Bytes of originals stored.", "counter", float64(m.uploadBytes.Load())},
		{"acervo_upload_seconds_total", "Time spent receiving stored originals.", "counter", time.Duration(m.uploadNanos.Load()).Seconds()},
		{"acervo_upload_duplicates_total", "Uploads of bytes already in the archive.", "counter", float64(m.duplicates.Load())},
		{"acervo_uploads_refused_total", "Uploads refused as unsupported media.", "counter", float64(m.uploadsRefused.Load())},
		{"acervo_jobs_queued", "Jobs waiting.", "gauge", float64(queued)},
		{"acervo_jobs_running", "Jobs being worked on.", "gauge", float64(running)},
		{"acervo_hot_cache_bytes", "Bytes of small renditions kept in memory.", "gauge", float64(hotBytes)},
		{"acervo_hot_cache_entries", "Renditions kept in memory.", "gauge", float64(hotEntries)},
		{"acervo_hot_cache_hits_total", "Renditions served from memory.", "counter", float64(hotHits)},
		{"acervo_hot_cache_misses_total", "Small renditions read from the store.", "counter", float64(hotMisses)},
		{"acervo_go_heap_bytes", "Go heap in use.", "gauge", float64(ms.HeapInuse)},
		{"acervo_go_goroutines", "Goroutines.", "gauge", float64(runtime.NumGoroutine())},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %g\n", line.name, line.help, line.name, line.typ, line.name, line.value)
	}
	byKind, err := s.cat.QueuedByKind()
	if err != nil {
		return nil // headers are out; the totals above stand
	}
	fmt.Fprint(w, "# HELP acervo_verifications_total Public verifications, by verdict (refused: not answered).\n# TYPE acervo_verifications_total counter\n")
	for _, v := range []struct {
		match string
		n     int64
	}{{"exact", m.verifyExact.Load()}, {"similar", m.verifySimilar.Load()}, {"none", m.verifyNone.Load()}, {"refused", m.verifyRefused.Load()}} {
		fmt.Fprintf(w, "acervo_verifications_total{match=%q} %d\n", v.match, v.n)
	}
	fmt.Fprint(w, "# HELP acervo_jobs_queued_by_kind Jobs waiting, by kind.\n# TYPE acervo_jobs_queued_by_kind gauge\n")
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		fmt.Fprintf(w, "acervo_jobs_queued_by_kind{kind=%q} %d\n", kind, byKind[kind])
	}
	return nil
}
