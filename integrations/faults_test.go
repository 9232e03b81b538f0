package integrations_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/simulators"
)

// retry is the shape of an activity retry policy: same key, retry what is
// not Rejected.
func retry(t *testing.T, attempts int, f func() error) (int, error) {
	t.Helper()
	var err error
	for i := 1; i <= attempts; i++ {
		if err = f(); err == nil || integrations.IsRejected(err) {
			return i, err
		}
		time.Sleep(time.Duration(i) * time.Millisecond)
	}
	return attempts, err
}

func TestRetryUnderFaultsCreatesNoDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	courses, err := e.clients.Education.SearchCourses(ctx, integrations.CourseQuery{Municipality: "1480"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetFaults(simulators.Faults{Global: &simulators.FaultSpec{
		LatencyMS: 2, JitterMS: 5,
		Errors:           map[string]float64{"503": 0.3},
		LostResponseRate: 0.15, // the effect happens, the answer is lost
	}}); err != nil {
		t.Fatal(err)
	}
	const cases = 15
	total := 0
	for i := range cases {
		caseID := fmt.Sprintf("F-%d", i)
		key := "wf-" + caseID + "/enrol"
		var enr integrations.Enrolment
		n, err := retry(t, 60, func() error {
			var err error
			enr, err = e.clients.Education.Enrol(ctx, key, integrations.EnrolRequest{
				CaseID: caseID, CourseCode: courses[i%len(courses)].Code, Person: person()})
			return err
		})
		if err != nil {
			t.Fatalf("%s: no success after %d attempts: %v", caseID, n, err)
		}
		total += n
		if enr.ID == "" {
			t.Fatalf("%s: empty enrolment", caseID)
		}
		// The input is fixed across attempts, as an activity's input is.
		notice := integrations.SocialNotice{CaseID: caseID, Person: person(), Event: "outcome", Outcome: "studies", At: time.Now()}
		if _, err := retry(t, 60, func() error {
			return e.clients.SocialServices.Notify(ctx, "wf-"+caseID+"/social", notice)
		}); err != nil {
			t.Fatal(err)
		}
	}
	st := e.sim.Stats()
	if st.DuplicateSideEffects != 0 {
		t.Fatalf("duplicate side effects: %d", st.DuplicateSideEffects)
	}
	if n := len(e.sim.Enrolments()); n != cases {
		t.Fatalf("%d enrolments, want %d", n, cases)
	}
	if n := len(e.sim.Notices()); n != cases {
		t.Fatalf("%d notices, want %d", n, cases)
	}
	edu := st.Systems["education"]
	if edu.Faults["error"] == 0 || total <= cases {
		t.Fatalf("faults were not injected: %+v, %d attempts", edu.Faults, total)
	}
	t.Logf("education: %d attempts for %d enrolments, faults %v, replays %d", total, cases, edu.Faults, edu.Replays)
}

func TestErrorClassification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	notice := integrations.SocialNotice{CaseID: "E-1", Person: person(), Event: "closure", At: time.Now()}
	set := func(fs *simulators.FaultSpec) {
		t.Helper()
		if err := e.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"social": fs}}); err != nil {
			t.Fatal(err)
		}
	}

	// A 422 from validation: Rejected, with the server's reason.
	err := e.clients.SocialServices.Notify(ctx, "k1", integrations.SocialNotice{CaseID: "E-1", Person: person(), Event: "bogus"})
	var rej *integrations.Rejected
	if !errors.As(err, &rej) || rej.Status != 422 || rej.System != "social" || rej.Reason == "" {
		t.Fatalf("422: %v", err)
	}
	for _, code := range []string{"400", "403", "404", "409"} {
		set(&simulators.FaultSpec{Errors: map[string]float64{code: 1}})
		if err := e.clients.SocialServices.Notify(ctx, "k-"+code, notice); !integrations.IsRejected(err) {
			t.Fatalf("%s: want Rejected, got %v", code, err)
		}
	}
	for _, code := range []string{"503", "500", "502", "408", "429"} {
		set(&simulators.FaultSpec{Errors: map[string]float64{code: 1}})
		err := e.clients.SocialServices.Notify(ctx, "k-"+code, notice)
		var un *integrations.Unavailable
		if err == nil || integrations.IsRejected(err) || !errors.As(err, &un) {
			t.Fatalf("%s: want retryable Unavailable, got %v", code, err)
		}
	}
	// Dropped connection and timeout: retryable.
	set(&simulators.FaultSpec{DropRate: 1})
	if err := e.clients.SocialServices.Notify(ctx, "k-drop", notice); err == nil || integrations.IsRejected(err) {
		t.Fatalf("drop: want retryable, got %v", err)
	}
	fast := integrations.NewSocialClient(e.srv.URL+"/social", 150*time.Millisecond)
	set(&simulators.FaultSpec{TimeoutRate: 1, HangMS: 5000})
	start := time.Now()
	if err := fast.Notify(ctx, "k-timeout", notice); err == nil || integrations.IsRejected(err) {
		t.Fatalf("timeout: want retryable, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("client timeout not honoured: %v", d)
	}
	set(nil)
	if err := e.clients.SocialServices.Notify(ctx, "k-ok", notice); err != nil {
		t.Fatal(err)
	}
	// Nothing was created by the injected failures.
	if n := len(e.sim.Notices()); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
}

func TestMissingKeyIsACallerBug(t *testing.T) {
	e := newEnv(t)
	err := e.clients.SocialServices.Notify(context.Background(), "", integrations.SocialNotice{CaseID: "X", Person: person(), Event: "closure"})
	if !integrations.IsRejected(err) || len(e.sim.Requests("social", "", "")) != 0 {
		t.Fatalf("empty key: %v", err)
	}
}

func TestScrub(t *testing.T) {
	in := "person 19900101-2380 (900101-2380, 199001012380) a.b@example.org refused"
	out := integrations.Scrub(in)
	for _, leak := range []string{"2380", "example.org"} {
		if contains(out, leak) {
			t.Fatalf("scrub left %q in %q", leak, out)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
