package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	temporalclient "go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/store"
)

const (
	floorWorkflow = "BenchFloor"
	floorUpdate   = "bump"
)

// benchFloor is the engine's floor for a staff action: an Update with a
// validator whose handler changes state and answers, nothing else.
func benchFloor(ctx workflow.Context) error {
	n := 0
	if err := workflow.SetUpdateHandlerWithOptions(ctx, floorUpdate, func(ctx workflow.Context, by int) (int, error) {
		n += by
		return n, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, by int) error {
		if by <= 0 {
			return errors.New("bump by a positive number")
		}
		return nil
	}}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return n >= 1<<30 })
}

// BenchmarkStaffActionRatio measures, in one run on the same dev server and
// worker, the p99 of a raw Update with a validator (the floor) and of a staff
// action through the API (pause and resume on pathways, each answered once
// the read model shows it), interleaved so load on a shared machine hits
// both alike, and prints their ratio against the goal of issue 16.
func BenchmarkStaffActionRatio(b *testing.B) {
	const pathways, pairsEach = 8, 60
	ts := testsystem.New(b, testsystem.Options{Register: func(w sdkworker.Worker, _ *testsystem.System) {
		w.RegisterWorkflowWithOptions(benchFloor, workflow.RegisterOptions{Name: floorWorkflow})
	}})
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), UpdateTimeout: 30 * time.Second, Keys: ts.Keys,
		Cases: ts.Cases(0), Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}
	srv := httptest.NewServer(s.Handler())
	b.Cleanup(srv.Close)
	ctx := context.Background()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(srv.URL+"/login", url.Values{"username": {"coach.angered"}, "password": {store.DevPassword}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	post := func(path string, body any, want int, out any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		// Each action under its own key, as the console and the load test send it.
		req.Header.Set(api.IdempotencyHeader, uuid.NewString())
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				b.Fatal(err)
			}
		}
		// Read to the end, as a browser does, so the connection is kept
		// for the next request (an unread body closes it).
		_, _ = io.Copy(io.Discard, resp.Body)
	}

	var bases []string
	for i := 0; i < pathways; i++ {
		var started cases.Started
		post("/api/v1/pathways", referral(personalNumber(), "Angered"), http.StatusCreated, &started)
		bases = append(bases, "/api/v1/pathways/"+started.CaseID)
	}
	floor, err := ts.Temporal.ExecuteWorkflow(ctx, temporalclient.StartWorkflowOptions{ID: "bench-floor-" + ts.TaskQueue, TaskQueue: ts.TaskQueue}, floorWorkflow)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ts.Temporal.TerminateWorkflow(ctx, floor.GetID(), "", "benchmark done") })
	raw := func() time.Duration {
		t0 := time.Now()
		h, err := ts.Temporal.UpdateWorkflow(ctx, temporalclient.UpdateWorkflowOptions{WorkflowID: floor.GetID(), UpdateName: floorUpdate,
			Args: []any{1}, WaitForStage: temporalclient.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	action := func(path string, body any) time.Duration {
		t0 := time.Now()
		post(path, body, http.StatusOK, nil)
		return time.Since(t0)
	}
	// Warm up: every workflow in the worker's cache, connections open.
	raw()
	for _, base := range bases {
		action(base+"/pause", map[string]any{"reason": "sick"})
		action(base+"/resume", map[string]any{})
	}

	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		var floors, actions []time.Duration
		for i := 0; i < pairsEach; i++ {
			for _, base := range bases {
				floors = append(floors, raw())
				actions = append(actions, action(base+"/pause", map[string]any{"reason": "sick"}))
				floors = append(floors, raw())
				actions = append(actions, action(base+"/resume", map[string]any{}))
			}
		}
		fp, ap := p99(floors), p99(actions)
		ratio := float64(ap) / float64(fp)
		b.ReportMetric(float64(fp.Microseconds())/1000, "floor-p99-ms")
		b.ReportMetric(float64(ap.Microseconds())/1000, "action-p99-ms")
		b.ReportMetric(ratio, "ratio")
		fmt.Printf("staff action p99 (API pause/resume, %d actions): %.1f ms; floor p99 (raw Update with validator, %d): %.1f ms; medians %.1f / %.1f ms\n",
			len(actions), ms(ap), len(floors), ms(fp), ms(percentile(actions, 50)), ms(percentile(floors, 50)))
		fmt.Printf("ratio staff_action_p99: %.2f (goal <= 1.5)\n", ratio)
	}
}

func p99(d []time.Duration) time.Duration { return percentile(d, 99) }

// percentile is the nearest-rank percentile.
func percentile(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
