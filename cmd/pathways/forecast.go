package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/forecast"
)

func forecastCmd() *cobra.Command {
	var (
		name         string
		seed         uint64
		participants int
		lever        string
	)
	c := &cobra.Command{
		Use:   "forecast",
		Short: "Run a synthetic cohort through the production workflow under a calibrated behaviour model",
		Long: "Runs a calibration's cohort through the Pathway workflow and its step workflows under the Temporal SDK's\n" +
			"time-skipping test environment (no server, no database) and prints the national indicator.\n" +
			"Calibrations: " + strings.Join(forecast.Calibrations(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cal, err := forecast.Load(name)
			if err != nil {
				return fmt.Errorf("--calibration: %w", err)
			}
			if lever != "" {
				k, v, ok := strings.Cut(lever, "=")
				var f float64
				if _, perr := fmt.Sscan(v, &f); !ok || perr != nil {
					return fmt.Errorf("--lever %q: write it as name=value, e.g. need_share=0.5", lever)
				}
				if cal, err = cal.WithLever(k, f); err != nil {
					return fmt.Errorf("--lever: %w", err)
				}
			}
			if participants < 0 {
				return fmt.Errorf("--participants must be positive, not %d", participants)
			}
			rep, err := forecast.RunWithComparison(cmd.Context(), cal, forecast.Options{Seed: seed, Participants: participants})
			if err != nil {
				return err
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&name, "calibration", "goteborg", "calibration: "+strings.Join(forecast.Calibrations(), ", "))
	c.Flags().Uint64Var(&seed, "seed", 1, "random seed of the behaviour model")
	c.Flags().IntVar(&participants, "participants", 0, "cohort size (default: the calibration's)")
	c.Flags().StringVar(&lever, "lever", "", "change one lever, e.g. need_share=0.5, mapping_days=14, internship_places=200")
	return c
}
