package starter

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// badLines maps each bad line to its "field: reason" texts.
func badLines(sum ImportSummary) map[int]string {
	lines := map[int]string{}
	for _, b := range sum.Bad {
		lines[b.Line] += b.Field + ": " + b.Reason + "\n"
	}
	return lines
}

// A row that begins with an unterminated quote made the parser panic
// ("out of range index passed to FieldPos").
func TestImportUnterminatedQuoteAtRowStart(t *testing.T) {
	svc := service(t)
	file := header +
		pnr(1) + ",Alva,Berg,,Angered,social_services,yes\n" +
		`"` + pnr(2) + ",Bo,Ek,,Angered,social_services,yes\n" +
		pnr(3) + ",Cia,Dahl,,Angered,social_services,yes\n"
	sum, err := Import(context.Background(), svc, strings.NewReader(file), ImportOptions{})
	if !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	if got := badLines(sum)[3]; !strings.Contains(got, "malformed CSV") || !strings.Contains(got, `must end with "`) {
		t.Errorf("line 3: %q (all %+v)", got, sum.Bad)
	}
	if count(t, svc) != 0 {
		t.Error("a file with a bad row imported something")
	}
}

// A Latin-1 file failed every row at the database ("invalid byte sequence
// … run the file again"); it is bad input, reported by line and field with
// the way to fix the file, and --encoding reads it deliberately.
func TestImportLatin1File(t *testing.T) {
	svc := service(t)
	ctx := context.Background()
	latin1 := func(s string) string { // å ä ö Å Ä Ö are one byte each in Latin-1
		return strings.NewReplacer("å", "\xe5", "ä", "\xe4", "ö", "\xf6", "Å", "\xc5", "Ä", "\xc4", "Ö", "\xd6").Replace(s)
	}
	file := latin1(header +
		pnr(1) + ",Åsa,Öberg,,Angered,social_services,yes\n" +
		pnr(2) + ",Bo,Ek,,Angered,social_services,yes\n" +
		pnr(3) + ",Per,Nordström,,Angered,social_services,yes\n")
	sum, err := Import(ctx, svc, strings.NewReader(file), ImportOptions{})
	if !errors.Is(err, ErrInvalidFile) || len(sum.Failed) != 0 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	lines := badLines(sum)
	for _, want := range []struct {
		line  int
		field string
	}{{2, "given_name"}, {2, "family_name"}, {4, "family_name"}} {
		got := lines[want.line]
		if !strings.Contains(got, want.field+": is not UTF-8 text") || !strings.Contains(got, "CSV UTF-8") || !strings.Contains(got, "--encoding windows-1252") {
			t.Errorf("line %d %s: %q", want.line, want.field, got)
		}
	}
	if _, ok := lines[3]; ok || count(t, svc) != 0 {
		t.Errorf("line 3 is good, nothing imported: %v", lines)
	}

	sum, err = Import(ctx, svc, strings.NewReader(file), ImportOptions{Encoding: "windows-1252"})
	if err != nil || sum.Started != 3 {
		t.Fatalf("windows-1252: %v %+v", err, sum)
	}
	p, err := store.FindParticipant(ctx, svc.Pool, svc.Keys, pnr(1))
	if err != nil {
		t.Fatal(err)
	}
	if p.GivenName != "Åsa" || p.FamilyName != "Öberg" {
		t.Errorf("stored %q %q", p.GivenName, p.FamilyName)
	}
	if _, err := Import(ctx, svc, strings.NewReader(file), ImportOptions{Encoding: "ebcdic"}); err == nil || !strings.Contains(err.Error(), "windows-1252") {
		t.Errorf("unknown encoding: %v", err)
	}
}

// A NUL in a name answered "could not start … run the file again"; it is a
// bad row naming the field.
func TestImportNULInName(t *testing.T) {
	svc := service(t)
	file := header +
		pnr(1) + ",Al\x00va,Berg,,Angered,social_services,yes\n" +
		pnr(2) + ",Bo,Ek,,Angered,social_services,yes\n" +
		pnr(3) + ",Cia,\"Da\nhl\",,Angered,social_services,yes\n"
	sum, err := Import(context.Background(), svc, strings.NewReader(file), ImportOptions{GoodRows: true})
	if err != nil || sum.Started != 1 || len(sum.Failed) != 0 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	lines := badLines(sum)
	if !strings.Contains(lines[2], "given_name: contains a control character") || !strings.Contains(lines[4], "family_name: contains a control character") {
		t.Errorf("bad rows: %v", lines)
	}
}

// `import --good-rows` exited 0 although it skipped rows; it exits 2.
func TestImportGoodRowsExitStatus(t *testing.T) {
	pool, url := testenv.Database(t)
	if err := store.SeedDemo(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database.URL = url
	cfg.Temporal.Address = testenv.TemporalAddress(t)
	cfg.Temporal.TaskQueue = testenv.TaskQueue(t)
	cfg.Programs.Dir = "../programmes/definitions"
	setup := func(*cobra.Command) (*config.Config, *zap.Logger, error) { return cfg, zap.NewNop(), nil }
	run := func(file string, args ...string) error {
		path := filepath.Join(t.TempDir(), "referrals.csv")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := importCmd(setup)
		cmd.SetArgs(append([]string{path}, args...))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.ExecuteContext(context.Background())
	}
	status := func(err error) int {
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			return coded.ExitCode()
		}
		if err != nil {
			return 1
		}
		return 0
	}
	mixed := header + pnr(1) + ",Alva,Berg,,Angered,social_services,yes\n" + pnr(2) + ",Bo,Ek,,Atlantis,social_services,yes\n"
	for _, c := range []struct {
		name string
		file string
		args []string
		want int
	}{
		{"bad rows, nothing imported", mixed, nil, 1},
		{"good rows imported, bad skipped", mixed, []string{"--good-rows"}, ExitPartial},
		{"good rows imported, bad skipped, JSON", mixed, []string{"--good-rows", "--json"}, ExitPartial},
		{"every row started or already started", header + pnr(1) + ",Alva,Berg,,Angered,social_services,yes\n" + pnr(3) + ",Cia,Dahl,,Angered,social_services,yes\n", nil, 0},
	} {
		if got := status(run(c.file, c.args...)); got != c.want {
			t.Errorf("%s: exit status %d, want %d", c.name, got, c.want)
		}
	}
}
