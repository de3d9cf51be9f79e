-- The periodic-report cycle: a 月调度 report's review runs on the one approval flow. The report
-- keeps its report state in `status` (draft / submitted / returned / approved) and gains the
-- flow's common columns (see yimeng-store/src/approval.rs); its decisions are approval_action rows
-- with request_kind 'dispatch'. Kept in step with ../postgres/0010_report_cycle.sql.
ALTER TABLE dispatch_report ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE dispatch_report ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dispatch_report ADD COLUMN approver_county INTEGER;
ALTER TABLE dispatch_report ADD COLUMN approver_school INTEGER;
ALTER TABLE dispatch_report ADD COLUMN step_opened_on TEXT;
ALTER TABLE dispatch_report ADD COLUMN step_deadline TEXT;
ALTER TABLE dispatch_report ADD COLUMN refusal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE dispatch_report ADD COLUMN completed_at TEXT;
ALTER TABLE dispatch_report ADD COLUMN round INTEGER NOT NULL DEFAULT 0;

-- Existing reports: a submitted one waits for the city's review (opened on the day it was
-- submitted; its deadline is set by its next decision), an approved one is completed, a returned
-- one waits for its unit with the review note as the reason.
UPDATE dispatch_report SET
    state = CASE WHEN status = 'submitted' THEN 'pending'
                 WHEN status = 'approved' THEN 'completed'
                 WHEN status = 'returned' THEN 'returned'
                 ELSE '' END,
    step_opened_on = date(COALESCE(reviewed_at, submitted_at, updated_at), '+8 hours'),
    refusal_reason = CASE WHEN status = 'returned' THEN review_note ELSE '' END,
    completed_at = CASE WHEN status = 'approved' THEN reviewed_at END;

-- The review already taken on an existing report becomes its history entry.
INSERT INTO approval_action (county_id, request_kind, request_id, seq, step_kind, action, actor, actor_role, reason, deadline, overdue, at)
SELECT r.county_id, 'dispatch', r.id, 0, 'review',
       CASE WHEN r.status = 'approved' THEN 'approve' ELSE 'return' END,
       r.reviewed_by, COALESCE((SELECT u.role FROM app_user u WHERE u.username = r.reviewed_by), ''),
       CASE WHEN r.status = 'returned' THEN r.review_note ELSE '' END,
       NULL, 0, r.reviewed_at
FROM dispatch_report r
WHERE r.status IN ('approved', 'returned') AND r.reviewed_at IS NOT NULL AND r.reviewed_by IS NOT NULL;
