// Package catalog lists every step type the system offers. Adding a step
// type is one line here (see docs/adding-a-step-type.md).
package catalog

import (
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
	"github.com/pathways-se/pathways/steps/cvworkshop"
	"github.com/pathways-se/pathways/steps/jobtrack"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/steps/manual"
)

// Types are the registered step types, in the order the console shows them.
// The four placements with an employer are entries of one type,
// agreement.Type, differing by name, agreement kind and title.
var Types = []steps.Type{
	komvux.Type{},
	manual.Type{},
	agreement.Type{Spec: agreement.Spec{Type: agreement.NameInternship, Kind: agreement.KindInternship},
		Label: "Internship (praktik) with an employer"},
	agreement.Type{Spec: agreement.Spec{Type: agreement.NameWorkTraining, Kind: agreement.KindWorkTraining},
		Label: "Work training (arbetsträning)"},
	agreement.Type{Spec: agreement.Spec{Type: agreement.NameLanguageInternship, Kind: agreement.KindLanguageInternship},
		Label: "Language internship (språkpraktik)"},
	agreement.Type{Spec: agreement.Spec{Type: agreement.NameSubsidised, Kind: agreement.KindSubsidised, Leads: pathway.OutcomeSubsidisedWork},
		Label: "Subsidised employment", EndsByItself: true},
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

// Get returns the registered type of that name (for tests and tools).
func Get(name string) steps.Type {
	for _, t := range Types {
		if t.Name() == name {
			return t
		}
	}
	return nil
}
