package main

import (
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/simulators"
)

func simulatorsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "simulators",
		Short: "Run the outside-system simulators (education, employment, JobSearch, employers, social services, SMTP sink)",
		Long: `Runs stand-ins for the systems around a centre as real HTTP servers on
simulators.addr, plus an SMTP sink on smtp.addr. /admin/requests, /admin/stats,
/admin/mail and /admin/callbacks show what happened; PUT /admin/faults injects
latency, errors, timeouts and dropped connections (also simulators.faults at start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			return simulators.Run(cmd.Context(), cfg, log)
		},
	}
}
