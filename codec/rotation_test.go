package codec_test

import (
	"context"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/keyring"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// echo waits for a "finish" signal and returns its input and the signal's
// value; the query "input" answers the input.
func echo(ctx workflow.Context, in string) (string, error) {
	if err := workflow.SetQueryHandler(ctx, "input", func() (string, error) { return in, nil }); err != nil {
		return "", err
	}
	var tail string
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, &tail)
	return in + "+" + tail, nil
}

func encryptedClient(t *testing.T, r *keyring.Ring) client.Client {
	var opts client.Options
	codec.Apply(&opts, r)
	return testenv.DialTemporal(t, opts)
}

func startWorker(t *testing.T, c client.Client, queue string) sdkworker.Worker {
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflow(echo)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w
}

// A workflow started under key 1 is queried and finished after key 2 became
// current: the old payloads still decode (the new worker replays them), and
// what is written afterwards is under key 2, on the real dev server.
func TestKeyRotation(t *testing.T) {
	r1, r2 := rings(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	queue := testenv.TaskQueue(t)

	c1 := encryptedClient(t, r1)
	w1 := startWorker(t, c1, queue)
	run, err := c1.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, echo, "written-under-k1")
	if err != nil {
		t.Fatal(err)
	}
	// The first workflow task runs under key 1 (the query needs it done).
	if _, err := c1.QueryWorkflow(ctx, run.GetID(), "", "input"); err != nil {
		t.Fatal(err)
	}
	w1.Stop()

	// Rotation: every process restarts with key 2 current and key 1 kept.
	c2 := encryptedClient(t, r2)
	w2 := startWorker(t, c2, queue)
	defer w2.Stop()
	v, err := c2.QueryWorkflow(ctx, run.GetID(), "", "input")
	if err != nil {
		t.Fatalf("query after rotation (the new worker replays key-1 payloads): %v", err)
	}
	var in string
	if err := v.Get(&in); err != nil || in != "written-under-k1" {
		t.Fatalf("query after rotation: %q %v", in, err)
	}
	if err := c2.SignalWorkflow(ctx, run.GetID(), "", "finish", "written-under-k2"); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := c2.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &out); err != nil || out != "written-under-k1+written-under-k2" {
		t.Fatalf("result after rotation: %q %v", out, err)
	}

	// The history as stored: the input under k1, the signal and result under k2.
	raw := testenv.DialTemporal(t, client.Options{})
	keys := map[enumspb.EventType]string{}
	it := raw.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		var ps *commonpb.Payloads
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			ps = e.GetWorkflowExecutionStartedEventAttributes().GetInput()
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			ps = e.GetWorkflowExecutionSignaledEventAttributes().GetInput()
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			ps = e.GetWorkflowExecutionCompletedEventAttributes().GetResult()
		default:
			continue
		}
		p := ps.GetPayloads()[0]
		if !codec.IsEncrypted(p) || codec.WorkflowID(p) != run.GetID() {
			t.Fatalf("%s: payload not encrypted for its workflow: %v", e.GetEventType(), p.GetMetadata())
		}
		keys[e.GetEventType()] = string(p.GetMetadata()[codec.MetadataKeyID])
	}
	want := map[enumspb.EventType]string{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:   "k1",
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:  "k2",
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "k2",
	}
	for ev, k := range want {
		if keys[ev] != k {
			t.Errorf("%s under %q, want %q (all: %v)", ev, keys[ev], k, keys)
		}
	}
	// A process that still has only key 1 cannot read what key 2 wrote.
	if err := c1.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &out); err == nil {
		t.Error("a client without key 2 decoded the key-2 result")
	}
}
