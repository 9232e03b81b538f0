-- +goose Up
-- Caseload lists at 100,000 pathways (BenchmarkCaseload100k): each index
-- serves one list's ORDER BY ... LIMIT, so a page reads its rows in order
-- instead of sorting every match.
-- All centres by phase, newest first.
CREATE INDEX pathways_phase_started ON pathways (phase, started_at DESC, case_id);
-- The task inbox across centres, earliest due first.
CREATE INDEX tasks_open_due ON tasks (due_at, id) WHERE status = 'open';
-- A centre's inbox counts its open tasks by joining on case ID: the
-- centre's pathways in case ID order from the index alone, with what the
-- protected-identity rule reads.
CREATE INDEX pathways_centre_case ON pathways (centre_id, case_id) INCLUDE (assignee, participant_id, status);
-- ... and a role's open tasks in case ID order, from the index alone.
CREATE INDEX tasks_open_role_case ON tasks (role, case_id) WHERE status = 'open';
-- The task inbox across centres subtracts the tasks of protected
-- identities: from the few protected participants to their pathways.
CREATE INDEX pathways_participant ON pathways (participant_id);

-- +goose Down
DROP INDEX pathways_participant;
DROP INDEX tasks_open_role_case;
DROP INDEX pathways_centre_case;
DROP INDEX tasks_open_due;
DROP INDEX pathways_phase_started;
