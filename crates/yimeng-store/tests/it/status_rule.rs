//! The rule for a status written directly (forms, the API, file imports, the rollover): a change
//! that needs the county bureau's approval (休学, 复学, 辍学 of a compulsory-stage student) is
//! refused on every path for every role; only an approved 学籍异动 request makes it. Loading a
//! registry as it stands (`--as-is`) keeps its statuses.

use crate::fixtures::*;
use crate::imports::{count, import_classes, import_schools, import_students, seed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use yimeng_domain::student::{StudentRecord, StudentStatus};
use yimeng_domain::*;
use yimeng_store::Db;
use yimeng_store::edit::{Saved, save_student};
use yimeng_store::import::{GateOptions, Mode, Report, RowError, StudentImport};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

const NEEDS: &str = "须经县区教育局审批，请提交学籍异动申请";
const SENIOR: &str = "2137000004";

/// Loads students as they stand (the first load).
async fn load_as_is(db: &Db, recs: Vec<StudentRecord>) -> Report {
    let mut i = StudentImport::start_gated(
        db,
        &Scope::City,
        &actor(),
        opts(Mode::AllOrNothing),
        GateOptions::as_is(),
    )
    .await
    .unwrap();
    for (n, r) in recs.into_iter().enumerate() {
        i.push(n as u64 + 2, Ok(r)).await.unwrap();
    }
    i.finish().await.unwrap()
}

/// The seed plus a senior school with one 高一 class.
async fn seed_with_senior(db: &Db) {
    seed(db).await;
    let r = import_schools(
        db,
        &Scope::City,
        vec![school(SENIOR, LANSHAN, SchoolType::Senior)],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let r = import_classes(
        db,
        &Scope::City,
        vec![class(SENIOR, Grade::S1, 1)],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
}

async fn stored(db: &Db, no: &str) -> Option<(String, Option<i64>, i64)> {
    let mut q = Sql::new("SELECT status, class_id, id FROM student WHERE student_no = ");
    q.bind(no);
    db.opt(q).await.unwrap()
}

async fn school_id(db: &Db, code: &str) -> i64 {
    let mut q = Sql::new("SELECT id FROM school WHERE code = ");
    q.bind(code);
    db.scalar(q).await.unwrap()
}

fn refusals(errors: &[RowError]) -> Vec<&RowError> {
    errors.iter().filter(|e| e.reason.contains(NEEDS)).collect()
}

/// The rule, written out independently of the code under test.
fn needs_approval(from: Option<StudentStatus>, to: StudentStatus, compulsory: bool) -> bool {
    use StudentStatus::*;
    compulsory
        && from != Some(to)
        && (matches!(to, Suspended | Resumed | DroppedOut)
            || (matches!(from, Some(Suspended | DroppedOut)) && to != Deceased))
}

#[derive(Debug, Clone, Copy)]
enum Role {
    School,
    County,
    City,
}

#[derive(Debug, Clone, Copy)]
enum Path {
    /// A form or API save of an existing student.
    Edit,
    /// A new student from a form or the API.
    Create,
    /// A file import, all-or-nothing.
    ImportAll,
    /// A file import, partial (with a good row beside).
    ImportPartial,
}

#[test]
fn every_role_and_path_is_held_to_the_approval_rule() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = rt.block_on(TestDb::sqlite());
    let db = &t.db;
    rt.block_on(seed_with_senior(db));
    let primary = rt.block_on(school_id(db, "2137000001"));
    let senior = rt.block_on(school_id(db, SENIOR));
    let seq = Cell::new(300u16);
    let next = || {
        seq.set(seq.get() + 1);
        seq.get()
    };
    let statuses = StudentStatus::ALL.to_vec();
    let from_statuses = vec![
        StudentStatus::Enrolled,
        StudentStatus::Suspended,
        StudentStatus::Resumed,
        StudentStatus::DroppedOut,
    ];
    let strategy = (
        prop_oneof![Just(Role::School), Just(Role::County), Just(Role::City)],
        prop_oneof![
            Just(Path::Edit),
            Just(Path::Create),
            Just(Path::ImportAll),
            Just(Path::ImportPartial)
        ],
        proptest::sample::select(from_statuses),
        proptest::sample::select(statuses),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(role, path, from, to, compulsory)| {
            rt.block_on(async {
                let (code, grade, sid) = if compulsory {
                    ("2137000001", Grade::P3, primary)
                } else {
                    (SENIOR, Grade::S1, senior)
                };
                let scope = match role {
                    Role::School => Scope::School(SchoolRef {
                        county: RegionCode::from_i32(LANSHAN),
                        id: sid,
                    }),
                    Role::County => Scope::County(RegionCode::from_i32(LANSHAN)),
                    Role::City => Scope::City,
                };
                // The student as the registry holds it.
                let mut rec = student(code, grade, 1, next());
                rec.status = from;
                let r = load_as_is(db, vec![rec.clone()]).await;
                assert!(r.committed && r.rejected == 0, "{r:?}");
                let no = rec.student_no.to_string();
                let before = stored(db, &no).await.unwrap();
                rec.status = to;
                let (errors, checked_no, was) = match path {
                    Path::Edit => {
                        let out = save_student(
                            db,
                            &scope,
                            &actor(),
                            rec,
                            Some(before.2),
                            Some("测试".into()),
                        )
                        .await
                        .unwrap();
                        let errs = match out {
                            Saved::Ok(_) => vec![],
                            Saved::Invalid(e) => e
                                .into_iter()
                                .map(|e| RowError {
                                    row: 1,
                                    field: e.field,
                                    value: e.value,
                                    reason: e.reason,
                                })
                                .collect(),
                        };
                        (errs, no, Some(from))
                    }
                    Path::Create => {
                        let mut new = student(code, grade, 1, next());
                        new.status = to;
                        let no = new.student_no.to_string();
                        let out = save_student(db, &scope, &actor(), new, None, None)
                            .await
                            .unwrap();
                        let errs = match out {
                            Saved::Ok(_) => vec![],
                            Saved::Invalid(e) => e
                                .into_iter()
                                .map(|e| RowError {
                                    row: 1,
                                    field: e.field,
                                    value: e.value,
                                    reason: e.reason,
                                })
                                .collect(),
                        };
                        (errs, no, None)
                    }
                    Path::ImportAll => {
                        let r = import_students(db, &scope, vec![rec], Mode::AllOrNothing).await;
                        (r.errors, no, Some(from))
                    }
                    Path::ImportPartial => {
                        let good = student(code, grade, 1, next());
                        let good_no = good.student_no.to_string();
                        let r = import_students(db, &scope, vec![good, rec], Mode::Partial).await;
                        // The good row is written whatever happens to the other.
                        assert!(stored(db, &good_no).await.is_some(), "{r:?}");
                        assert!(r.errors.iter().all(|e| e.row == 3), "{r:?}");
                        (r.errors, no, Some(from))
                    }
                };
                let refused = refusals(&errors);
                let after = stored(db, &checked_no).await;
                if needs_approval(was, to, compulsory) {
                    let kind = yimeng_domain::status_change::change_kind_of(was, to).unwrap();
                    assert_eq!(
                        refused.len(),
                        1,
                        "{role:?} {path:?} {was:?}→{to:?}: {errors:?}"
                    );
                    assert_eq!(refused[0].field, "status");
                    assert_eq!(
                        refused[0].reason,
                        format!("义务教育阶段学生{}{NEEDS}", kind.label())
                    );
                    // Nothing written.
                    match was {
                        Some(_) => assert_eq!(after, Some(before.clone())),
                        None => assert_eq!(after, None),
                    }
                } else {
                    assert!(
                        refused.is_empty(),
                        "{role:?} {path:?} {was:?}→{to:?}: {errors:?}"
                    );
                    if errors.is_empty() {
                        assert_eq!(after.map(|a| a.0), Some(to.code().to_string()));
                    }
                }
            });
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn an_import_with_a_dropout_row_is_refused_whole_or_that_row_in_partial_mode() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let mut gone = student("2137000001", Grade::P3, 1, 3);
        gone.status = StudentStatus::DroppedOut;
        let renamed = {
            let mut s = student("2137000001", Grade::P3, 2, 4);
            s.name = "改名学生".into();
            s
        };
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let r = import_students(
            db,
            &lan,
            vec![renamed.clone(), gone.clone()],
            Mode::AllOrNothing,
        )
        .await;
        assert!(!r.committed || (r.inserted, r.updated) == (0, 0), "{r:?}");
        assert_eq!(r.rejected, 1);
        assert_eq!(
            (
                r.errors[0].row,
                r.errors[0].field,
                r.errors[0].reason.as_str()
            ),
            (
                3,
                "status",
                "义务教育阶段学生辍学须经县区教育局审批，请提交学籍异动申请"
            )
        );
        let no = gone.student_no.to_string();
        assert_eq!(stored(db, &no).await.unwrap().0, "01");
        let n: i64 = db
            .scalar(Sql::new(
                "SELECT COUNT(*) FROM student WHERE name = '改名学生'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 0, "all or nothing: the good row is not written either");
        assert_eq!(count(db, "student_event").await, 0);

        let r = import_students(db, &lan, vec![renamed, gone], Mode::Partial).await;
        assert_eq!((r.updated, r.rejected), (1, 1), "{r:?}");
        assert_eq!(stored(db, &no).await.unwrap().0, "01");
        let n: i64 = db
            .scalar(Sql::new(
                "SELECT COUNT(*) FROM student WHERE name = '改名学生'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}

#[tokio::test]
async fn a_form_save_cannot_suspend_or_end_a_suspension_but_the_first_load_keeps_it() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let mut s = student("2137000001", Grade::P3, 1, 5);
        let no = s.student_no.to_string();
        let (_, class, id) = stored(db, &no).await.unwrap();
        s.status = StudentStatus::Suspended;
        let out = save_student(db, &lan, &actor(), s.clone(), Some(id), Some("病休".into()))
            .await
            .unwrap();
        let Saved::Invalid(e) = out else {
            panic!("saved: {out:?}")
        };
        assert_eq!(e[0].field, "status");
        assert!(e[0].reason.contains("休学须经县区教育局审批"), "{e:?}");
        assert_eq!(stored(db, &no).await.unwrap(), ("01".into(), class, id));
        // A new compulsory-stage record cannot start as 休学 either…
        let mut new = student("2137000001", Grade::P3, 1, 900);
        new.status = StudentStatus::Suspended;
        let r = import_students(db, &lan, vec![new.clone()], Mode::AllOrNothing).await;
        assert_eq!(r.rejected, 1, "{r:?}");
        // …except in the first load of a registry as it stands.
        let r = load_as_is(db, vec![new.clone()]).await;
        assert_eq!((r.inserted, r.rejected), (1, 0), "{r:?}");
        let new_no = new.student_no.to_string();
        let (status, _, new_id) = stored(db, &new_no).await.unwrap();
        assert_eq!(status, "02");
        // Ending the suspension by writing 在读 is a 复学: refused too.
        new.status = StudentStatus::Enrolled;
        let out = save_student(db, &lan, &actor(), new, Some(new_id), Some("返校".into()))
            .await
            .unwrap();
        let Saved::Invalid(e) = out else {
            panic!("saved: {out:?}")
        };
        assert!(e[0].reason.contains("复学须经县区教育局审批"), "{e:?}");
        assert_eq!(stored(db, &new_no).await.unwrap().0, "02");
    }
}

#[tokio::test]
async fn a_new_student_with_an_existing_number_is_refused_and_the_record_keeps_its_class() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let existing = student("2137000001", Grade::P3, 1, 6);
        let no = existing.student_no.to_string();
        let before = stored(db, &no).await.unwrap();
        assert!(before.1.is_some());
        // The new-student form carries no class; the status is 辍学 or plain 在读.
        for status in [StudentStatus::DroppedOut, StudentStatus::Enrolled] {
            let mut s = existing.clone();
            s.class = None;
            s.name = "覆盖者".into();
            s.status = status;
            let out = save_student(db, &lan, &actor(), s, None, None)
                .await
                .unwrap();
            let Saved::Invalid(e) = out else {
                panic!("saved: {out:?}")
            };
            assert!(
                e.iter()
                    .any(|e| e.field == "student_no" && e.reason.contains("不能重复新增")),
                "{e:?}"
            );
            assert_eq!(stored(db, &no).await.unwrap(), before);
        }
        let n: i64 = db
            .scalar(Sql::new(
                "SELECT COUNT(*) FROM student WHERE name = '覆盖者'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
}

#[tokio::test]
async fn the_rollover_graduates_no_suspended_student() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let r = import_classes(
            db,
            &Scope::City,
            vec![class("2137000001", Grade::P6, 1)],
            Mode::AllOrNothing,
        )
        .await;
        assert!(r.committed, "{r:?}");
        let sixth: Vec<_> = [
            StudentStatus::Enrolled,
            StudentStatus::Suspended,
            StudentStatus::Resumed,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, st)| {
            let mut s = student("2137000001", Grade::P6, 1, 700 + i as u16);
            s.status = st;
            s
        })
        .collect();
        let nos: Vec<String> = sixth.iter().map(|s| s.student_no.to_string()).collect();
        let r = load_as_is(db, sixth).await;
        assert_eq!(r.inserted, 3, "{r:?}");
        let dry = yimeng_store::rollover::run(db, &actor(), 2021, true)
            .await
            .unwrap();
        assert_eq!(dry.total().graduated, 2);
        let done = yimeng_store::rollover::run(db, &actor(), 2021, false)
            .await
            .unwrap();
        assert_eq!(done.total().graduated, 2);
        let mut statuses = Vec::new();
        for no in &nos {
            statuses.push(stored(db, no).await.unwrap().0);
        }
        assert_eq!(statuses, ["07", "02", "07"]);
        let (n,): (i64,) = db
            .one(Sql::new(
                "SELECT COUNT(*) FROM student_event WHERE source = 'rollover' AND from_status = '02'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
}
