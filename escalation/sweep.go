package escalation

import "github.com/pathways-se/pathways/escalation/contract"

// The sweep workflow lives in workflows/ (StallSweep); its messages are in
// escalation/contract. These names keep the package's API.

// WorkflowName is the registered name of the sweep workflow.
const WorkflowName = contract.SweepWorkflowName

// SweepInput configures one sweep. Zero values take the defaults.
type SweepInput = contract.SweepInput

// SweepResult is what a sweep did.
type SweepResult = contract.SweepResult
