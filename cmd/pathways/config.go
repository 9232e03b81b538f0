package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
)

func configCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			m := cfg.Redacted()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			for _, k := range config.SortedKeys() {
				fmt.Fprintf(out, "%-32s %v\n", k, m[k])
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("invalid configuration:\n%w", err)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(show, configKeysCmd())
	return c
}

// configKeysCmd prints every setting as a Markdown table (the README's).
func configKeysCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keys",
		Short: "Print every setting with its environment variable, flag and default, as a Markdown table",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintln(out, "| Key | Environment | Flag | Default | Meaning |")
			fmt.Fprintln(out, "|---|---|---|---|---|")
			for _, k := range config.Describe() {
				env := "`" + strings.Join(k.Env, "`, `") + "`"
				flag, def := "—", "—"
				if k.Flag != "" {
					flag = "`" + k.Flag + "`"
				}
				if k.Secret {
					def = "secret, env only"
				} else if s := fmt.Sprint(k.Default); s != "" {
					def = "`" + s + "`"
				}
				fmt.Fprintf(out, "| `%s` | %s | %s | %s | %s |\n", k.Name, env, flag, def, strings.ReplaceAll(k.Usage, "|", "\\|"))
			}
			return nil
		},
	}
}
