-- Enrolment review on the shared approval flow: an application carries the flow's common columns
-- (the review step's state, step, approver, opened day, deadline, reason, completion) beside its
-- own lifecycle `state` (已提交 … 已入学). Existing applications are moved onto the flow: an open
-- one waits at the review step of its county bureau with its stored deadline; one waiting for
-- materials is returned; an accepted or enrolled one is completed; a refused one refused; a
-- withdrawn one withdrawn. Applications with decisions already recorded continue in round 1, so
-- the flow's history numbers never meet the earlier ones. Kept in step with
-- ../postgres/0012_enrolment_review_flow.sql.

ALTER TABLE enrolment_application ADD COLUMN review_state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE enrolment_application ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrolment_application ADD COLUMN approver_county INTEGER;
ALTER TABLE enrolment_application ADD COLUMN approver_school INTEGER;
ALTER TABLE enrolment_application ADD COLUMN step_opened_on TEXT;
ALTER TABLE enrolment_application ADD COLUMN step_deadline TEXT;
ALTER TABLE enrolment_application ADD COLUMN refusal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE enrolment_application ADD COLUMN completed_at TEXT;
ALTER TABLE enrolment_application ADD COLUMN review_round INTEGER NOT NULL DEFAULT 0;

UPDATE enrolment_application SET
    review_state = CASE state
        WHEN 'submitted' THEN 'pending'
        WHEN 'needs_materials' THEN 'returned'
        WHEN 'rejected' THEN 'refused'
        WHEN 'withdrawn' THEN 'withdrawn'
        ELSE 'completed' END,
    approver_county = CASE WHEN state = 'submitted' THEN county_id END,
    step_opened_on = opened_on,
    step_deadline = CASE WHEN state = 'submitted' THEN deadline END,
    refusal_reason = CASE WHEN state IN ('needs_materials', 'rejected') THEN note ELSE '' END,
    completed_at = CASE WHEN state IN ('accepted', 'admitted', 'enrolled') THEN updated_at END,
    review_round = CASE WHEN EXISTS (
        SELECT 1 FROM approval_action x
        WHERE x.county_id = enrolment_application.county_id
          AND x.request_kind = 'enrolment' AND x.request_id = enrolment_application.id
    ) THEN 1 ELSE 0 END;
