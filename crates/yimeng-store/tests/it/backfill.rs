//! Migrations that move existing rows onto the approval flow (0010 dispatch reports, 0012
//! enrolment applications), run on a database an earlier release left with rows in it, on both
//! stores — not only on an empty one.

use yimeng_store::testing::{RawQuery, Sql, migrate_through};
use yimeng_testkit::TestDb;

const PLAN: &str = include_str!("../../../../plans/linyi-2020.toml");

/// 0010: a submitted report waits for the city's review, an approved one is completed with its
/// decision as history, a returned one waits for its unit with the note as reason, a draft stays
/// out of the flow.
#[tokio::test]
async fn migration_0010_moves_existing_dispatch_reports_onto_the_review_flow() {
    for t in TestDb::each_unmigrated().await {
        let db = &t.db;
        migrate_through(db, 9).await.unwrap();
        let plan = yimeng_domain::plan::Plan::parse(PLAN).unwrap();
        yimeng_store::plan::load(db, &yimeng_store::Actor::system(), &plan, PLAN)
            .await
            .unwrap();
        // Four reports of 兰山区 as release 0009 stored them: draft, submitted, approved, returned.
        let rows = [
            (1, "2020-06", "draft", "NULL", "NULL", "''"),
            (2, "2020-07", "submitted", "NULL", "NULL", "''"),
            (
                3,
                "2020-08",
                "approved",
                "'2020-09-03T02:00:00Z'",
                "'jyk'",
                "''",
            ),
            (
                4,
                "2020-09",
                "returned",
                "'2020-10-09T02:00:00Z'",
                "'jyk'",
                "'请补充佐证材料'",
            ),
        ];
        for (id, period, status, reviewed_at, reviewed_by, note) in rows {
            db.exec(Sql::new(&format!(
                "INSERT INTO dispatch_report (county_id, id, plan_code, task_code, period, unit, progress, narrative, status, \
                 submitted_at, submitted_by, reviewed_at, reviewed_by, review_note, created_at, updated_at) VALUES \
                 (371302, {id}, '{}', '18.1', '{period}', '371302', 50, '进展', '{status}', \
                 '2020-07-02T01:00:00Z', 'lanshan', {reviewed_at}, {reviewed_by}, {note}, \
                 '2020-07-01T01:00:00Z', '2020-07-02T01:00:00Z')",
                plan.code
            )))
            .await
            .unwrap();
        }
        db.migrate().await.unwrap();

        let got: Vec<(i64, String, String, String)> = db
            .all(Sql::new(
                "SELECT id, state, refusal_reason, CASE WHEN completed_at IS NULL THEN '' ELSE 'done' END \
                 FROM dispatch_report WHERE county_id = 371302 ORDER BY id",
            ))
            .await
            .unwrap();
        assert_eq!(
            got,
            vec![
                (1, "".into(), "".into(), "".into()),
                (2, "pending".into(), "".into(), "".into()),
                (3, "completed".into(), "".into(), "done".into()),
                (4, "returned".into(), "请补充佐证材料".into(), "".into()),
            ],
            "{:?}",
            t.backend()
        );
        // The decisions already taken became the history's first entries.
        let history: Vec<(i64, i64, String, String, String)> = db
            .all(Sql::new(
                "SELECT request_id, CAST(seq AS BIGINT), action, actor, reason FROM approval_action \
                 WHERE county_id = 371302 AND request_kind = 'dispatch' ORDER BY request_id, seq",
            ))
            .await
            .unwrap();
        assert_eq!(
            history,
            vec![
                (3, 0, "approve".into(), "jyk".into(), "".into()),
                (4, 0, "return".into(), "jyk".into(), "请补充佐证材料".into()),
            ]
        );
        // The submitted one opened its step on the day it was submitted (Beijing time).
        let opened: Vec<(Option<chrono::NaiveDate>,)> = db
            .all(Sql::new(
                "SELECT step_opened_on FROM dispatch_report WHERE county_id = 371302 AND id = 2",
            ))
            .await
            .unwrap();
        assert_eq!(
            opened[0].0.map(|d| d.to_string()).as_deref(),
            Some("2020-07-02")
        );
    }
}

/// 0012 (enrolment review): an open application waits at its county bureau's step with its
/// stored deadline, one waiting for materials is returned with the note, a refused one refused, a
/// withdrawn one withdrawn, an accepted one completed; one with decisions already recorded goes on
/// in round 1 so that new history rows never meet the old ones.
#[tokio::test]
async fn migration_0012_moves_existing_enrolment_applications_onto_the_review_flow() {
    for t in TestDb::each_unmigrated().await {
        let db = &t.db;
        migrate_through(db, 11).await.unwrap();
        let rows = [
            (1, "submitted", "''", "'2020-08-14'"),
            (2, "needs_materials", "'请补交房产证'", "NULL"),
            (3, "rejected", "'不属于本学区'", "NULL"),
            (4, "withdrawn", "''", "NULL"),
            (5, "accepted", "''", "NULL"),
        ];
        for (id, state, note, deadline) in rows {
            db.exec(Sql::new(&format!(
                "INSERT INTO enrolment_application (county_id, id, app_no, kind, grade, school_year, child_name, id_card, sex, \
                 birth_date, street, guardian_name, guardian_phone, state, note, opened_on, deadline, created_at, updated_at) VALUES \
                 (371302, {id}, 'RX2020{id:04}', 'primary', 'P1', 2020, '儿童{id}', '37130220140101000{id}', 1, '2014-01-01', \
                 '兰山街道', '家长{id}', '13800000000', '{state}', {note}, '2020-08-01', {deadline}, \
                 '2020-08-01T01:00:00Z', '2020-08-05T01:00:00Z')"
            )))
            .await
            .unwrap();
        }
        // Application 2 already had a decision recorded (its request for materials).
        db.exec(Sql::new(
            "INSERT INTO approval_action (county_id, request_kind, request_id, seq, step_kind, action, actor, actor_role, reason, overdue, at) \
             VALUES (371302, 'enrolment', 2, 0, 'review', 'return', 'lanshan', 'county', '请补交房产证', false, '2020-08-03T01:00:00Z')",
        ))
        .await
        .unwrap();
        db.migrate().await.unwrap();

        let got: Vec<(i64, String, Option<i64>, String, String, i64)> = db
            .all(Sql::new(
                "SELECT id, review_state, CAST(approver_county AS BIGINT), refusal_reason, \
                 CASE WHEN completed_at IS NULL THEN '' ELSE 'done' END, CAST(review_round AS BIGINT) \
                 FROM enrolment_application WHERE county_id = 371302 ORDER BY id",
            ))
            .await
            .unwrap();
        assert_eq!(
            got,
            vec![
                (1, "pending".into(), Some(371302), "".into(), "".into(), 0),
                (
                    2,
                    "returned".into(),
                    None,
                    "请补交房产证".into(),
                    "".into(),
                    1
                ),
                (
                    3,
                    "refused".into(),
                    None,
                    "不属于本学区".into(),
                    "".into(),
                    0
                ),
                (4, "withdrawn".into(), None, "".into(), "".into(), 0),
                (5, "completed".into(), None, "".into(), "done".into(), 0),
            ],
            "{:?}",
            t.backend()
        );
        let deadline: Vec<(Option<chrono::NaiveDate>,)> = db
            .all(Sql::new(
                "SELECT step_deadline FROM enrolment_application WHERE county_id = 371302 AND id = 1",
            ))
            .await
            .unwrap();
        assert_eq!(
            deadline[0].0.map(|d| d.to_string()).as_deref(),
            Some("2020-08-14")
        );
    }
}
