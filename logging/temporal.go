package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// Temporal adapts zap to the Temporal SDK's logger, so the SDK, workflows and
// activities log through the same sink as the rest of the process.
type Temporal struct{ z *zap.Logger }

var (
	_ log.Logger     = (*Temporal)(nil)
	_ log.WithLogger = (*Temporal)(nil)
)

// NewTemporal wraps z; caller skip hides the adapter frame.
func NewTemporal(z *zap.Logger) *Temporal {
	return &Temporal{z: z.WithOptions(zap.AddCallerSkip(1)).Named("temporal")}
}

func (t *Temporal) Debug(msg string, kv ...any) { t.z.Debug(msg, fields(kv)...) }
func (t *Temporal) Info(msg string, kv ...any)  { t.z.Info(msg, fields(kv)...) }
func (t *Temporal) Warn(msg string, kv ...any)  { t.z.Warn(msg, fields(kv)...) }
func (t *Temporal) Error(msg string, kv ...any) { t.z.Error(msg, fields(kv)...) }

// With returns a logger carrying kv on every line.
func (t *Temporal) With(kv ...any) log.Logger { return &Temporal{z: t.z.With(fields(kv)...)} }

func fields(kv []any) []zap.Field {
	out := make([]zap.Field, 0, len(kv)/2+1)
	for i := 0; i < len(kv); i += 2 {
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		if i+1 >= len(kv) {
			out = append(out, zap.Any(key, nil))
			break
		}
		if err, ok := kv[i+1].(error); ok {
			out = append(out, zap.NamedError(key, err))
			continue
		}
		out = append(out, zap.Any(key, kv[i+1]))
	}
	return out
}
