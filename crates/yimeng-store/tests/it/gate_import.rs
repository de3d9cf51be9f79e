//! The class-size gate in student imports: rows are counted with the class's students in the
//! store plus the file's rows accepted before them, and the row that would make a class too big is
//! refused, naming its row, class and limit; warnings above the standard size do not refuse.

use crate::fixtures::*;
use crate::imports::{import_students, seed};
use yimeng_domain::*;
use yimeng_store::Db;
use yimeng_store::import::Mode;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn class_size(db: &Db, school: &str, grade: Grade) -> i64 {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
         JOIN school k ON k.county_id = c.county_id AND k.id = c.school_id WHERE k.code = ",
    );
    q.bind(school)
        .push(" AND c.grade = ")
        .bind(grade.code())
        .push(" AND c.class_no = 1");
    db.scalar(q).await.unwrap()
}

fn into_class_1(
    school: &str,
    grade: Grade,
    seqs: std::ops::Range<u16>,
) -> Vec<student::StudentRecord> {
    seqs.map(|i| {
        let mut s = student(school, grade, 1, i);
        s.class = Some(student::ClassRef {
            year: SchoolYear::from_start(2020),
            grade,
            class_no: 1,
        });
        s
    })
    .collect()
}

#[tokio::test]
async fn an_import_refuses_the_row_that_would_make_a_class_of_56_and_writes_nothing() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        // 三年级（1）班 has 15 students: 41 more would make 56.
        assert_eq!(class_size(db, "2137000001", Grade::P3).await, 15);
        let rows = into_class_1("2137000001", Grade::P3, 100..141);
        let r = import_students(db, &Scope::City, rows.clone(), Mode::AllOrNothing).await;
        assert!(!r.committed);
        assert_eq!(r.rejected, 1, "{r:?}");
        let e = &r.errors[0];
        assert_eq!((e.row, e.field), (42, "class_no"), "{e:?}");
        assert!(
            e.reason.contains("三年级（1）班")
                && e.reason.contains("56")
                && e.reason.contains("大班额"),
            "{}",
            e.reason
        );
        assert_eq!(
            class_size(db, "2137000001", Grade::P3).await,
            15,
            "nothing written"
        );
        // Partially: the 40 that fit are written (with warnings above 45), the 56th is not.
        let r = import_students(db, &Scope::City, rows, Mode::Partial).await;
        assert!(r.committed);
        assert_eq!((r.inserted, r.rejected), (40, 1), "{r:?}");
        assert!(
            r.warnings.iter().any(|w| w.contains("小学标准班额 45")),
            "{:?}",
            r.warnings
        );
        assert_eq!(class_size(db, "2137000001", Grade::P3).await, 55);
        // A later file with one more: refused at its own row 2, counted with the store.
        let r = import_students(
            db,
            &Scope::City,
            into_class_1("2137000001", Grade::P3, 200..201),
            Mode::AllOrNothing,
        )
        .await;
        assert_eq!((r.rejected, r.errors[0].row), (1, 2), "{r:?}");
        // Re-importing the students already in the class places nobody: unchanged, no refusal.
        let r = import_students(
            db,
            &Scope::City,
            into_class_1("2137000001", Grade::P3, 100..140),
            Mode::AllOrNothing,
        )
        .await;
        assert!(r.committed && r.rejected == 0, "{r:?}");
        assert_eq!(r.unchanged, 40);
    }
}

#[tokio::test]
async fn an_import_refuses_the_56th_student_of_a_starting_grade_class() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let rows = into_class_1("2137000002", Grade::J1, 300..356);
        let r = import_students(db, &Scope::City, rows, Mode::AllOrNothing).await;
        assert_eq!(r.rejected, 1, "{r:?}");
        let e = &r.errors[0];
        assert_eq!(e.row, 57);
        assert!(
            e.reason.contains("七年级") && e.reason.contains("起始年级") && e.reason.contains("55"),
            "{}",
            e.reason
        );
        assert_eq!(class_size(db, "2137000002", Grade::J1).await, 0);
    }
}
