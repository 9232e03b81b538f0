package devenv_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pathways-se/pathways/devenv"
)

// The dev server's Web UI is told where the codec server is (make run
// points it at the API), so the browser decodes payloads through it.
func TestTemporalUICodecEndpoint(t *testing.T) {
	ctx := context.Background()
	bin, err := devenv.EnsureTemporalCLI(ctx, "../.tools", "v1.5.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ui, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const endpoint = "http://localhost:18080/api/v1/codec"
	srv := &devenv.Temporal{Binary: bin, Port: port, UIPort: ui, Log: io.Discard, UICodecEndpoint: endpoint}
	p, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	var settings struct{ Codec struct{ Endpoint string } }
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(ui) + "/api/v1/settings")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&settings)
			resp.Body.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("UI settings: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if settings.Codec.Endpoint != endpoint {
		t.Fatalf("the UI's codec endpoint is %q, want %q", settings.Codec.Endpoint, endpoint)
	}
}
