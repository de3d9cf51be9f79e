SET LOCAL citus.enable_local_reference_table_foreign_keys TO off;
-- A student file import writes after the whole file is checked; on SQLite in short
-- transactions, with its batch 'pending' until the last one (finished_at then says when it was
-- last marked alive). On PostgreSQL the write pass is one transaction and batches are written
-- 'done' directly. Completed batches are 'done'.
ALTER TABLE import_batch ADD COLUMN state text NOT NULL DEFAULT 'done';
