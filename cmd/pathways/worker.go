package main

import (
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/worker"
)

func workerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the Temporal worker (pathway workflows, step types, activities)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			return worker.Run(cmd.Context(), cfg, log)
		},
	}
}
