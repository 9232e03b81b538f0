package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// SaveHistory writes a workflow run's history to path for a replay test, as
// the Temporal CLI's JSON. A file that exists is kept: a committed history is
// never rewritten (name a new scenario instead).
func SaveHistory(tb testing.TB, c client.Client, workflowID, runID, path string) {
	tb.Helper()
	if _, err := os.Stat(path); err == nil {
		tb.Logf("%s exists and is kept: a committed history is never rewritten", path)
		return
	}
	var h historypb.History
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
