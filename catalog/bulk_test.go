package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/comsoc/acervo/storage/disk"
)

// A gate of one place serialises the uploads' processing but never waits
// on a client: an upload whose client has stopped sending holds nothing,
// and another upload goes through meanwhile.
func TestBulkGateNeverWaitsOnClients(t *testing.T) {
	store, err := disk.New(disk.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	gate := NewBulkGate(1)
	defer gate.Close()
	in := &Ingester{Store: store, Bulk: gate, Sniff: func([]byte) (string, string, bool) { return KindDocument, "application/pdf", true }}

	// A client that sent 3 MiB and then stalls.
	stalled, feed := io.Pipe()
	defer feed.Close()
	go func() {
		feed.Write(bytes.Repeat([]byte("a"), 3<<20))
		// then nothing: the upload waits on the network
	}()
	go in.Stage(context.Background(), stalled)

	body := bytes.Repeat([]byte("acervo "), 1<<20)
	done := make(chan error, 1)
	go func() {
		st, err := in.Stage(context.Background(), bytes.NewReader(body))
		if err == nil {
			sum := sha256.Sum256(body)
			if st.SHA256 != hex.EncodeToString(sum[:]) || st.Size != int64(len(body)) {
				t.Errorf("staged %s, %d bytes", st.SHA256, st.Size)
			}
			st.Abort()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an upload waited on another one's stalled client")
	}

	// The reader form (tus bodies): held between reads, given back by Done.
	g := NewBulkGate(1)
	defer g.Close()
	r := g.Reader(bytes.NewReader([]byte("abc")))
	if _, err := r.Read(make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	select {
	case g.slots <- struct{}{}:
		t.Fatal("gate free while the reader's caller processes a read")
	default:
	}
	r.Done()
	r.Done() // twice is fine
	select {
	case g.slots <- struct{}{}:
		<-g.slots
	default:
		t.Fatal("gate still held after Done")
	}
	var nilGate *BulkGate
	nilGate.Enter()
	nilGate.Leave()
	ran := false
	<-nilGate.Go(func() { ran = true })
	if !ran {
		t.Fatal("a nil gate's Go did not run its work")
	}
}
