package starter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func service(tb testing.TB) *cases.Service {
	tb.Helper()
	pool, _ := testenv.Database(tb)
	if err := store.SeedDemo(context.Background(), pool); err != nil {
		tb.Fatal(err)
	}
	progs, err := programmes.Load("../programmes/definitions", catalog.Registry())
	if err != nil {
		tb.Fatal(err)
	}
	// No worker: the import only starts workflows, on the test's own queue.
	return &cases.Service{Pool: pool, Temporal: testenv.TemporalClient(tb), TaskQueue: testenv.TaskQueue(tb), Programmes: progs, Keys: testenv.Keyring(tb)}
}

// pnr returns the i-th of many distinct valid personal numbers, ages 26–60.
func pnr(i int) string {
	birth := time.Date(1966, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900)
	nine := fmt.Sprintf("%s%03d", birth.Format("060102"), i%900+100)
	return birth.Format("20060102") + "-" + nine[6:] + string(identity.CheckDigit(nine))
}

const header = "personal_number,given_name,family_name,email,district,source,consent\n"

func csvFile(n, from int) string {
	var b strings.Builder
	b.WriteString(header)
	districts := []string{"Angered", "Hisingen", "Centrum", "Östra Göteborg", "Trollhättan"}
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s,Name%d,Family,p%d@example.se,%s,social_services,yes\n", pnr(i), i, i, districts[i%len(districts)])
	}
	return b.String()
}

func count(t *testing.T, svc *cases.Service) int {
	var n int
	if err := svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pathways`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportBadRows(t *testing.T) {
	svc := service(t)
	ctx := context.Background()
	long := strings.Repeat("x", 250)
	file := header +
		pnr(1) + ",Alva,Berg,,Angered,social_services,yes\n" + // 2: good
		"19851332-1234,Bo,Ek,,Angered,social_services,yes\n" + // 3: bad date
		pnr(2)[:12] + "0,Cia,Dahl,,Angered,social_services,yes\n" + // 4: may be a bad check digit
		pnr(3) + ",Dan,Ek,,Atlantis,social_services,yes\n" + // 5: unrouted district
		pnr(4) + ",Eva,Fors,,Angered,social_services,no\n" + // 6: no consent
		pnr(5) + "," + long + ",Gran,,Angered,social_services,yes\n" + // 7: over-long
		pnr(1) + ",Alva,Berg,,Angered,social_services,yes\n" + // 8: same person as line 2
		pnr(6) + ",Fia,\"Unclosed,Angered,social_services,yes\n" + // 9: malformed CSV
		""
	sum, err := Import(ctx, svc, strings.NewReader(file), ImportOptions{})
	if !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	if count(t, svc) != 0 || sum.Imported {
		t.Fatal("a file with bad rows imported something")
	}
	lines := map[int]string{}
	for _, b := range sum.Bad {
		lines[b.Line] += b.Field + ":" + b.Reason + " "
		for i := 1; i <= 6; i++ {
			if strings.Contains(b.Reason, pnr(i)) || strings.Contains(b.Reason, "19851332") {
				t.Errorf("line %d echoes a personal number: %s", b.Line, b.Reason)
			}
		}
	}
	for _, want := range []struct {
		line int
		has  string
	}{{3, "personal_number"}, {5, "district"}, {6, "consent"}, {7, "given_name"}, {8, "line 2"}, {9, "malformed CSV"}} {
		if !strings.Contains(lines[want.line], want.has) {
			t.Errorf("line %d: want %q, got %q (all: %v)", want.line, want.has, lines[want.line], lines)
		}
	}
	if _, ok := lines[2]; ok {
		t.Errorf("line 2 is good: %v", lines[2])
	}

	// --good-rows imports the good ones only; a re-run starts nobody twice.
	sum, err = Import(ctx, svc, strings.NewReader(file), ImportOptions{GoodRows: true})
	if err != nil || sum.Started < 1 || len(sum.Failed) != 0 {
		t.Fatalf("good rows: %v %+v", err, sum)
	}
	before := count(t, svc)
	// Every start was confirmed (in a batch), none left to the reconciler.
	var pending int
	if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE start_pending IS NOT NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d starts unconfirmed (%v)", pending, err)
	}
	sum, err = Import(ctx, svc, strings.NewReader(file), ImportOptions{GoodRows: true})
	if err != nil || sum.Started != 0 || sum.AlreadyStarted != before || count(t, svc) != before {
		t.Fatalf("re-run: %v %+v", err, sum)
	}

	// Whole-file problems.
	for _, f := range []string{"", "name,district\nx,y\n", "personal_number,given_name\n"} {
		if _, err := Import(ctx, svc, strings.NewReader(f), ImportOptions{}); err == nil || errors.Is(err, ErrInvalidFile) {
			t.Errorf("%q: %v", f, err)
		}
	}
}

func TestImportTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 rows")
	}
	svc := service(t)
	ctx := context.Background()
	file := csvFile(10_000, 0)
	var progress bytes.Buffer
	sum, err := Import(ctx, svc, strings.NewReader(file), ImportOptions{Concurrency: 16, Progress: &progress})
	if err != nil || sum.Started != 10_000 || len(sum.Bad) != 0 {
		t.Fatalf("%v: %+v", err, sum)
	}
	t.Logf("imported 10,000 rows in %s: %.0f rows/s", sum.Took.Round(time.Millisecond), sum.RatePerSecond)
	if !strings.Contains(progress.String(), "10000/10000") {
		t.Errorf("progress bar: %q", progress.String()[max(0, progress.Len()-200):])
	}
	sum, err = Import(ctx, svc, strings.NewReader(file), ImportOptions{Concurrency: 16})
	if err != nil || sum.Started != 0 || sum.AlreadyStarted != 10_000 {
		t.Fatalf("re-run: %v %+v", err, sum)
	}
	if n := count(t, svc); n != 10_000 {
		t.Fatalf("%d pathways", n)
	}
}

// A file exported with the Swedish column names staff use imports the same
// way, Swedish yes/no and referral source included.
func TestImportSwedishColumns(t *testing.T) {
	svc := service(t)
	file := "Personnummer;Förnamn;Efternamn;Stadsdel;Anvisad av;Samtycke;Skyddad identitet\n"
	file = strings.ReplaceAll(file, ";", ",") +
		pnr(11) + ",Alva,Berg,Angered,Socialtjänsten,ja,nej\n" +
		pnr(12) + ",Bo,Ek,Hisingen,arbetsförmedlingen,ja,nej\n"
	sum, err := Import(context.Background(), svc, strings.NewReader(file), ImportOptions{})
	if err != nil || sum.Started != 2 || len(sum.Bad) != 0 {
		t.Fatalf("Swedish columns: %v %+v", err, sum)
	}
	var sources []string
	rows, err := svc.Pool.Query(context.Background(), `SELECT referral_source FROM pathways ORDER BY referral_source`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		sources = append(sources, s)
	}
	if strings.Join(sources, ",") != "employment_service,social_services" {
		t.Errorf("referral sources %v", sources)
	}
}
