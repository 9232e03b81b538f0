// Package catalog lists every step type the system offers. Adding a step
// type is one line here (see docs/adding-a-step-type.md).
package catalog

import (
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/cvworkshop"
	"github.com/pathways-se/pathways/steps/internship"
	"github.com/pathways-se/pathways/steps/jobtrack"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/steps/languageinternship"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/steps/subsidised"
	"github.com/pathways-se/pathways/steps/worktraining"
)

// Types are the registered step types, in the order the console shows them.
var Types = []steps.Type{
	komvux.Type{},
	manual.Type{},
	internship.Type{},
	worktraining.Type{},
	languageinternship.Type{},
	subsidised.Type{},
	jobtrack.Type{},
	cvworkshop.Type{},
}

// Registry builds the registry of all step types.
func Registry() *steps.Registry {
	r, err := steps.NewRegistry(Types...)
	if err != nil {
		panic(err) // a duplicate name is a programming error caught by every test
	}
	return r
}
