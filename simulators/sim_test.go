package simulators

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/config"
)

func TestDataIsDeterministic(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	a, b, c := generate(42, now), generate(42, now), generate(43, now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different data")
	}
	if reflect.DeepEqual(a.vacancies, c.vacancies) {
		t.Fatal("different seeds, same vacancies")
	}
	munis := map[string]int{}
	for _, co := range a.courses {
		munis[co.Municipality]++
		if !co.StartDate.After(now) {
			t.Fatalf("course starts in the past: %+v", co)
		}
	}
	if munis["1480"] == 0 || munis["1488"] == 0 {
		t.Fatalf("courses by municipality: %v", munis)
	}
	for _, v := range a.vacancies {
		if len(v.SSYK) != 4 || municipalities[v.Municipality] == "" {
			t.Fatalf("vacancy with odd codes: %+v", v)
		}
	}
	if len(a.needs) == 0 {
		t.Fatal("no recruitment needs")
	}
}

func do(t *testing.T, srv *httptest.Server, method, path, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDuplicateCounterCountsBrokenIdempotency(t *testing.T) {
	s := New(1, nil)
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := `{"case_id":"C-9","event":"closure","personal_number":"199001012380"}`
	if code, _ := do(t, srv, "POST", "/social/notices", "k1", body); code != 202 {
		t.Fatal(code)
	}
	if code, _ := do(t, srv, "POST", "/social/notices", "k1", body); code != 202 {
		t.Fatal(code)
	}
	if s.Stats().DuplicateSideEffects != 0 {
		t.Fatal("a replay counted as a duplicate")
	}
	// Another key for the same notice: the chain is broken.
	if code, _ := do(t, srv, "POST", "/social/notices", "k2", body); code != 202 {
		t.Fatal(code)
	}
	// The same key with another request is refused.
	if code, _ := do(t, srv, "POST", "/social/notices", "k1", strings.Replace(body, "closure", "outcome", 1)); code != 422 {
		t.Fatalf("key reuse: %d", code)
	}
	st := s.Stats()
	if st.DuplicateSideEffects != 1 || st.Systems["social"].DuplicateSideEffects != 1 || st.Systems["social"].KeyMismatches != 1 {
		t.Fatalf("stats: %+v", st.Systems["social"])
	}
	// GET /admin/stats and /admin/requests over HTTP.
	code, out := do(t, srv, "GET", "/admin/stats", "", "")
	if code != 200 || !strings.Contains(out, `"duplicate_side_effects":1`) {
		t.Fatalf("admin stats: %d %s", code, out)
	}
	code, out = do(t, srv, "GET", "/admin/requests?system=social&path=/social/notices", "", "")
	var rr struct {
		Total    int             `json:"total"`
		Requests []RequestRecord `json:"requests"`
	}
	if code != 200 || json.Unmarshal([]byte(out), &rr) != nil || rr.Total != 4 || rr.Requests[1].Replay != true || rr.Requests[0].IdempotencyKey != "k1" {
		t.Fatalf("admin requests: %d %s", code, out)
	}
	if strings.Contains(out, "199001012380") {
		t.Fatal("request log holds a personal number")
	}
}

func TestAdminFaults(t *testing.T) {
	s := New(1, nil)
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if code, out := do(t, srv, "PUT", "/admin/faults", "", `{"systems":{"jobsearch":{"errors":{"503":1}}}}`); code != 200 {
		t.Fatalf("put faults: %d %s", code, out)
	}
	if code, _ := do(t, srv, "GET", "/jobsearch/search", "", ""); code != 503 {
		t.Fatalf("fault not applied: %d", code)
	}
	if code, _ := do(t, srv, "GET", "/employers/needs", "", ""); code != 200 {
		t.Fatalf("fault leaked to another system: %d", code)
	}
	for _, bad := range []string{`{"global":{"errors":{"200":0.5}}}`, `{"global":{"drop_rate":2}}`, `{"systems":{"nope":{}}}`, `{"global":{"latency":5}}`} {
		if code, _ := do(t, srv, "PUT", "/admin/faults", "", bad); code/100 != 4 {
			t.Fatalf("%s accepted: %d", bad, code)
		}
	}
	if code, _ := do(t, srv, "DELETE", "/admin/faults", "", ""); code != 200 {
		t.Fatal(code)
	}
	if code, _ := do(t, srv, "GET", "/jobsearch/search", "", ""); code != 200 {
		t.Fatalf("fault not cleared: %d", code)
	}
	// Global applies where no system entry exists; side_effects_only spares reads.
	if err := s.SetFaults(Faults{Global: &FaultSpec{Errors: map[string]float64{"500": 1}, SideEffectsOnly: true}}); err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, srv, "GET", "/employers/needs", "", ""); code != 200 {
		t.Fatalf("read under side_effects_only: %d", code)
	}
	if code, _ := do(t, srv, "POST", "/social/notices", "k", `{}`); code != 500 {
		t.Fatalf("write under global fault: %d", code)
	}
	if st := s.Stats().Systems["social"]; st.Faults["error"] != 1 {
		t.Fatalf("fault not counted: %+v", st)
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	draw := func() []int {
		s := New(5, nil)
		defer s.Close()
		_ = s.SetFaults(Faults{Global: &FaultSpec{Errors: map[string]float64{"503": 0.3, "429": 0.1}}})
		fs := s.spec("education")
		var out []int
		for range 50 {
			out = append(out, s.pickError(fs))
		}
		return out
	}
	if !reflect.DeepEqual(draw(), draw()) {
		t.Fatal("fault draws differ for the same seed")
	}
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults(`{"global":{"latency_ms":100,"errors":{"503":0.3}},"systems":{"education":{"duplicate_callback_rate":1}}}`)
	if err != nil || f.Global.LatencyMS != 100 || f.Systems["education"].DuplicateCallbackRate != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := ParseFaults(`{"global":{"errors":{"503":0.8,"500":0.5}}}`); err == nil {
		t.Fatal("rates over 1 accepted")
	}
	if f, err := ParseFaults(""); err != nil || f.Global != nil {
		t.Fatal("empty")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunServesAndStops(t *testing.T) {
	cfg := &config.Config{}
	cfg.Sim = config.SimConfig{Addr: freeAddr(t), Seed: 3, Faults: `{"systems":{"employers":{"latency_ms":1}}}`}
	cfg.SMTP = config.SMTPConfig{Addr: freeAddr(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, nil) }()
	var resp *http.Response
	var err error
	for range 100 {
		if resp, err = http.Get("http://" + cfg.Sim.Addr + "/admin/faults"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"latency_ms":1`) {
		t.Fatalf("faults from config not applied: %s", b)
	}
	msg := "Subject: hej\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n"
	if err := smtp.SendMail(cfg.SMTP.Addr, nil, "a@kommun.example", []string{"b@kommun.example"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get("http://" + cfg.Sim.Addr + "/admin/mail")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"subject":"hej"`) {
		t.Fatalf("mail not captured: %s", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if _, err := net.DialTimeout("tcp", cfg.Sim.Addr, 200*time.Millisecond); err == nil {
		t.Fatal("still listening")
	}
}
