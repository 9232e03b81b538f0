package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/updates"
	"github.com/pathways-se/pathways/worker"
)

// The live half of the suite runs every step type's child workflow on the
// real dev server against the simulators over HTTP. With -record-histories
// it also writes each run's history to steps/testdata, which
// steps/replay_test.go replays with the current code.

func TestMain(m *testing.M) { testenv.Main(m) }

var recordHistories = flag.Bool("record-histories", false, "write steps/testdata/<type>-<scenario>-<codeVersion>.json from live runs (never overwrites)")

// codeVersion names the step code a recorded history comes from. Bump it
// after a versioned change (workflow.GetVersion) so that new recordings sit
// beside the old ones instead of replacing them.
const codeVersion = "v2" // v2: agreement.VersionEndAtEndDate

const liveSecondsPerDay = 0.5

type live struct {
	t     *testing.T
	tc    client.Client
	queue string
	sim   *simulators.Sim
	edu   integrations.Education
	emp   integrations.Employers
	// what the simulator offers: a course with seats, and a recruitment need
	course string
	need   integrations.RecruitmentNeed
}

func newLive(t *testing.T) *live {
	t.Helper()
	sim := simulators.New(1, zap.NewNop())
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	l := &live{t: t, tc: testenv.TemporalClient(t), queue: testenv.TaskQueue(t), sim: sim,
		edu: integrations.NewEducationClient(srv.URL+"/education", 10*time.Second),
		emp: integrations.NewEmployersClient(srv.URL+"/employers", 10*time.Second)}
	ctx := context.Background()
	courses, err := l.edu.SearchCourses(ctx, integrations.CourseQuery{})
	if err != nil || len(courses) == 0 {
		t.Fatalf("simulator courses: %v (%d)", err, len(courses))
	}
	// Programme definitions name a course by its code alone ("USK"): the
	// simulator takes its first occasion.
	l.course = strings.Split(courses[0].Code, "-")[1]
	needs, err := l.emp.RecruitmentNeeds(ctx, integrations.NeedQuery{})
	if err != nil || len(needs) == 0 {
		t.Fatalf("simulator needs: %v (%d)", err, len(needs))
	}
	l.need = needs[0]

	w := sdkworker.New(l.tc, l.queue, sdkworker.Options{})
	worker.RegisterSteps(w, catalog.Registry(), steps.Deps{Education: l.edu, Employers: l.emp, People: people{}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return l
}

// people resolves every case to the test person.
type people struct{}

func (people) Person(context.Context, string) (integrations.Person, error) { return TestPerson, nil }

// Case IDs are unique per process too: the dev server may outlive a test
// run, and a step workflow still open from an earlier run must not be
// mistaken for this one's.
var (
	liveSeq    atomic.Int64
	livePrefix = fmt.Sprintf("2026-L%04X", rand.IntN(1<<16))
)

// input is a step of typ with the simulator's course, employer and need in
// place of the documented example's.
func (l *live) input(typ steps.Type, c steps.Conformable) steps.Input {
	p := map[string]string{}
	for k, v := range c.Example() {
		switch k {
		case "course_code", "workshop_code":
			v = l.course
		case "employer":
			v = l.need.EmployerID
		}
		p[k] = v
	}
	return steps.Input{
		CaseID: fmt.Sprintf("%s%04d", livePrefix, liveSeq.Add(1)), StepID: "r1-s1", Type: typ.Name(), Params: p,
		DurationDays: durationDays, MunicipalityCode: l.need.Municipality, NeedID: l.need.ID, TargetSSYK: l.need.SSYK,
		SecondsPerDay: liveSecondsPerDay,
	}
}

func (l *live) start(typ steps.Type, in steps.Input) client.WorkflowRun {
	l.t.Helper()
	run, err := l.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: pathway.StepWorkflowID(in.CaseID, in.StepID), TaskQueue: l.queue,
	}, steps.WorkflowName(typ.Name()), in)
	if err != nil {
		l.t.Fatal(err)
	}
	return run
}

// wait returns the step's end, failing the test if it takes over a minute.
func (l *live) wait(run client.WorkflowRun) (steps.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res steps.Result
	err := run.Get(ctx, &res)
	if errors.Is(err, context.DeadlineExceeded) {
		l.t.Fatalf("%s did not end within a minute", run.GetID())
	}
	return res, err
}

// created lists what the simulator holds for a case, and how many are active.
func (l *live) created(caseID string) (ids []string, active []string) {
	for _, e := range l.sim.Enrolments() {
		if e.CaseID == caseID {
			ids = append(ids, e.ID)
			if e.Status == integrations.EnrolmentActive {
				active = append(active, e.ID)
			}
		}
	}
	for _, a := range l.sim.Agreements() {
		if a.CaseID == caseID {
			ids = append(ids, a.ID)
			if a.Status == "active" {
				active = append(active, a.ID)
			}
		}
	}
	return ids, active
}

// waitCreated waits until the simulator holds something for the case.
func (l *live) waitCreated(caseID string) {
	l.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ids, _ := l.created(caseID); len(ids) > 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: nothing created at the simulator within 30 s", caseID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// liveDriver drives a step on the dev server as the pathway and the API would.
type liveDriver struct {
	l      *live
	wfID   string
	caseID string
}

func (d liveDriver) Update(name string, arg any) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := updates.Send(ctx, d.l.tc, client.UpdateWorkflowOptions{WorkflowID: d.wfID, UpdateName: name,
		UpdateID: d.wfID + ":" + name + ":" + uuid.NewString(), Args: []any{arg}}, nil)
	if err != nil {
		d.l.t.Errorf("update %s: %v", name, err)
	}
}

func (d liveDriver) Signal(name string, arg any) {
	if err := d.l.tc.SignalWorkflow(context.Background(), d.wfID, "", name, arg); err != nil {
		d.l.t.Errorf("signal %s: %v", name, err)
	}
}

func (d liveDriver) LastCreated() string {
	ids, _ := d.l.created(d.caseID)
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

// record writes the run's history to steps/testdata under its scenario
// name, unless a file of that name exists: a committed history is never
// rewritten.
func (l *live) record(typ steps.Type, scenario string, run client.WorkflowRun) {
	l.t.Helper()
	if !*recordHistories {
		return
	}
	it := l.tc.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			l.t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	// Committed decoded: the payloads are encrypted under this run's keys.
	if err := codec.New(testenv.Keyring(l.t)).DecodeInPlace(context.Background(), &h); err != nil {
		l.t.Fatal(err)
	}
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&h)
	if err != nil {
		l.t.Fatal(err)
	}
	// Payloads are base64 in the JSON: look inside them.
	texts := []string{string(data)}
	for _, e := range h.Events {
		var walk func(m protoreflect.Message)
		walk = func(m protoreflect.Message) {
			m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				switch {
				case fd.IsMap():
					v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
						switch fd.MapValue().Kind() {
						case protoreflect.MessageKind:
							walk(mv.Message())
						case protoreflect.BytesKind:
							texts = append(texts, string(mv.Bytes()))
						}
						return true
					})
				case fd.Kind() == protoreflect.BytesKind && !fd.IsList():
					texts = append(texts, string(v.Bytes()))
				case fd.Kind() == protoreflect.MessageKind && fd.IsList():
					for i := 0; i < v.List().Len(); i++ {
						walk(v.List().Get(i).Message())
					}
				case fd.Kind() == protoreflect.MessageKind:
					walk(v.Message())
				}
				return true
			})
		}
		walk(e.ProtoReflect())
	}
	for _, text := range texts {
		for _, s := range []string{TestPerson.PersonalNumber, strings.ReplaceAll(TestPerson.PersonalNumber, "-", ""), TestPerson.GivenName, TestPerson.FamilyName} {
			if strings.Contains(text, s) {
				l.t.Fatalf("personal data %q in the history of %s", s, run.GetID())
			}
		}
	}
	path := filepath.Join("..", "testdata", fmt.Sprintf("%s-%s-%s.json", typ.Name(), scenario, codeVersion))
	if _, err := os.Stat(path); err == nil {
		l.t.Logf("%s exists; not rewritten", path)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		l.t.Fatal(err)
	}
	l.t.Logf("recorded %s (%d events)", path, len(h.Events))
}

// TestLiveCompletion: on the dev server against the simulators, each step
// type, driven as it documents, completes and leaves nothing active outside.
func TestLiveCompletion(t *testing.T) {
	l := newLive(t)
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		t.Parallel()
		l := *l
		l.t = t
		in := l.input(typ, c)
		run := l.start(typ, in)
		if hasSideEffects(typ) {
			l.waitCreated(in.CaseID)
		} else {
			time.Sleep(steps.Days(driveDay, liveSecondsPerDay))
		}
		c.Drive(liveDriver{l: &l, wfID: run.GetID(), caseID: in.CaseID})
		res, err := l.wait(run)
		if err != nil {
			t.Fatalf("the step ended with an error: %v", err)
		}
		if res.Outcome != pathway.StepCompleted {
			t.Fatalf("outcome %q (%s), want completed", res.Outcome, res.Reason)
		}
		// A completed placement's agreement is ended at the employer too.
		for _, a := range l.sim.Agreements() {
			if a.CaseID == in.CaseID && a.Status == "active" {
				t.Errorf("agreement %s still active at the employer after the step completed", a.ID)
			}
		}
		l.record(typ, "completed", run)
	})
}

// TestLiveCancelWindsDown: cancelled once it has made something outside,
// the step ends cancelled and nothing is left active at the simulator.
func TestLiveCancelWindsDown(t *testing.T) {
	l := newLive(t)
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		t.Parallel()
		l := *l
		l.t = t
		in := l.input(typ, c)
		run := l.start(typ, in)
		if hasSideEffects(typ) {
			l.waitCreated(in.CaseID)
		} else {
			time.Sleep(steps.Days(driveDay, liveSecondsPerDay))
		}
		if err := l.tc.CancelWorkflow(context.Background(), run.GetID(), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := l.wait(run); err == nil || !isCanceled(err) {
			t.Fatalf("error %v, want cancelled", err)
		}
		if _, active := l.created(in.CaseID); len(active) > 0 {
			t.Errorf("still active at the simulator after the cancel: %v", active)
		}
		l.record(typ, "cancelled", run)
	})
}

func isCanceled(err error) bool { return temporal.IsCanceledError(err) }

// createLatency slows every side effect at the simulator, so that a cancel
// lands while the step's first create call (an enrolment, a place, an
// agreement) is in flight.
const createLatency = 2 * time.Second

// TestCancelDuringCreateLeavesNothingOpen: cancelled while its create call
// is in flight, a step still ends cancelled, and afterwards the simulator
// holds nothing active for the case: what the call made is withdrawn or
// ended (even though the workflow saw the cancel before the call's result).
func TestCancelDuringCreateLeavesNothingOpen(t *testing.T) {
	l := newLive(t)
	slow := &simulators.FaultSpec{LatencyMS: int(createLatency / time.Millisecond), SideEffectsOnly: true}
	if err := l.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"education": slow, "employers": slow}}); err != nil {
		t.Fatal(err)
	}
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if !hasSideEffects(typ) {
			t.Skip("no outside calls")
		}
		t.Parallel()
		l := *l
		l.t = t
		in := l.input(typ, c)
		run := l.start(typ, in)
		l.waitInFlight(run.GetID())
		if ids, _ := l.created(in.CaseID); len(ids) > 0 {
			t.Fatalf("%v created before the cancel: the test cancels too late", ids)
		}
		if err := l.tc.CancelWorkflow(context.Background(), run.GetID(), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := l.wait(run); err == nil || !isCanceled(err) {
			t.Fatalf("error %v, want cancelled", err)
		}
		l.record(typ, "cancelled-during-create", run)
		// The call that was in flight lands at the simulator after the
		// cancel; give it time to, then look.
		time.Sleep(createLatency + time.Second)
		ids, active := l.created(in.CaseID)
		if len(ids) == 0 {
			t.Fatal("the in-flight call created nothing: the test cancels too early")
		}
		if len(active) > 0 {
			t.Errorf("left active at the simulator after a cancel during the create call: %v (of %v)", active, ids)
		}
	})
}

// waitInFlight waits until an activity of the workflow has been running for
// a while: under createLatency that is a side-effecting call in flight.
func (l *live) waitInFlight(wfID string) {
	l.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		d, err := l.tc.DescribeWorkflowExecution(context.Background(), wfID, "")
		if err != nil {
			l.t.Fatal(err)
		}
		for _, a := range d.GetPendingActivities() {
			if a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED && time.Since(a.GetLastStartedTime().AsTime()) > 300*time.Millisecond {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("%s: no call in flight within 30 s", wfID)
}
