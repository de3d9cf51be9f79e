//! A student file import checks the whole file with no write transaction open, then writes in
//! short transactions: what changed in between is re-checked at write time, and a refused or
//! failed write pass leaves nothing behind.

use crate::fixtures::*;
use crate::imports::{count, import_students, seed};
use chrono::{Duration, NaiveDate};
use yimeng_domain::student::StudentRecord;
use yimeng_domain::*;
use yimeng_store::import::{GateOptions, Mode, StudentImport};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

/// The `i`-th of many distinct students of school 2137000001 (grade 3, class 1).
fn many(i: u32) -> StudentRecord {
    let birth = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap() + Duration::days(i64::from(i / 1000));
    let mut s = student("2137000001", Grade::P3, 1, 0);
    let id = IdCardNo::compose(371302, birth, (i % 1000) as u16);
    s.name = format!("学生{i}");
    s.sex = id.sex();
    s.birth_date = id.birth_date();
    s.student_no = StudentNo::from_id_card(&id);
    s.id_card = Some(id);
    s
}

/// Starts an import of `n` new students (several write transactions' worth) and checks them all;
/// the caller finishes it.
async fn checked(db: &yimeng_store::Db, n: u32) -> StudentImport {
    let mut i = StudentImport::start_gated(
        db,
        &Scope::City,
        &actor(),
        opts(Mode::AllOrNothing),
        GateOptions::off(),
    )
    .await
    .unwrap();
    // 2000.. : clear of the 30 seeded students (born 2013-05-04).
    for k in 0..n {
        i.push(u64::from(k) + 2, Ok(many(2000 + k))).await.unwrap();
    }
    i
}

async fn pending_batches(db: &yimeng_store::Db) -> i64 {
    db.scalar(Sql::new(
        "SELECT COUNT(*) FROM import_batch WHERE state <> 'done'",
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn a_number_registered_between_the_check_and_the_write_undoes_the_whole_import() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let (students, keys, batches) = (
            count(&t.db, "student").await,
            count(&t.db, "person_key").await,
            count(&t.db, "import_batch").await,
        );
        let imp = checked(&t.db, 12_000).await;
        // Checked, nothing written yet: the writer is free and the new records are not there.
        assert_eq!(count(&t.db, "student").await, students);
        // Meanwhile someone registers the student of row 9,002 (the 9,001st of the file).
        let r = import_students(
            &t.db,
            &Scope::City,
            vec![many(2000 + 9000)],
            Mode::AllOrNothing,
        )
        .await;
        assert!(r.committed, "{r:?}");
        let r = imp.finish().await.unwrap();
        assert!(!r.committed, "{r:?}");
        assert_eq!((r.inserted, r.updated), (0, 0), "{r:?}");
        let e = &r.errors[0];
        assert_eq!(e.row, 9002, "{:?}", r.errors);
        assert!(e.reason.contains("检查之后已被登记"), "{}", e.reason);
        // Nothing of the undone import is left: records, keys, batch.
        assert_eq!(count(&t.db, "student").await, students + 1);
        assert_eq!(count(&t.db, "person_key").await, keys + 2);
        assert_eq!(count(&t.db, "import_batch").await, batches + 1);
        assert_eq!(pending_batches(&t.db).await, 0);
        // The undo is audited on SQLite, where the new records had been committed.
        if t.backend() == yimeng_store::Backend::Sqlite {
            let undone =
                t.db.scalar(Sql::new(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'import_undone'",
                ))
                .await
                .unwrap();
            assert_eq!(undone, 1);
        }
        // The same file again, now without the taken row, goes in whole.
        let mut imp = checked(&t.db, 0).await;
        for k in (0..12_000u32).filter(|k| *k != 9000) {
            imp.push(u64::from(k) + 2, Ok(many(2000 + k)))
                .await
                .unwrap();
        }
        let r = imp.finish().await.unwrap();
        assert!(r.committed, "{r:?}");
        assert_eq!(r.inserted, 11_999);
        assert_eq!(count(&t.db, "student").await, students + 12_000);
        assert_eq!(count(&t.db, "person_key").await, keys + 24_000);
        assert_eq!(pending_batches(&t.db).await, 0);
    }
}

#[tokio::test]
async fn a_record_changed_between_the_check_and_the_write_is_not_overwritten() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let mut s = student("2137000001", Grade::P3, 1, 0);
        s.name = "导入改名".into();
        let mut imp = StudentImport::start(&t.db, &Scope::City, &actor(), opts(Mode::AllOrNothing))
            .await
            .unwrap();
        imp.push(2, Ok(s)).await.unwrap();
        imp.push(3, Ok(many(5000))).await.unwrap();
        // Someone corrects the same student after the check.
        let mut other = student("2137000001", Grade::P3, 1, 0);
        other.name = "另一次修改".into();
        let r = import_students(&t.db, &Scope::City, vec![other], Mode::AllOrNothing).await;
        assert_eq!(r.updated, 1, "{r:?}");
        let r = imp.finish().await.unwrap();
        assert!(!r.committed, "{r:?}");
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert_eq!(r.errors[0].row, 2);
        assert!(r.errors[0].reason.contains("已被修改"), "{:?}", r.errors);
        let names: i64 =
            t.db.scalar(Sql::new(
                "SELECT COUNT(*) FROM student WHERE name IN ('另一次修改', '学生5000')",
            ))
            .await
            .unwrap();
        assert_eq!(
            names, 1,
            "the later correction stays, the new record is gone"
        );
        assert_eq!(pending_batches(&t.db).await, 0);
    }
}

#[tokio::test]
async fn what_an_import_stopped_during_its_write_pass_left_is_removed_by_the_next_one() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        // The seeded students' batch, as a process killed during its write pass leaves it:
        // pending, and not marked alive for an hour.
        let (batch,): (i64,) =
            t.db.one(Sql::new(
                "SELECT id FROM import_batch WHERE entity = 'student'",
            ))
            .await
            .unwrap();
        let mut q = Sql::new("UPDATE import_batch SET state = 'pending', finished_at = ");
        q.bind(chrono::Utc::now() - chrono::Duration::hours(1))
            .push(" WHERE id = ")
            .bind(batch);
        t.db.exec(q).await.unwrap();
        // A pending batch that is still alive (another import writing right now) stays.
        let r = import_students(&t.db, &Scope::City, vec![many(7000)], Mode::AllOrNothing).await;
        assert!(r.committed, "{r:?}");
        let mut q = Sql::new("UPDATE import_batch SET state = 'pending', finished_at = ");
        q.bind(chrono::Utc::now())
            .push(" WHERE id = ")
            .bind(r.batch_id.unwrap());
        t.db.exec(q).await.unwrap();
        let r = import_students(&t.db, &Scope::City, vec![many(7001)], Mode::AllOrNothing).await;
        assert!(r.committed, "{r:?}");
        // The stale batch's 30 students and their 60 keys are gone; the live one's stay.
        assert_eq!(count(&t.db, "student").await, 2);
        assert_eq!(count(&t.db, "person_key").await, 1 + 4);
        assert_eq!(pending_batches(&t.db).await, 1);
        let undone =
            t.db.scalar(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'import_undone'",
            ))
            .await
            .unwrap();
        assert_eq!(undone, 1);
    }
}
