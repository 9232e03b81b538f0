// Package catalog lists every step type the system offers. Adding a step
// type is one line here.
package catalog

import (
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/steps/manual"
)

// Types are the registered step types, in the order the console shows them.
var Types = []steps.Type{
	komvux.Type{},
	manual.Type{},
}

// Registry builds the registry of all step types.
func Registry() *steps.Registry {
	r, err := steps.NewRegistry(Types...)
	if err != nil {
		panic(err) // a duplicate name is a programming error caught by every test
	}
	return r
}
