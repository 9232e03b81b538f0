package starter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/store"
)

func init() { commands = append(commands, scheduleCmd, escalateCmd) }

// scheduleCmd manages the stall sweep's Temporal Schedule.
func scheduleCmd(setup Setup) *cobra.Command {
	root := &cobra.Command{Use: "schedule", Short: "List, pause, resume or trigger the daily stall sweep (" + escalation.ScheduleID + ")"}
	var asJSON bool
	var note string
	run := func(use, short string, do func(cmd *cobra.Command, e *env) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			return do(cmd, e)
		}}
	}
	list := run("list", "Show the sweep schedule, its next and recent runs, and the last sweeps", func(cmd *cobra.Command, e *env) error {
		st, err := escalation.DescribeSchedule(cmd.Context(), e.tc)
		if err != nil {
			return fmt.Errorf("schedule %s: %w (the worker creates it at start)", escalation.ScheduleID, err)
		}
		sweeps, err := store.RecentSweeps(cmd.Context(), e.pool, 10)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), map[string]any{"schedule": st, "sweeps": sweeps})
		}
		out := cmd.OutOrStdout()
		state := "active"
		if st.Paused {
			state = "paused"
		}
		fmt.Fprintf(out, "%s  %s  cron %q in %s  actions %d\n", st.ID, state, strings.Join(st.Cron, "; "), st.TimeZone, st.ActionCount)
		if st.Note != "" {
			fmt.Fprintf(out, "  note: %s\n", st.Note)
		}
		for _, t := range st.NextRuns {
			fmt.Fprintf(out, "  next   %s\n", t.Local().Format(time.RFC3339))
		}
		for _, r := range st.Running {
			fmt.Fprintf(out, "  running %s\n", r)
		}
		tw := table(out)
		fmt.Fprintln(tw, "\nSWEEP\tKIND\tSTARTED\tTOOK\tSTALLED\tESCALATED\tWAITING\tSKIPPED")
		for _, s := range sweeps {
			took := "running"
			if s.FinishedAt != nil {
				took = s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", s.ID, s.Kind, s.StartedAt.Local().Format("2006-01-02 15:04"), took, s.Stalled, s.Escalated, s.Waiting, s.Skipped)
		}
		return tw.Flush()
	})
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	pause := run("pause", "Pause the sweep", func(cmd *cobra.Command, e *env) error {
		if err := escalation.PauseSchedule(cmd.Context(), e.tc, note); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "paused", escalation.ScheduleID)
		return nil
	})
	pause.Flags().StringVar(&note, "note", "paused from the CLI", "why")
	resume := run("resume", "Resume the sweep", func(cmd *cobra.Command, e *env) error {
		if err := escalation.ResumeSchedule(cmd.Context(), e.tc, note); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "resumed", escalation.ScheduleID)
		return nil
	})
	resume.Flags().StringVar(&note, "note", "resumed from the CLI", "why")
	var centre, staffID, key string
	trigger := run("trigger", "Run the sweep now (with --centre: that centre only, as its team lead)", func(cmd *cobra.Command, e *env) error {
		if centre == "" {
			if err := escalation.TriggerSchedule(cmd.Context(), e.tc); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "triggered", escalation.ScheduleID, "(see `schedule list` for the result)")
			return nil
		}
		// The console's "run the sweep for my centre" calls the same service.
		rules, err := escalation.ParseRules(e.cfg.Escalate.Rules)
		if err != nil {
			return err
		}
		if key == "" {
			key = "cli:" + time.Now().UTC().Format("2006-01-02T15:04")
		}
		id, err := escalation.SweepCentre(cmd.Context(), e.pool, e.tc, e.cfg.Temporal.TaskQueue,
			escalation.CentreSweep{CentreID: centre, StaffID: staffID, Key: key, Rules: rules})
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "sweeping centre", centre, "as", id, "(see `schedule list` for the result)")
		return nil
	})
	trigger.Flags().StringVar(&centre, "centre", "", "sweep only this centre ID now (needs --staff-id of its team lead)")
	trigger.Flags().StringVar(&staffID, "staff-id", "", "your staff ID (with --centre)")
	trigger.Flags().StringVar(&key, "idempotency-key", "", "names this sweep: the same key again reports on the first run (default: this minute)")
	root.AddCommand(list, pause, resume, trigger)
	return root
}

// escalateCmd escalates by hand: one case, or a batch by filter. It starts
// the ManualEscalation workflow and follows its progress; the worker does
// the work, so an interrupted CLI leaves nothing half done, and running the
// same command again (same --idempotency-key, or the same request on the
// same day) reports on the first run.
func escalateCmd(setup Setup) *cobra.Command {
	var req escalation.ManualRequest
	var cases []string
	var asJSON, yes bool
	var key string
	c := &cobra.Command{
		Use:   "escalate",
		Short: "Escalate a case, or every active case matching a filter, one level up the ladder",
		Example: `  pathways escalate --case K-2026-0042 --reason "unreachable for two weeks" --staff-id s-17
  pathways escalate --centre hisingen --phase mapping --reason "mapping backlog" --staff-id s-17 --min-role team_lead --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req.Filter.CaseIDs = cases
			f := req.Filter
			if len(f.CaseIDs) == 0 && len(f.CentreIDs) == 0 && f.Phase == "" && f.Track == "" && f.Assignee == "" {
				return errors.New("name a case (--case) or a filter (--centre, --phase, --track, --assignee)")
			}
			if len(f.CaseIDs) == 0 && !yes {
				return errors.New("a batch by filter needs --yes")
			}
			if err := escalation.CheckManual(req); err != nil {
				return err
			}
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			if key == "" {
				key = escalation.ManualKey(req, time.Now())
			}
			id := escalation.ManualWorkflowID(req.StaffID, key)
			if err := escalation.StartManual(cmd.Context(), e.tc, e.cfg.Temporal.TaskQueue, id, req); err != nil {
				return err
			}
			res, err := followManual(cmd, e, id)
			if asJSON {
				if perr := printJSON(cmd.OutOrStdout(), res); perr != nil {
					return perr
				}
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %s, %d matched, %d escalated\n", res.SweepID, res.State, res.Matched, res.Escalated)
			if len(res.AtTop) > 0 {
				fmt.Fprintf(out, "  already at the top of the ladder: %s\n", strings.Join(res.AtTop, ", "))
			}
			if res.Skipped > 0 {
				fmt.Fprintf(out, "  %d case(s) no longer running\n", res.Skipped)
			}
			if res.NotifyFailed > 0 {
				fmt.Fprintf(out, "  %d notification(s) failed; the tasks are open in the console\n", res.NotifyFailed)
			}
			return err
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&cases, "case", nil, "case ID (repeat or comma-separate)")
	fl.StringSliceVar(&req.Filter.CentreIDs, "centre", nil, "centre ID(s)")
	fl.StringVar(&req.Filter.Phase, "phase", "", "phase")
	fl.StringVar(&req.Filter.Track, "track", "", "track: youth or adult")
	fl.StringVar(&req.Filter.Assignee, "assignee", "", "assigned staff ID")
	fl.IntVar(&req.Filter.Limit, "limit", 0, "at most this many cases (0: all)")
	fl.StringVar(&req.Reason, "reason", "", "why (no personal data: it goes into mail and tasks)")
	fl.StringVar(&req.MinRole, "min-role", "", "escalate to at least this role: job_coach, team_lead, unit_manager")
	fl.StringVar(&req.StaffID, "staff-id", "", "your staff ID")
	fl.StringVar(&key, "idempotency-key", "", "names this escalation: the same key again reports on the first run (default: the request and today's date)")
	fl.BoolVar(&yes, "yes", false, "confirm a batch by filter")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("reason")
	_ = c.MarkFlagRequired("staff-id")
	return c
}

// followManual shows the escalation's progress until it ends. Ctrl-C stops
// following, not the escalation.
func followManual(cmd *cobra.Command, e *env, id string) (escalation.ManualProgress, error) {
	var bar *progressbar.ProgressBar
	defer func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}()
	for {
		p, err := escalation.ManualStatus(cmd.Context(), e.tc, id)
		if err != nil {
			return p, err
		}
		if p.ToEscalate > 0 {
			if bar == nil {
				bar = progressbar.NewOptions(p.ToEscalate, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription("escalating"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set(p.Processed)
		}
		switch p.State {
		case "done":
			return p, nil
		case "finding", "escalating", "queued":
		default:
			return p, fmt.Errorf("escalation %s %s", id, p.State)
		}
		select {
		case <-cmd.Context().Done():
			return p, fmt.Errorf("stopped following %s; it goes on (pathways escalate again with the same arguments shows it)", id)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
