//! The year rollover on both stores: promotion into the next year's classes, graduation of the
//! final grades with a 学籍异动 row, once per school year.

use crate::fixtures::*;
use crate::imports::{count, import_classes, import_students, seed};
use yimeng_domain::*;
use yimeng_store::import::Mode;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

#[tokio::test]
async fn rollover_moves_students_up_graduates_grade_six_and_runs_once() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        // 六年级 in a primary school, and in a 九年一贯制 school (2137000002).
        let r = import_classes(
            db,
            &Scope::City,
            vec![
                class("2137000001", Grade::P6, 1),
                class("2137000002", Grade::P6, 1),
            ],
            Mode::AllOrNothing,
        )
        .await;
        assert!(r.committed, "{r:?}");
        let sixth: Vec<_> = (500..503u16)
            .map(|i| student("2137000001", Grade::P6, 1, i))
            .chain((600..602u16).map(|i| student("2137000002", Grade::P6, 1, i)))
            .collect();
        let r = import_students(db, &Scope::City, sixth, Mode::AllOrNothing).await;
        assert!(r.committed, "{r:?}");
        let classes = count(db, "class").await;
        let actor = actor();

        let dry = yimeng_store::rollover::run(db, &actor, 2021, true)
            .await
            .unwrap();
        let t0 = dry.total();
        // Promoted: 30 of 三年级 and 2 of the 九年一贯制 六年级 (直升 七年级); graduated: the 3 of
        // the primary school. Classes: 四年级 ×2, 八年级 ×2, 七年级 1 of the 九年一贯制 school (from
        // its 六年级), and 七年级 1 of the junior school (its starting grade, by last year's number).
        assert_eq!((t0.promoted, t0.graduated, t0.classes_created), (32, 3, 6));
        assert_eq!(count(db, "class").await, classes, "dry run writes nothing");

        let done = yimeng_store::rollover::run(db, &actor, 2021, false)
            .await
            .unwrap();
        assert_eq!(done.total(), t0);
        assert_eq!(count(db, "class").await, classes + 6);
        let (through, empty_starting): (i64, i64) = db
            .one(Sql::new(
                "SELECT (SELECT COUNT(*) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
                 JOIN school k ON k.county_id = c.county_id AND k.id = c.school_id \
                 WHERE c.school_year = 2021 AND c.grade = 'J1' AND k.code = '2137000002' AND s.status = '01'), \
                 (SELECT COUNT(*) FROM class c JOIN school k ON k.county_id = c.county_id AND k.id = c.school_id \
                 WHERE c.school_year = 2021 AND c.grade = 'J1' AND k.code = '2137000003' AND c.head_teacher_id IS NULL)",
            ))
            .await
            .unwrap();
        assert_eq!((through, empty_starting), (2, 1));
        // Every promoted student sits in a 四年级 class of 2021.
        let (n,): (i64,) = db
            .one(Sql::new(
                "SELECT COUNT(*) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
                 WHERE c.school_year = 2021 AND c.grade = 'P4' AND s.status = '01'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 30);
        let (g, e): (i64, i64) = db
            .one(Sql::new(
                "SELECT (SELECT COUNT(*) FROM student WHERE status = '07'), \
                 (SELECT COUNT(*) FROM student_event WHERE to_status = '07' AND source = 'rollover')",
            ))
            .await
            .unwrap();
        assert_eq!((g, e), (3, 3));
        let (name,): (String,) = db
            .one(Sql::new(
                "SELECT name FROM class WHERE school_year = 2021 AND grade = 'P4' AND class_no = 2",
            ))
            .await
            .unwrap();
        assert_eq!(name, "四年级（2）班");
        assert_eq!(count(db, "rollover_run").await, 1);
        let e = yimeng_store::rollover::run(db, &actor, 2021, false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("已经执行过"), "{e}");
    }
}
