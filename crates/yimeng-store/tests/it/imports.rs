use crate::fixtures::*;
use yimeng_domain::*;
use yimeng_store::Db;
use yimeng_store::import::{
    ClassImport, Mode, Options, Report, SchoolImport, StaffImport, StudentImport,
};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

pub async fn import_schools(
    db: &Db,
    scope: &Scope,
    recs: Vec<school::SchoolRecord>,
    mode: Mode,
) -> Report {
    let mut i = SchoolImport::start(db, scope, &actor(), opts(mode))
        .await
        .unwrap();
    for (n, r) in recs.into_iter().enumerate() {
        i.push(n as u64 + 2, Ok(r)).await.unwrap();
    }
    i.finish().await.unwrap()
}

pub async fn import_staff(
    db: &Db,
    scope: &Scope,
    recs: Vec<staff::StaffRecord>,
    mode: Mode,
) -> Report {
    import_staff_opts(db, scope, recs, opts(mode)).await
}

/// As a file import does: the numbers of a chunk are looked up before its rows are pushed (a
/// small file's; nothing happens for a large one).
pub async fn import_staff_opts(
    db: &Db,
    scope: &Scope,
    recs: Vec<staff::StaffRecord>,
    opts: Options,
) -> Report {
    let mut i = StaffImport::start(db, scope, &actor(), opts).await.unwrap();
    i.look_up_keys(recs.iter()).await.unwrap();
    for (n, r) in recs.into_iter().enumerate() {
        i.push(n as u64 + 2, Ok(r)).await.unwrap();
    }
    i.finish().await.unwrap()
}

pub async fn import_classes(
    db: &Db,
    scope: &Scope,
    recs: Vec<class::ClassRecord>,
    mode: Mode,
) -> Report {
    let mut i = ClassImport::start(db, scope, &actor(), opts(mode))
        .await
        .unwrap();
    for (n, r) in recs.into_iter().enumerate() {
        i.push(n as u64 + 2, Ok(r)).await.unwrap();
    }
    i.finish().await.unwrap()
}

pub async fn import_students(
    db: &Db,
    scope: &Scope,
    recs: Vec<student::StudentRecord>,
    mode: Mode,
) -> Report {
    import_students_opts(db, scope, recs, opts(mode)).await
}

/// As [`import_staff_opts`], for students.
pub async fn import_students_opts(
    db: &Db,
    scope: &Scope,
    recs: Vec<student::StudentRecord>,
    opts: Options,
) -> Report {
    let mut i = StudentImport::start(db, scope, &actor(), opts)
        .await
        .unwrap();
    i.look_up_keys(recs.iter()).await.unwrap();
    for (n, r) in recs.into_iter().enumerate() {
        i.push(n as u64 + 2, Ok(r)).await.unwrap();
    }
    i.finish().await.unwrap()
}

pub async fn count(db: &Db, table: &str) -> i64 {
    db.scalar(Sql::new(&format!("SELECT COUNT(*) FROM {table}")))
        .await
        .unwrap()
}

/// Two schools in 兰山区 and one in 费县, a teacher, classes and 30 students.
pub async fn seed(db: &Db) {
    let r = import_schools(
        db,
        &Scope::City,
        vec![
            school("2137000001", LANSHAN, SchoolType::Primary),
            school("2137000002", LANSHAN, SchoolType::NineYear),
            school("2137000003", FEIXIAN, SchoolType::Junior),
        ],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let r = import_staff(
        db,
        &Scope::City,
        vec![staff("2137000001", &teacher_id(1))],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let mut c1 = class("2137000001", Grade::P3, 1);
    c1.head_teacher = Some(teacher_id(1));
    let r = import_classes(
        db,
        &Scope::City,
        vec![
            c1,
            class("2137000001", Grade::P3, 2),
            class("2137000002", Grade::J1, 1),
            class("2137000003", Grade::J1, 1),
        ],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let students: Vec<_> = (0..30u16)
        .map(|i| student("2137000001", Grade::P3, 1 + i32::from(i % 2), i))
        .collect();
    let r = import_students(db, &Scope::City, students, Mode::AllOrNothing).await;
    assert_eq!((r.inserted, r.rejected), (30, 0), "{r:?}");
}

#[tokio::test]
async fn a_clean_import_writes_every_table_and_a_batch_record() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        assert_eq!(count(&t.db, "school").await, 3);
        assert_eq!(count(&t.db, "school_key").await, 3);
        assert_eq!(count(&t.db, "class").await, 4);
        assert_eq!(count(&t.db, "student").await, 30);
        // Each student holds two national keys (ID number and 学籍号), the teacher one.
        assert_eq!(count(&t.db, "person_key").await, 61);
        assert_eq!(count(&t.db, "import_batch").await, 4);
        let audit: i64 =
            t.db.scalar(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'import'",
            ))
            .await
            .unwrap();
        assert_eq!(audit, 4);
    }
}

#[tokio::test]
async fn importing_the_same_records_twice_changes_nothing() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let students: Vec<_> = (0..30u16)
            .map(|i| student("2137000001", Grade::P3, 1 + i32::from(i % 2), i))
            .collect();
        let r = import_students(&t.db, &Scope::City, students, Mode::AllOrNothing).await;
        assert_eq!((r.inserted, r.updated, r.unchanged), (0, 0, 30), "{r:?}");
        let r = import_schools(
            &t.db,
            &Scope::City,
            vec![school("2137000001", LANSHAN, SchoolType::Primary)],
            Mode::AllOrNothing,
        )
        .await;
        assert_eq!((r.inserted, r.updated, r.unchanged), (0, 0, 1));
        assert_eq!(count(&t.db, "student").await, 30);
        let updates: i64 =
            t.db.scalar(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'update'",
            ))
            .await
            .unwrap();
        assert_eq!(updates, 0);
    }
}

#[tokio::test]
async fn a_changed_row_updates_the_record_and_leaves_history() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let mut s = student("2137000001", Grade::P3, 1, 0);
        s.name = "改名学生".into();
        s.status = student::StudentStatus::Stopped;
        let r = import_students(&t.db, &Scope::City, vec![s], Mode::AllOrNothing).await;
        assert_eq!((r.inserted, r.updated), (0, 1));
        let (name, status): (String, String) =
            t.db.one(Sql::new(
                "SELECT name, status FROM student WHERE name = '改名学生'",
            ))
            .await
            .unwrap();
        assert_eq!((name.as_str(), status.as_str()), ("改名学生", "04"));
        let (before, after): (String, String) = t
            .db
            .one(Sql::new("SELECT before_json, after_json FROM audit_log WHERE action = 'update' AND entity = 'student'"))
            .await
            .unwrap();
        assert!(
            before.contains("学生0") && after.contains("改名学生"),
            "{before} {after}"
        );
        assert!(
            !before.contains("guardian1_phone"),
            "unchanged fields stay out of the diff"
        );
        let (from, to, change): (Option<String>, String, String) =
            t.db.one(Sql::new(
                "SELECT from_status, to_status, change_type FROM student_event",
            ))
            .await
            .unwrap();
        assert_eq!(
            (from.as_deref(), to.as_str(), change.as_str()),
            (Some("01"), "04", "13")
        );
    }
}

#[tokio::test]
async fn one_bad_row_means_nothing_is_written_but_every_error_is_reported() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let good = student("2137000001", Grade::P3, 1, 100);
        let unknown_school = student("2137999999", Grade::P3, 1, 101);
        let no_such_class = student("2137000001", Grade::P5, 9, 102);
        let r = import_students(
            &t.db,
            &Scope::City,
            vec![good, unknown_school, no_such_class],
            Mode::AllOrNothing,
        )
        .await;
        assert!(!r.committed);
        assert_eq!(r.rejected, 2);
        assert_eq!(
            r.errors
                .iter()
                .map(|e| (e.row, e.field))
                .collect::<Vec<_>>(),
            vec![(3, "school_code"), (4, "class_no")]
        );
        assert_eq!(
            count(&t.db, "student").await,
            30,
            "the good row was not written"
        );
        assert_eq!(count(&t.db, "import_batch").await, 4);
    }
}

#[tokio::test]
async fn partial_mode_writes_the_good_rows_and_reports_the_rest() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let good = student("2137000001", Grade::P3, 1, 100);
        let bad = student("2137999999", Grade::P3, 1, 101);
        let r = import_students(&t.db, &Scope::City, vec![good, bad], Mode::Partial).await;
        assert!(r.committed);
        assert_eq!((r.inserted, r.rejected), (1, 1));
        assert_eq!(count(&t.db, "student").await, 31);
    }
}

#[tokio::test]
async fn one_person_one_number_within_the_file_and_against_the_store() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        // Same ID number twice in one file.
        let a = student("2137000001", Grade::P3, 1, 200);
        let mut b = student("2137000001", Grade::P3, 1, 200);
        b.student_no = StudentNo::parse("L371302201305041234").unwrap();
        let r = import_students(&t.db, &Scope::City, vec![a, b], Mode::AllOrNothing).await;
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].reason.contains("与第 2 行的身份证件号重复"),
            "{:?}",
            r.errors
        );
        // An ID number already held by another student under a different 学籍号.
        let mut c = student("2137000001", Grade::P3, 1, 5);
        c.student_no = StudentNo::parse("L371302201305049999").unwrap();
        let r = import_students(&t.db, &Scope::City, vec![c], Mode::AllOrNothing).await;
        assert!(r.errors[0].reason.contains("另一名学生"), "{:?}", r.errors);
        // A teacher's ID number used for a student.
        let mut d = student("2137000001", Grade::P3, 1, 300);
        d.id_card = Some(teacher_id(1));
        d.birth_date = teacher_id(1).birth_date();
        d.sex = teacher_id(1).sex();
        let r = import_students(&t.db, &Scope::City, vec![d], Mode::AllOrNothing).await;
        assert!(
            r.errors.iter().any(|e| e.reason.contains("教职工")),
            "{:?}",
            r.errors
        );
        assert_eq!(count(&t.db, "student").await, 30);
    }
}

/// A small file looks its numbers up as its rows arrive instead of loading every number of the
/// city; it is checked exactly as a large file is.
#[tokio::test]
async fn a_small_file_that_looks_its_numbers_up_is_checked_as_a_large_one() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let hints = [
            None,
            Some(4096),
            Some(yimeng_store::import::LOOKUP_KEYS_MAX_BYTES + 1),
        ];
        for (round, size_hint) in (0i64..).zip(hints) {
            let o = Options {
                size_hint,
                ..opts(Mode::AllOrNothing)
            };
            let students: Vec<_> = (0..30u16)
                .map(|i| student("2137000001", Grade::P3, 1 + i32::from(i % 2), i))
                .collect();
            let r = import_students_opts(&t.db, &Scope::City, students, o.clone()).await;
            assert_eq!((r.inserted, r.updated, r.unchanged), (0, 0, 30), "{r:?}");
            // An ID number already held by another student under a different 学籍号.
            let mut c = student("2137000001", Grade::P3, 1, 5);
            c.student_no = StudentNo::parse("L371302201305049999").unwrap();
            let r = import_students_opts(&t.db, &Scope::City, vec![c], o.clone()).await;
            assert!(r.errors[0].reason.contains("另一名学生"), "{:?}", r.errors);
            // A teacher's ID number used for a student.
            let mut d = student("2137000001", Grade::P3, 1, 300);
            d.id_card = Some(teacher_id(1));
            d.birth_date = teacher_id(1).birth_date();
            d.sex = teacher_id(1).sex();
            let r = import_students_opts(&t.db, &Scope::City, vec![d], o.clone()).await;
            assert!(
                r.errors.iter().any(|e| e.reason.contains("教职工")),
                "{:?}",
                r.errors
            );
            // A student registered in another county.
            let mut moved = student("2137000003", Grade::J1, 1, 3);
            moved.school_code = SchoolCode::parse("2137000003").unwrap();
            let r = import_students_opts(&t.db, &Scope::City, vec![moved], o.clone()).await;
            assert!(r.errors[0].reason.contains("其他县区"), "{:?}", r.errors);
            // A new student, then the same file again.
            let new = student("2137000001", Grade::P3, 1, 500 + round as u16);
            let r = import_students_opts(&t.db, &Scope::City, vec![new.clone()], o.clone()).await;
            assert_eq!(r.inserted, 1, "{r:?}");
            let r = import_students_opts(&t.db, &Scope::City, vec![new], o.clone()).await;
            assert_eq!((r.inserted, r.unchanged), (0, 1), "{r:?}");
            assert_eq!(count(&t.db, "student").await, 31 + round, "{size_hint:?}");
        }
    }
}

#[tokio::test]
async fn a_class_needs_its_stage_in_the_school_and_a_head_teacher_of_the_school() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let mut c = class("2137000001", Grade::J1, 1);
        c.head_teacher = Some(teacher_id(99));
        let r = import_classes(&t.db, &Scope::City, vec![c], Mode::AllOrNothing).await;
        let fields: Vec<_> = r.errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["grade", "head_teacher"], "{:?}", r.errors);
        assert!(r.errors[0].reason.contains("没有初中学段"));
    }
}

#[tokio::test]
async fn a_school_cannot_move_county_or_drop_a_stage_its_classes_use() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let moved = school("2137000001", FEIXIAN, SchoolType::Primary);
        let mut narrowed = school("2137000002", LANSHAN, SchoolType::NineYear);
        narrowed.stages = StageSet::of(&[Stage::Primary]);
        let r = import_schools(
            &t.db,
            &Scope::City,
            vec![moved, narrowed],
            Mode::AllOrNothing,
        )
        .await;
        assert_eq!(
            r.errors.iter().map(|e| e.field).collect::<Vec<_>>(),
            vec!["county", "stages"],
            "{:?}",
            r.errors
        );
        assert!(r.errors[0].reason.contains("兰山区"));
        assert!(r.errors[1].reason.contains("初中"));
    }
}

#[tokio::test]
async fn a_student_registered_in_another_county_is_refused_as_a_transfer() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let mut moved = student("2137000003", Grade::J1, 1, 3);
        moved.school_code = SchoolCode::parse("2137000003").unwrap();
        let r = import_students(&t.db, &Scope::City, vec![moved], Mode::AllOrNothing).await;
        assert!(r.errors[0].reason.contains("其他县区"), "{:?}", r.errors);
    }
}

#[tokio::test]
async fn compulsory_students_cannot_be_expelled() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let mut s = student("2137000001", Grade::P3, 1, 400);
        s.status = student::StudentStatus::Expelled;
        let r = import_students(&t.db, &Scope::City, vec![s], Mode::AllOrNothing).await;
        assert!(r.errors[0].reason.contains("义务教育"), "{:?}", r.errors);
    }
}

#[tokio::test]
async fn stats_count_schools_classes_students_and_staff_per_county_and_type() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let s = yimeng_store::stats::compute(&t.db, &Scope::City)
            .await
            .unwrap();
        let lanshan = &s.by_county()[&LANSHAN];
        assert_eq!(
            (
                lanshan.schools,
                lanshan.classes,
                lanshan.students_total(),
                lanshan.staff_current
            ),
            (2, 3, 30, 1)
        );
        assert_eq!(s.by_type()["primary"].students["01"], 30);
        let fei =
            yimeng_store::stats::compute(&t.db, &Scope::County(RegionCode::from_i32(FEIXIAN)))
                .await
                .unwrap();
        assert_eq!(fei.total().schools, 1);
        assert_eq!(fei.total().students_total(), 0);
    }
}
