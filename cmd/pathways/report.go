package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/report"
	"github.com/pathways-se/pathways/store"
)

// reportCmd prints the outcome report and the annual statistics from the
// read model: the same figures the console's page and exports show.
func reportCmd() *cobra.Command {
	root := &cobra.Command{Use: "report", Short: "Outcomes as municipalities report them (national indicator, annual statistics)"}
	var centre, format, out, period string
	var year int
	write := func(cmd *cobra.Command, text, csv, xlsx func(io.Writer) error) error {
		w := cmd.OutOrStdout()
		if out != "" {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		switch format {
		case "text":
			return text(w)
		case "csv":
			return csv(w)
		case "xlsx":
			if out == "" {
				return fmt.Errorf("--format xlsx needs --output FILE")
			}
			return xlsx(w)
		}
		return fmt.Errorf("--format %q is not one of text, csv, xlsx", format)
	}
	comparison := func(cfg *config.Config) *report.Comparison {
		c := cfg.Report
		if strings.TrimSpace(c.ComparisonLabel) == "" {
			return nil
		}
		return &report.Comparison{Value: c.ComparisonValue, Label: c.ComparisonLabel, Source: c.ComparisonSource, Year: c.ComparisonYear}
	}
	annual := &cobra.Command{
		Use:   "annual",
		Short: "The annual municipal labour-market statistics of a year: participants, ended, started work, started studies, by gender and age band",
		Args:  cobra.NoArgs,
		RunE: withPool(func(cmd *cobra.Command, cfg *config.Config, pool *pgxpool.Pool) error {
			per := report.Year(year)
			ps, err := store.ReportParticipants(cmd.Context(), pool, store.ReportScope{Centre: centre, From: per.From, To: per.To})
			if err != nil {
				return err
			}
			a := report.BuildAnnual(ps, year)
			return write(cmd, a.WriteText, a.WriteCSV, a.WriteExcel)
		}),
	}
	outcomes := &cobra.Command{
		Use:   "outcomes",
		Short: "The outcome report of a period: the national indicator and the share of all participants, by group",
		Args:  cobra.NoArgs,
		RunE: withPool(func(cmd *cobra.Command, cfg *config.Config, pool *pgxpool.Pool) error {
			per, err := report.ParsePeriod(period)
			if err != nil {
				return err
			}
			ps, err := store.ReportParticipants(cmd.Context(), pool, store.ReportScope{Centre: centre, From: per.From, To: per.To})
			if err != nil {
				return err
			}
			r := report.Build(ps, report.Query{Period: per, Comparison: comparison(cfg)})
			return write(cmd, r.WriteText, r.WriteCSV, r.WriteExcel)
		}),
	}
	annual.Flags().IntVar(&year, "year", time.Now().Year(), "the calendar year")
	outcomes.Flags().StringVar(&period, "period", fmt.Sprint(time.Now().Year()), "2026, 2026-H1, 2026-Q3, 2026-05 or 2026-01-01..2026-03-31")
	for _, c := range []*cobra.Command{annual, outcomes} {
		c.Flags().StringVar(&centre, "centre", "", "one centre's ID (default: every centre)")
		c.Flags().StringVar(&format, "format", "text", "text, csv or xlsx")
		c.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
		root.AddCommand(c)
	}
	return root
}
