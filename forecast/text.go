package forecast

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/pathways-se/pathways/report"
)

// Report is a calibration's run and, when the calibration names one, its
// comparison run.
type Report struct {
	Main       *Result
	Comparison *Result
	Compare    *Comparison
}

// RunWithComparison runs the calibration and then its comparison, if any.
func RunWithComparison(ctx context.Context, cal *Calibration, opt Options) (*Report, error) {
	main, err := Run(ctx, cal, opt)
	if err != nil {
		return nil, err
	}
	rep := &Report{Main: main, Compare: cal.Comparison}
	if cal.Comparison == nil {
		return rep, nil
	}
	other, err := cal.WithLever(cal.Comparison.Lever, cal.Comparison.Value)
	if err != nil {
		return nil, err
	}
	if rep.Comparison, err = Run(ctx, other, opt); err != nil {
		return nil, err
	}
	return rep, nil
}

// WriteText prints what `pathways forecast` prints: the cohort's summary,
// the comparison run's, then the cohort's full report as the outcomes page
// builds it for real participants.
func (r *Report) WriteText(w io.Writer) error {
	if err := writeRun(w, r.Main); err != nil {
		return err
	}
	if r.Comparison != nil {
		fmt.Fprintf(w, "comparison: %s (%s=%s)\n", r.Compare.Title, r.Compare.Lever, strconv.FormatFloat(r.Compare.Value, 'f', -1, 64))
		if err := writeRun(w, r.Comparison); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nthe cohort's report (as on the outcomes page)")
	q := report.Query{Period: report.Range(r.Main.Start, r.Main.Horizon)}
	return report.Build(r.Main.ReportParticipants(), q).WriteText(w)
}

func writeRun(w io.Writer, res *Result) error {
	if err := res.Summary().WriteText(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "time %.1f s\n", res.Elapsed.Seconds())
	return err
}
