package codec_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/keyring"
)

func rings(t *testing.T) (k1, k2 *keyring.Ring) {
	t.Helper()
	f1 := keyring.Generate("k1")
	f2, err := f1.Rotate("k2")
	if err != nil {
		t.Fatal(err)
	}
	r1, err := f1.Ring()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := f2.Ring()
	if err != nil {
		t.Fatal(err)
	}
	return r1, r2
}

const secret = "19850412-1234 Alva Berg"

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r1, _ := rings(t)
	dc := codec.DataConverter(r1)
	p, err := dc.ToPayload(map[string]string{"who": secret})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("Alva")) || !codec.IsEncrypted(p) {
		t.Fatalf("payload not encrypted: %v", p)
	}
	if got := string(p.Metadata[codec.MetadataKeyID]); got != "k1" {
		t.Fatalf("key ID %q, want k1", got)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["who"] != secret {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

// Histories recorded before encryption have plain payloads: they still decode.
func TestPlainPayloadsPassThrough(t *testing.T) {
	r1, _ := rings(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload("recorded before encryption")
	if err != nil {
		t.Fatal(err)
	}
	out, err := codec.New(r1).Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("plain payload changed: %v %v", out, err)
	}
	var s string
	if err := codec.DataConverter(r1).FromPayload(plain, &s); err != nil || s != "recorded before encryption" {
		t.Fatalf("plain payload through the data converter: %q %v", s, err)
	}
}

func TestRotationUnit(t *testing.T) {
	r1, r2 := rings(t)
	old, err := codec.DataConverter(r1).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := codec.DataConverter(r2).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(fresh.Metadata[codec.MetadataKeyID]); got != "k2" {
		t.Fatalf("new payload under %q, want k2", got)
	}
	var s string
	if err := codec.DataConverter(r2).FromPayload(old, &s); err != nil || s != secret {
		t.Fatalf("old payload after rotation: %q %v", s, err)
	}
	if err := codec.DataConverter(r1).FromPayload(fresh, &s); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("a ring without k2 opened a k2 payload: %v", err)
	}
}

// The workflow label is bound to the ciphertext: relabelling a payload to
// another case's workflow makes it undecodable, so the codec server may
// trust the label when it decides who may read a payload.
func TestWorkflowLabelIsAuthenticated(t *testing.T) {
	r1, _ := rings(t)
	c := codec.New(r1).WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "pathway-2026-AAAA"})
	plain, _ := converter.GetDefaultDataConverter().ToPayload(secret)
	enc, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if got := codec.WorkflowID(enc[0]); got != "pathway-2026-AAAA" {
		t.Fatalf("label %q", got)
	}
	if _, err := codec.New(r1).Decode(enc); err != nil {
		t.Fatalf("decode without context: %v", err)
	}
	enc[0].Metadata[codec.MetadataWorkflowID] = []byte("pathway-2026-BBBB")
	if _, err := codec.New(r1).Decode(enc); err == nil {
		t.Fatal("a relabelled payload decoded")
	}
}

// Failure messages are encrypted too: they often quote what went wrong.
func TestFailureMessagesEncrypted(t *testing.T) {
	r1, _ := rings(t)
	fc := codec.FailureConverter(codec.DataConverter(r1))
	f := fc.ErrorToFailure(temporal.NewApplicationError("no person "+secret, "test"))
	if strings.Contains(f.String(), "Alva") {
		t.Fatalf("failure carries plain text: %v", f)
	}
	back := fc.FailureToError(f)
	if !strings.Contains(back.Error(), "Alva") {
		t.Fatalf("failure did not decode: %v", back)
	}
	// In a workflow's context the encrypted attributes carry its label, so
	// the codec server can show a failure to the case's staff.
	wf := fc.(converter.FailureConverterWithSerializationContext).WithSerializationContext(
		converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "pathway-2026-AAAA"})
	if got := codec.WorkflowID(wf.ErrorToFailure(errors.New("x")).GetEncodedAttributes()); got != "pathway-2026-AAAA" {
		t.Fatalf("failure in a workflow's context labelled %q", got)
	}
}

// A recorded history is written decoded, failures included, so it replays
// in later runs whose keys differ.
func TestDecodeInPlace(t *testing.T) {
	r1, _ := rings(t)
	dc := codec.DataConverter(r1)
	in, _ := dc.ToPayloads(secret)
	f := codec.FailureConverter(dc).ErrorToFailure(temporal.NewApplicationError("no person "+secret, "test"))
	h := &historypb.History{Events: []*historypb.HistoryEvent{
		{Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: in}}},
		{Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{Failure: f}}},
	}}
	before, _ := proto.Marshal(h)
	if bytes.Contains(before, []byte("Alva")) {
		t.Fatal("the history was plain before decoding")
	}
	if err := codec.New(r1).DecodeInPlace(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	after, _ := proto.Marshal(h)
	if n := bytes.Count(after, []byte("Alva")); n != 2 {
		t.Fatalf("decoded history holds the secret %d times, want 2 (input and failure)", n)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayloads(h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &s); err != nil || s != secret {
		t.Fatalf("decoded input %q %v", s, err)
	}
}
