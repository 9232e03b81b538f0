package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/keyring"
)

func keysCmd() *cobra.Command {
	root := &cobra.Command{Use: "keys", Short: "Create and rotate the keys that encrypt personal data"}
	var id string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Print a new key set (JSON for PATHWAYS_CRYPTO_KEYS or a crypto.key_file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printKeys(cmd, keyring.Generate(id))
		},
	}
	gen.Flags().StringVar(&id, "id", "k1", "ID of the first data key")
	var file, newID string
	rot := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new data key to a key file and make it current; old keys stay so old data still opens",
		Long: `Rotates the data key of a key file in place (mode 600). New payloads and
columns are encrypted under the new key; everything written before still
names, and opens with, the key it was written under. The blind-index key is
kept, so lookups by identity number keep working.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var f keyring.File
			if err := json.Unmarshal(data, &f); err != nil {
				return fmt.Errorf("%s: not a key file: %w", file, err)
			}
			next, err := f.Rotate(newID)
			if err != nil {
				return err
			}
			if _, err := next.Ring(); err != nil {
				return err
			}
			out, _ := json.MarshalIndent(next, "", "  ")
			if err := os.WriteFile(file, append(out, '\n'), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: current key is now %q (%d keys); restart the worker and API to use it\n", file, newID, len(next.Keys))
			return nil
		},
	}
	rot.Flags().StringVar(&file, "file", "", "the key file to rotate")
	rot.Flags().StringVar(&newID, "id", "", "ID of the new key, e.g. k2")
	_ = rot.MarkFlagRequired("file")
	_ = rot.MarkFlagRequired("id")
	root.AddCommand(gen, rot)
	return root
}

func printKeys(cmd *cobra.Command, f keyring.File) error {
	out, err := json.Marshal(f)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(out))
	return nil
}
