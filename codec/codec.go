// Package codec encrypts every Temporal payload (workflow and activity
// inputs and results, Update and Signal arguments, memos, failure messages)
// with AES-256-GCM under the keyring's current key, so personal data never
// rests in Temporal's history store or shows in its Web UI in plain text.
//
// Each encrypted payload names its key (encryption-key-id), so keys rotate:
// new payloads use the current key and old ones still open. It also names
// the workflow it belongs to (pathways-workflow-id), bound into the
// ciphertext as associated data, so the codec server can tell whose case a
// payload is without trusting the caller and a payload moved to another
// workflow's label no longer opens. Payloads without the encrypted encoding
// (histories recorded before encryption) pass through unchanged.
package codec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/pathways-se/pathways/keyring"
)

// Payload metadata keys and the encoding of an encrypted payload (the names
// Temporal's encryption sample uses, so tools that know it recognise ours).
const (
	MetadataEncodingEncrypted = "binary/encrypted"
	MetadataKeyID             = "encryption-key-id"
	MetadataWorkflowID        = "pathways-workflow-id"
)

// Codec is a converter.PayloadCodec. The zero workflow ID is for payloads
// encoded outside any workflow's serialization context.
type Codec struct {
	ring       *keyring.Ring
	workflowID string
}

var (
	_ converter.PayloadCodec                         = (*Codec)(nil)
	_ converter.PayloadCodecWithSerializationContext = (*Codec)(nil)
)

// New returns a codec over the ring.
func New(r *keyring.Ring) *Codec { return &Codec{ring: r} }

// WithSerializationContext labels the payloads it encodes with the workflow
// they belong to (for an activity, its workflow; for a child, the child).
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	id := ""
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		id = v.WorkflowID
	case converter.ActivitySerializationContext:
		id = v.WorkflowID
	}
	if id == c.workflowID {
		return c
	}
	return &Codec{ring: c.ring, workflowID: id}
}

func aad(workflowID string) []byte { return []byte("pathways-payload\x00" + workflowID) }

// Encode encrypts each payload, whole (metadata and data), under the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if IsEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, err
		}
		keyID, data, err := c.ring.Encrypt(plain, aad(c.workflowID))
		if err != nil {
			return payloads, err
		}
		md := map[string][]byte{
			converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
			MetadataKeyID:              []byte(keyID),
		}
		if c.workflowID != "" {
			md[MetadataWorkflowID] = []byte(c.workflowID)
		}
		out[i] = &commonpb.Payload{Metadata: md, Data: data}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key it names and passes
// any other payload through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !IsEncrypted(p) {
			out[i] = p
			continue
		}
		keyID := string(p.GetMetadata()[MetadataKeyID])
		plain, err := c.ring.Decrypt(keyID, p.GetData(), aad(WorkflowID(p)))
		if err != nil {
			return payloads, fmt.Errorf("decode payload: %w", err)
		}
		dp := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, dp); err != nil {
			return payloads, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = dp
	}
	return out, nil
}

// IsEncrypted reports whether a payload carries this codec's encoding.
func IsEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == MetadataEncodingEncrypted
}

// WorkflowID is the workflow an encrypted payload is labelled with ("" when
// it was encoded outside a workflow's context). The label is authenticated:
// Decode fails if it was changed.
func WorkflowID(p *commonpb.Payload) string { return string(p.GetMetadata()[MetadataWorkflowID]) }

// DataConverter is Temporal's default JSON/proto conversion with every
// payload encrypted.
func DataConverter(r *keyring.Ring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(r))
}

// FailureConverter puts failure messages and stack traces into an encoded
// (so encrypted) attribute: an error that quotes a person's details never
// reaches Temporal in plain text.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return &failureConverter{DefaultFailureConverter: temporal.NewDefaultFailureConverter(
		temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true}), dc: dc}
}

// failureConverter passes the serialization context on to its data
// converter, so encrypted failure attributes carry their workflow too (the
// SDK's default failure converter does not).
type failureConverter struct {
	*temporal.DefaultFailureConverter
	dc converter.DataConverter
}

func (f *failureConverter) WithSerializationContext(sc converter.SerializationContext) converter.FailureConverter {
	return FailureConverter(converter.WithDataConverterSerializationContext(f.dc, sc))
}

// Apply sets the data and failure converters of client options: every
// client that talks to Temporal goes through here. It also turns off the
// SDK's default gzip of gRPC messages: the payloads, most of every message,
// are encrypted and do not compress, so gzip only cost CPU on both ends (8%
// of an importing process's, and the server's to unpack each request and
// pack each answer).
func Apply(opts *client.Options, r *keyring.Ring) {
	opts.DataConverter = DataConverter(r)
	opts.FailureConverter = FailureConverter(opts.DataConverter)
	opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
}

// DecodeInPlace decodes every encrypted payload inside msg (a history, an
// event), failure attributes included. Histories committed as replay
// fixtures are stored decoded: later test runs have other keys.
func (c *Codec) DecodeInPlace(ctx context.Context, msg proto.Message) error {
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Decode(ps)
		}})
}
