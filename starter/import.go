package starter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/starter/csvrows"
	"github.com/pathways-se/pathways/store"
)

func init() { commands = append(commands, importCmd, tasksCmd, showCmd) }

// ImportColumns are the CSV columns, in any order; the first four and
// district, source and consent are required.
var ImportColumns = []string{"personal_number", "given_name", "family_name", "email", "phone", "district", "centre_id",
	"programme", "source", "referred_at", "consent", "protected_identity", "assignee"}

var requiredColumns = []string{"personal_number", "given_name", "family_name", "district", "source", "consent"}

// SwedishColumns are the Swedish column names the import accepts as well.
var SwedishColumns = map[string]string{
	"personnummer": "personal_number", "förnamn": "given_name", "efternamn": "family_name", "e-post": "email", "epost": "email",
	"telefon": "phone", "stadsdel": "district", "jobbcentrum": "centre_id", "program": "programme", "anvisad av": "source",
	"anvisad_av": "source", "anvisningsdatum": "referred_at", "samtycke": "consent", "skyddad identitet": "protected_identity",
	"skyddad_identitet": "protected_identity", "handläggare": "assignee",
}

// swedishSources are the Swedish names of the referral sources.
var swedishSources = map[string]string{"socialtjänsten": "social_services", "arbetsförmedlingen": "employment_service"}

func init() {
	for sv, col := range SwedishColumns {
		csvrows.Aliases[sv] = col
	}
}

// RowError is one bad row. It never carries the personal number.
type RowError = csvrows.RowError

// ImportSummary is what an import did.
type ImportSummary struct {
	Rows           int        `json:"rows"`
	Valid          int        `json:"valid"`
	Bad            []RowError `json:"bad"`
	Started        int        `json:"started"`
	AlreadyStarted int        `json:"already_started"`
	Failed         []RowError `json:"failed"`
	// PassedOn: rows whose person has an active pathway the importer may
	// not see; passed on to its centre without saying where (Duplicate).
	PassedOn int `json:"passed_on,omitempty"`
	// Plan is each valid row's outcome: what a dry run found it would do,
	// or what the import did.
	Plan          []PlannedRow  `json:"plan,omitempty"`
	Imported      bool          `json:"imported"`
	Took          time.Duration `json:"took_ns"`
	RatePerSecond float64       `json:"rate_per_second"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	GoodRows    bool      // import the valid rows even when some are bad
	Concurrency int       // workflow starts in flight (default DefaultConcurrency)
	StaffID     string    // who the audit log names
	Progress    io.Writer // progress bar; nil for none
	Encoding    string    // the file's character set: "" (UTF-8), windows-1252 or iso-8859-1

	// DryRun validates every row and says what each valid one would do,
	// starting nothing.
	DryRun bool
	// Check, when set, applies the caller's access rules to a valid row
	// (the console's: own centre, assignee); it may fill in the referral
	// (a protected identity's assignee) and returns the field and reason
	// of a refusal, "" when the row may start.
	Check func(ctx context.Context, ref *cases.Referral) (field, reason string)
	// Duplicate, when set, decides about a row whose person already has an
	// active pathway (caseID): OutcomeAlready, or OutcomePassedOn when the
	// importer may not see it (then, unless dryRun, it passes it on);
	// anything else is the reason it could not be passed on.
	Duplicate func(ctx context.Context, ref cases.Referral, caseID string, dryRun bool) string
	// OnRow is called after each row is started (or not), with the count
	// done and the total, for a progress display.
	OnRow func(done, total int)
}

// PlannedRow is a dry run's verdict on one valid row: it never carries the
// row's values.
type PlannedRow struct {
	Line    int    `json:"line"`
	Outcome string `json:"outcome"` // OutcomeStart, OutcomeAlready or OutcomePassedOn
}

// What becomes of a valid row.
const (
	OutcomeStart    = "start" // a dry run's: would start
	OutcomeStarted  = "started"
	OutcomeFailed   = "failed"
	OutcomeAlready  = "already"
	OutcomePassedOn = "passed_on"
)

type importRow struct {
	line int
	ref  cases.Referral
	pnr  string // canonical
}

// ErrInvalidFile means the file has bad rows and nothing was imported.
var ErrInvalidFile = errors.New("the file has bad rows; nothing was imported (fix them, or pass --good-rows to import the valid rows)")

// Import validates every row, then starts a pathway for each valid row whose
// person has no active pathway. It is idempotent: a second run reports the
// people as already started.
func Import(ctx context.Context, svc *cases.Service, in io.Reader, opt ImportOptions) (ImportSummary, error) {
	t0 := time.Now()
	var sum ImportSummary
	rows, bad, err := parseCSV(in, opt.Encoding)
	if err != nil {
		return sum, err
	}
	sum.Bad = bad
	sum.Rows = len(rows) + countLines(bad)
	// Validation reads the centre registry for each row (and the caller's
	// rules may read more), so rows are checked in parallel; duplicates
	// within the file are then found in line order.
	checked := make([][]RowError, len(rows))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(registryWriters, len(rows)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(rows); i = int(next.Add(1)) - 1 {
				r := &rows[i]
				num, errs := svc.Validate(ctx, &r.ref)
				for _, fe := range errs {
					checked[i] = append(checked[i], RowError{Line: r.line, Field: fe.Field, Reason: fe.Message})
				}
				if len(errs) > 0 {
					continue
				}
				r.pnr = num.Canonical
				if opt.Check != nil {
					if field, reason := opt.Check(ctx, &r.ref); reason != "" {
						checked[i] = append(checked[i], RowError{Line: r.line, Field: field, Reason: reason})
					}
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	var good []importRow
	for i, r := range rows {
		if len(checked[i]) > 0 {
			sum.Bad = append(sum.Bad, checked[i]...)
			continue
		}
		if first, dup := seen[r.pnr]; dup {
			sum.Bad = append(sum.Bad, RowError{Line: r.line, Field: "personal_number", Reason: fmt.Sprintf("the same person as on line %d", first)})
			continue
		}
		seen[r.pnr] = r.line
		good = append(good, r)
	}
	sortRowErrors(sum.Bad)
	sum.Valid = len(good)
	if len(sum.Bad) > 0 && !opt.GoodRows && !opt.DryRun {
		sum.Took = time.Since(t0)
		return sum, ErrInvalidFile
	}
	// Who already has an active pathway: one query for the whole file.
	pnrs := make([]string, len(good))
	for i, r := range good {
		pnrs[i] = r.pnr
	}
	active, err := store.ActivePathways(ctx, svc.Pool, svc.Keys, pnrs)
	if err != nil {
		sum.Took = time.Since(t0)
		return sum, fmt.Errorf("look up active pathways: %w", err)
	}
	if opt.DryRun {
		for _, r := range good {
			out := OutcomeStart
			if caseID, ok := active[r.pnr]; ok {
				out = OutcomeAlready
				if opt.Duplicate != nil {
					out = opt.Duplicate(ctx, r.ref, caseID, true)
				}
			}
			sum.Plan = append(sum.Plan, PlannedRow{Line: r.line, Outcome: out})
		}
		sum.Took = time.Since(t0)
		return sum, nil
	}
	sum.Imported = true
	run := &importRun{svc: svc, opt: opt, sum: &sum, total: len(good), staff: opt.StaffID}
	if run.staff == "" {
		run.staff = "cli"
	}
	if opt.Progress != nil && len(good) > 0 {
		run.bar = progressbar.NewOptions(len(good), progressbar.OptionSetWriter(opt.Progress), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(opt.Progress) }))
	}
	run.start(ctx, good, active)
	sortRowErrors(sum.Failed)
	sort.Slice(sum.Plan, func(i, j int) bool { return sum.Plan[i].Line < sum.Plan[j].Line })
	sum.Took = time.Since(t0)
	if s := sum.Took.Seconds(); s > 0 {
		sum.RatePerSecond = float64(sum.Started+sum.AlreadyStarted+sum.PassedOn) / s
	}
	return sum, ctx.Err()
}

func scrub(msg, pnr string) string {
	if pnr != "" {
		msg = strings.ReplaceAll(msg, pnr, "[personal number]")
	}
	return msg
}

// parseCSV reads the rows (csvrows) and turns each into a referral; a bad
// yes/no or date is a row error too. encoding is the file's character set.
func parseCSV(in io.Reader, encoding string) ([]importRow, []RowError, error) {
	recs, bad, err := csvrows.Read(in, encoding, ImportColumns, requiredColumns)
	if err != nil {
		return nil, nil, err
	}
	var rows []importRow
	for _, rec := range recs {
		get := func(k string) string { return rec.Values[k] }
		line := rec.Line
		r := importRow{line: line, ref: cases.Referral{PersonalNumber: get("personal_number"), GivenName: get("given_name"),
			FamilyName: get("family_name"), Email: get("email"), Phone: get("phone"), District: get("district"), CentreID: get("centre_id"),
			Programme: get("programme"), Source: get("source"), Assignee: get("assignee")}}
		if src, ok := swedishSources[strings.ToLower(r.ref.Source)]; ok {
			r.ref.Source = src
		}
		ok := true
		for _, b := range []struct {
			name string
			dst  *bool
		}{{"consent", &r.ref.Consent}, {"protected_identity", &r.ref.ProtectedIdentity}} {
			v := strings.ToLower(get(b.name))
			switch v {
			case "", "false", "no", "0", "n", "nej":
			case "true", "yes", "1", "y", "ja":
				*b.dst = true
			default:
				bad = append(bad, RowError{Line: line, Field: b.name, Reason: "must be yes or no"})
				ok = false
			}
		}
		if v := get("referred_at"); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				t, err = time.Parse(time.RFC3339, v)
			}
			if err != nil {
				bad = append(bad, RowError{Line: line, Field: "referred_at", Reason: "must be a date, YYYY-MM-DD"})
				ok = false
			}
			r.ref.ReferredAt = t
		}
		if ok {
			rows = append(rows, r)
		}
	}
	return rows, bad, nil
}

func countLines(errs []RowError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		lines[e.Line] = true
	}
	return len(lines)
}

func sortRowErrors(errs []RowError) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Line < errs[j-1].Line; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

func importCmd(setup Setup) *cobra.Command {
	var opt ImportOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import referrals from a CSV file: validate every row first, then start pathways",
		Long: "Columns (header line, any order): " + strings.Join(ImportColumns, ", ") + "; the Swedish names (personnummer, förnamn, efternamn, e-post, telefon, stadsdel, jobbcentrum, program, anvisad av, anvisningsdatum, samtycke, skyddad identitet, handläggare) work too.\n" +
			"Every row is validated first; nothing is imported while any row is bad unless --good-rows is given.\n" +
			"Running the same file again starts no duplicates: people with an active pathway are reported as already started.\n" +
			"The file must be UTF-8; --encoding windows-1252 (or iso-8859-1) reads Excel's plain \"CSV\" instead.\n\n" +
			"Exit status: 0 every row was started or already started; 2 the valid rows were imported but some were\n" +
			"skipped as bad (--good-rows) or failed to start (listed); 1 nothing was imported (bad rows without\n" +
			"--good-rows, an unreadable file) or another error.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			if !asJSON {
				opt.Progress = cmd.ErrOrStderr()
			}
			sum, err := Import(cmd.Context(), e.cases, f, opt)
			if asJSON {
				if perr := printJSON(cmd.OutOrStdout(), sum); perr != nil {
					return perr
				}
				if err != nil {
					return err
				}
				return importResult(sum)
			}
			out := cmd.OutOrStdout()
			if len(sum.Bad) > 0 {
				fmt.Fprintf(out, "%d bad row(s):\n", countLines(sum.Bad))
				for _, b := range sum.Bad {
					fmt.Fprintln(out, "  "+b.String())
				}
			}
			for _, b := range sum.Failed {
				fmt.Fprintln(out, "  failed "+b.String())
			}
			tw := table(out)
			fmt.Fprintf(tw, "rows\t%d\nvalid\t%d\nbad\t%d\nstarted\t%d\nalready started\t%d\nfailed\t%d\ntook\t%s\nrate\t%.0f rows/s\n",
				sum.Rows, sum.Valid, countLines(sum.Bad), sum.Started, sum.AlreadyStarted, len(sum.Failed), sum.Took.Round(time.Millisecond), sum.RatePerSecond)
			_ = tw.Flush()
			if err != nil {
				return err
			}
			return importResult(sum)
		},
	}
	c.Flags().BoolVar(&opt.GoodRows, "good-rows", false, "import the valid rows even when some rows are bad (exit status 2 if any were skipped)")
	c.Flags().StringVar(&opt.Encoding, "encoding", "utf-8", "the file's character set: utf-8, windows-1252 or iso-8859-1")
	c.Flags().IntVar(&opt.Concurrency, "concurrency", DefaultConcurrency, "workflow starts in flight at once")
	c.Flags().StringVar(&opt.StaffID, "staff", "cli", "staff ID the audit log records")
	c.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return c
}

// ExitPartial is the exit status of an import that started the valid rows
// but skipped bad ones or could not start some: a script must not take it
// for a complete import.
const ExitPartial = 2

// ExitError is an error with the exit status the command should end with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }

// ExitCode is what main passes to os.Exit.
func (e *ExitError) ExitCode() int { return e.Code }

// importResult is nil only when every row was started or already started.
func importResult(sum ImportSummary) error {
	var parts []string
	if n := countLines(sum.Bad); n > 0 {
		parts = append(parts, fmt.Sprintf("%d bad row(s) were skipped; fix them and run the file again", n))
	}
	if len(sum.Failed) > 0 {
		parts = append(parts, fmt.Sprintf("%d row(s) failed to start; run the file again to retry them", len(sum.Failed)))
	}
	if len(parts) == 0 {
		return nil
	}
	return &ExitError{Code: ExitPartial, Err: errors.New(strings.Join(parts, "; "))}
}
