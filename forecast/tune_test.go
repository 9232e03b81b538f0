package forecast

import (
	"context"
	"os"
	"strconv"
	"testing"
)

func TestTune(t *testing.T) {
	name := os.Getenv("FC_CAL")
	if name == "" {
		t.Skip()
	}
	cal, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv("FC_N"))
	if v := os.Getenv("FC_NEED"); v != "" {
		f, _ := strconv.ParseFloat(v, 64)
		cal, _ = cal.WithLever(LeverNeedShare, f)
	}
	r, err := Run(context.Background(), cal, Options{Seed: 1, Participants: n})
	if err != nil {
		t.Fatal(err)
	}
	r.Summary().WriteText(os.Stdout)
	t.Logf("elapsed %v", r.Elapsed)
	reasons := map[string]int{}
	for _, p := range r.Participants {
		k := p.Status.Phase + "/" + p.Status.ClosureReason
		if p.Status.Outcome != nil {
			k += "/" + p.Status.Outcome.Kind + "/" + p.Status.Outcome.EmployerKind
		}
		reasons[k]++
	}
	t.Logf("%v", reasons)
}
