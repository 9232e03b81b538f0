// Package worker hosts the pathway workflows and activities on a Temporal
// worker and stops it gracefully.
package worker

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/workflows"
)

// RegisterPathway registers the Pathway workflow and its own activities.
func RegisterPathway(r sdkworker.Registry, reg *steps.Registry, pool *pgxpool.Pool, keys *keyring.Ring, deps steps.Deps) {
	wf := &workflows.Pathways{Steps: StepCatalog(reg)}
	r.RegisterWorkflowWithOptions(wf.Pathway, workflow.RegisterOptions{Name: pathway.WorkflowName})
	r.RegisterActivity(&activities.Registry{Pool: pool, Keys: keys})
	r.RegisterActivity(&activities.Outside{Deps: deps})
}

// StepCatalog shows the step registry to the Pathway workflow through the
// workflow's own interface, so the workflows package imports no step type.
func StepCatalog(reg *steps.Registry) workflows.StepCatalog { return stepCatalog{reg} }

type stepCatalog struct{ *steps.Registry }

func (c stepCatalog) IsEducation(name string) bool { return steps.IsEducation(c.Registry, name) }

// RegisterSteps registers every step type's child workflow and activities,
// each under the type's own name so two types never collide.
func RegisterSteps(r sdkworker.Registry, reg *steps.Registry, deps steps.Deps) {
	for _, t := range reg.All() {
		r.RegisterWorkflowWithOptions(t.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(t.Name())})
		if a := t.Activities(deps); a != nil {
			r.RegisterActivityWithOptions(a, activity.RegisterOptions{Name: steps.ActivityName(t.Name(), "")})
		}
	}
}
