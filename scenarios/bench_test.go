package scenarios

import (
	"testing"
)

// BenchmarkLongestPathwayHistory prints the event count and history size of
// the longest scenario: 18 months, six steps, monthly check-ins, two pauses.
func BenchmarkLongestPathwayHistory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, wfID, runs := longestScenario(b)
		events, bytes := 0, 0
		for _, r := range runs {
			events += len(r.Events)
			bytes += historySize(r.Events)
		}
		b.ReportMetric(float64(events), "events")
		b.ReportMetric(float64(bytes), "history-bytes")
		b.ReportMetric(float64(len(runs)), "runs")
		b.Logf("%s: %d run(s), %d events, %d bytes of history", wfID, len(runs), events, bytes)
	}
}
