-- +goose Up
-- Every projection repairs what a lost local-activity write may have left
-- under its sequence number: a DELETE and an UPDATE of the case's tasks at
-- that number. Only open tasks had an index by case, so both scanned the
-- whole tasks table: 1.1 and 1.2 ms each with 8,000 pathways
-- (pg_stat_statements during BenchmarkImport), growing with every case a
-- municipality ever had. A transfer's move of the case's tasks to the new
-- centre scanned the same way.
CREATE INDEX tasks_case_seq ON tasks (case_id, seq);

-- Every staff action asks whether it was applied before (a retry after the
-- pathway moved on): by case and action ID, not through every audit row
-- the case has gathered in 18 months of reads and actions.
CREATE INDEX audit_log_action_id ON audit_log (case_id, (detail->>'action_id')) WHERE action = 'pathway_action';

-- +goose Down
DROP INDEX audit_log_action_id;
DROP INDEX tasks_case_seq;
