package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	sdkclient "go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// codecCall posts payloads to the codec server as the Web UI does: from the
// UI's origin, with X-Namespace, and the session cookie when c has one.
func codecCall(t *testing.T, c *client, op, origin string, payloads []*commonpb.Payload) (*http.Response, []*commonpb.Payload) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/v1/codec/"+op, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	req.Header.Set("Origin", origin)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(b, &out); err != nil {
		t.Fatalf("codec answer %s: %v", b, err)
	}
	return resp, out.Payloads
}

// historyPayloads are every payload of a workflow's history as Temporal
// stores it (a client without the codec).
func historyPayloads(t *testing.T, workflowID string) []*commonpb.Payload {
	t.Helper()
	raw := testenv.DialTemporal(t, sdkclient.Options{})
	ctx := context.Background()
	var out []*commonpb.Payload
	it := raw.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		err = proxy.VisitPayloads(ctx, e, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				out = append(out, ps...)
				return ps, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func decodedText(ps []*commonpb.Payload) string {
	var b strings.Builder
	for _, p := range ps {
		b.Write(p.GetData())
	}
	return b.String()
}

// The Temporal Web UI's codec server: a coach of the case's centre reads the
// payloads in plain text, audited; other centres, roles that do not read
// personal data, and signed-out callers get nothing; CORS only for the UI.
func TestCodecServer(t *testing.T) {
	e := newEnv(t, true)
	ui := "http://localhost:8233" // temporal.ui_url's default
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "phone"}), http.StatusOK)
	const goals = "codec-test-goal-Xq7"
	coach.must(coach.post(base+"/mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3",
		"language": "sv:B1", "goals": goals}), http.StatusOK)

	stored := historyPayloads(t, pathway.WorkflowID(started.CaseID))
	encrypted := 0
	for _, p := range stored {
		if codec.IsEncrypted(p) {
			encrypted++
		}
	}
	if encrypted == 0 || encrypted != len(stored) || strings.Contains(decodedText(stored), goals) {
		t.Fatalf("%d of %d stored payloads encrypted; the goal in plain text: %v", encrypted, len(stored), strings.Contains(decodedText(stored), goals))
	}

	// The case's coach: plain text, with the CORS headers the UI needs.
	resp, plain := codecCall(t, coach, "decode", ui, stored)
	if resp.StatusCode != http.StatusOK || !strings.Contains(decodedText(plain), goals) {
		t.Fatalf("coach decode: %d, goal found %v", resp.StatusCode, strings.Contains(decodedText(plain), goals))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != ui || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("CORS headers: %v", resp.Header)
	}
	audit, err := store.ListAudit(context.Background(), e.pool, store.AuditFilter{StaffID: "coach.angered", CaseID: started.CaseID})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Action != "codec_decode" {
		t.Fatalf("decode not audited: %+v", audit)
	}

	// Another centre's coach, and a unit manager (sees every centre, reads no
	// personal data): 403. Signed out: 401.
	for _, who := range []string{"coach.hisingen", "manager"} {
		if resp, _ := codecCall(t, e.signIn(t, who), "decode", ui, stored); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s decode: %d, want 403", who, resp.StatusCode)
		}
	}
	if resp, _ := codecCall(t, e.anon(t), "decode", ui, stored); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out decode: %d, want 401", resp.StatusCode)
	}
	if resp, _ := codecCall(t, e.anon(t), "encode", ui, stored); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out encode: %d, want 401", resp.StatusCode)
	}

	// A payload of no case (encoded outside a workflow): only roles that see
	// every centre decode it.
	resp, unlabelled := codecCall(t, coach, "encode", ui, []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if resp.StatusCode != http.StatusOK || !codec.IsEncrypted(unlabelled[0]) {
		t.Fatalf("encode: %d %v", resp.StatusCode, unlabelled)
	}
	if resp, _ := codecCall(t, coach, "decode", ui, unlabelled); resp.StatusCode != http.StatusForbidden {
		t.Errorf("coach decoded a payload of no case: %d", resp.StatusCode)
	}
	if resp, out := codecCall(t, e.signIn(t, "admin"), "decode", ui, unlabelled); resp.StatusCode != http.StatusOK || string(out[0].Data) != `"x"` {
		t.Errorf("admin decode of a payload of no case: %d %v", resp.StatusCode, out)
	}

	// The preflight: the UI's origin passes, another does not.
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/api/v1/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := pre(ui); r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != ui ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Errorf("preflight from the UI: %d %v", r.StatusCode, r.Header)
	}
	if r := pre("https://evil.example"); r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from elsewhere: %d %v", r.StatusCode, r.Header)
	}
	if resp, _ := codecCall(t, coach, "decode", "https://evil.example", stored); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS allowed another origin: %v", resp.Header)
	}
}
