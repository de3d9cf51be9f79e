-- A student file import writes after the whole file is checked, in short transactions; until
-- its last one its batch is 'pending' (finished_at then says when it was last marked alive), and
-- what a failed or stopped import wrote is removed again. Completed batches are 'done'.
ALTER TABLE import_batch ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
