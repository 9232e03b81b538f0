// Package temporal holds the Temporal server's config for pathways, embedded
// so `pathways cluster` starts the server from the same files compose mounts.
package temporal

import _ "embed"

// Config is the server's config template (pathways.yaml).
//
//go:embed pathways.yaml
var Config []byte

// DynamicConfig is the server's dynamic config (dynamicconfig.yaml).
//
//go:embed dynamicconfig.yaml
var DynamicConfig []byte
