//! Student-status services: transfers across counties on the working-day calendar, the class-size
//! gate, status-change requests, the catalogue and the calendar seed.

use crate::fixtures::*;
use crate::imports::*;
use chrono::NaiveDate;
use yimeng_domain::calendar::{HOLIDAY_SEED, WorkCalendar};
use yimeng_domain::transfer::Initiator;
use yimeng_domain::*;
use yimeng_store::import::Mode;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_store::transfer::{self, Decision, NewTransfer};
use yimeng_store::{Db, StoreError};
use yimeng_testkit::TestDb;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn school_id(db: &Db, code: &str) -> (i32, i64) {
    let mut q = Sql::new("SELECT county_id, id FROM school WHERE code = ");
    q.bind(code);
    db.one(q).await.unwrap()
}

async fn class_id(db: &Db, school: i64, grade: Grade, no: i32) -> i64 {
    let mut q = Sql::new("SELECT id FROM class WHERE school_id = ");
    q.bind(school)
        .push(" AND grade = ")
        .bind(grade.code())
        .push(" AND class_no = ")
        .bind(no);
    db.one::<(i64,)>(q).await.unwrap().0
}

/// The seed plus a primary school in 费县 with a grade-3 class.
async fn seed_two_counties(db: &Db) -> (SchoolRef, SchoolRef, i64) {
    seed(db).await;
    let r = import_schools(
        db,
        &Scope::City,
        vec![school("2137000004", FEIXIAN, SchoolType::Primary)],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let r = import_classes(
        db,
        &Scope::City,
        vec![class("2137000004", Grade::P3, 1)],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let (c1, s1) = school_id(db, "2137000001").await;
    let (c4, s4) = school_id(db, "2137000004").await;
    let class = class_id(db, s4, Grade::P3, 1).await;
    (
        SchoolRef {
            county: RegionCode::from_i32(c1),
            id: s1,
        },
        SchoolRef {
            county: RegionCode::from_i32(c4),
            id: s4,
        },
        class,
    )
}

fn request(student: u16, to: SchoolRef, class: Option<i64>) -> NewTransfer {
    let rec = student_rec(student);
    NewTransfer {
        student_no: rec.student_no.to_string(),
        id_card: rec.id_card.unwrap().to_string(),
        to_county: to.county.get(),
        to_school: to.id,
        to_class: class,
        started_by: Initiator::ReceivingSchool,
        reason: "随父母迁居费县".into(),
        materials: vec![],
        applicant_phone: None,
    }
}

fn student_rec(seq: u16) -> student::StudentRecord {
    student("2137000001", Grade::P3, 1 + i32::from(seq % 2), seq)
}

async fn student_row(db: &Db, seq: u16) -> (i32, i64, i64, Option<i64>, String) {
    let mut q = Sql::new(
        "SELECT county_id, id, school_id, class_id, status FROM student WHERE student_no = ",
    );
    q.bind(student_rec(seq).student_no.to_string())
        .push(" ORDER BY status");
    db.one(q).await.unwrap()
}

#[tokio::test]
async fn calendar_seed_in_the_migration_is_the_domain_seed() {
    for t in TestDb::each().await {
        let cal = yimeng_store::calendar::load(&t.db).await.unwrap();
        let rows = yimeng_store::calendar::list(&t.db, None).await.unwrap();
        assert_eq!(rows.len(), HOLIDAY_SEED.len());
        for s in HOLIDAY_SEED {
            assert!(
                rows.iter()
                    .any(|r| r.day == s.date && r.kind == s.kind.code() && r.name == s.name),
                "{s:?} missing"
            );
        }
        let seeded = WorkCalendar::seeded();
        for day in d(2026, 1, 1).iter_days().take(365) {
            assert_eq!(cal.is_working_day(day), seeded.is_working_day(day), "{day}");
        }
        let items = yimeng_store::catalogue::list(&t.db).await.unwrap();
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "小学一年级入学",
                "初中入学",
                "随迁子女入学",
                "转学",
                "休学",
                "复学",
                "学籍信息变更"
            ]
        );
    }
}

#[tokio::test]
async fn a_transfer_across_two_counties_moves_the_record_only_at_the_final_approval() {
    for t in TestDb::each().await {
        let db = &t.db;
        let (s1, s4, class4) = seed_two_counties(db).await;
        let rules = Rules::default();
        let cal = yimeng_store::calendar::load(db).await.unwrap();
        let receiving = Scope::School(s4);
        let sending = Scope::School(s1);
        let lanshan = Scope::County(s1.county);
        let feixian = Scope::County(s4.county);
        let other_school = Scope::School(SchoolRef {
            county: s1.county,
            id: s1.id + 1000,
        });
        // Started on the eve of the National Day holiday: 10 working days end on 20 October
        // (1–7 October off, Saturday 10 October a make-up working day).
        let opened = d(2026, 9, 30);
        let r = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, opened),
            request(4, s4, Some(class4)),
        )
        .await
        .unwrap();
        assert_eq!(r.state, "pending");
        assert_eq!(r.step_deadline, Some(d(2026, 10, 20)));
        assert_eq!(r.approver_county, Some(FEIXIAN));
        assert_eq!(r.approver_school, None);
        // A second request for the same student is refused.
        let e = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, opened),
            request(4, s4, None),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");

        // Not a party: not found. A party whose step it is not: forbidden, in Chinese.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &other_school, &rules, &cal, opened),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lanshan, &rules, &cal, opened),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Forbidden(m) if m.contains("无权审批")),
            "{e:?}"
        );

        // Overdue on 21 October: listed for the county, and the decision records it.
        let overdue = transfer::list(db, &feixian, false, Some(d(2026, 10, 21)), 50)
            .await
            .unwrap();
        assert_eq!(overdue.len(), 1);
        assert!(
            transfer::list(db, &feixian, false, Some(d(2026, 10, 20)), 50)
                .await
                .unwrap()
                .is_empty()
        );
        let r = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &feixian, &rules, &cal, d(2026, 10, 21)),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!((r.step, r.approver_school), (1, Some(s1.id)));
        // The next step's deadline counts from the day it opened (Wednesday 21 → 4 November).
        assert_eq!(r.step_deadline, Some(d(2026, 11, 4)));
        // Double submission of the same approval.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &feixian, &rules, &cal, d(2026, 10, 21)),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("不能重复审批")),
            "{e:?}"
        );
        // A refusal needs a reason.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, d(2026, 10, 22)),
            r.county_id,
            r.id,
            Decision::Refuse("  ".into()),
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("理由")),
            "{e:?}"
        );

        let before = student_row(db, 4).await;
        assert_eq!(
            (before.0, before.2, before.4.as_str()),
            (LANSHAN, s1.id, "01")
        );
        let r = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, d(2026, 10, 22)),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.approver_county, Some(LANSHAN));
        // Still nothing changed in the registry.
        assert_eq!(student_row(db, 4).await, before);
        assert_eq!(count(db, "student_event").await, 0);

        let r = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lanshan, &rules, &cal, d(2026, 10, 23)),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.state, "completed");
        let new_id = r.new_student_id.unwrap();
        // Closed in 兰山区, opened in 费县 in class 4-3-1, the national keys moved owner.
        let mut q = Sql::new(
            "SELECT county_id, id, school_id, class_id, status FROM student WHERE student_no = ",
        );
        q.bind(student_rec(4).student_no.to_string())
            .push(" ORDER BY county_id");
        let rows: Vec<(i32, i64, i64, Option<i64>, String)> = db.all(q).await.unwrap();
        assert_eq!(
            rows,
            vec![
                (LANSHAN, before.1, s1.id, None, "10".to_string()),
                (FEIXIAN, new_id, s4.id, Some(class4), "01".to_string()),
            ]
        );
        let keys: Vec<(i32, i64)> = db
            .all({
                let mut q = Sql::new("SELECT county_id, owner_id FROM person_key WHERE owner = 'student' AND value IN ");
                let rec = student_rec(4);
                q.bind_list([rec.student_no.to_string(), rec.id_card.unwrap().to_string()]);
                q
            })
            .await
            .unwrap();
        assert_eq!(keys, vec![(FEIXIAN, new_id), (FEIXIAN, new_id)]);
        let events: Vec<(i32, String, String)> = db
            .all(Sql::new(
                "SELECT county_id, change_type, reason FROM student_event ORDER BY county_id",
            ))
            .await
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].0, events[0].1.as_str()), (LANSHAN, "21"));
        assert_eq!((events[1].0, events[1].1.as_str()), (FEIXIAN, "22"));
        assert!(
            events[1]
                .2
                .contains(&format!("原记录 {LANSHAN}/{}", before.1)),
            "{}",
            events[1].2
        );
        let acts = transfer::actions(db, &r).await.unwrap();
        assert_eq!(
            acts.iter().map(|a| a.overdue).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(count(db, "audit_log").await >= 6);
        // Closed: nothing more can be done.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lanshan, &rules, &cal, d(2026, 10, 23)),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    }
}

#[tokio::test]
async fn a_transfer_for_a_student_not_on_the_register_or_unknown_is_refused_and_writes_nothing() {
    for t in TestDb::each().await {
        let db = &t.db;
        let (_s1, s4, _) = seed_two_counties(db).await;
        let rules = Rules::default();
        let cal = WorkCalendar::seeded();
        let receiving = Scope::School(s4);
        let mut bad = request(4, s4, None);
        bad.id_card = student_rec(5).id_card.unwrap().to_string();
        let e = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, d(2026, 3, 2)),
            bad,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("未找到")),
            "{e:?}"
        );
        db.exec(Sql::new(
            "UPDATE student SET status = '06' WHERE name = '学生6'",
        ))
        .await
        .unwrap();
        let e = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, d(2026, 3, 2)),
            request(6, s4, None),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("不在籍")),
            "{e:?}"
        );
        // A school cannot start a request for another school.
        let e = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &Scope::School(_s1), &rules, &cal, d(2026, 3, 2)),
            request(4, s4, None),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        // A receiving school without the student's stage is refused.
        let mut q = Sql::new("UPDATE school SET stages = 'senior' WHERE county_id = ");
        q.bind(s4.county.get()).push(" AND id = ").bind(s4.id);
        db.exec(q).await.unwrap();
        let e = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, d(2026, 3, 2)),
            request(4, s4, None),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("学段")),
            "{e:?}"
        );
        assert_eq!(count(db, "transfer_request").await, 0);
    }
}

async fn fill_class(db: &Db, school: &str, grade: Grade, n: u16, start: u16) {
    let recs: Vec<_> = (start..start + n)
        .map(|i| {
            let mut s = student(school, grade, 1, i);
            s.class = Some(student::ClassRef {
                year: SchoolYear::from_start(2020),
                grade,
                class_no: 1,
            });
            s
        })
        .collect();
    let r = import_students(db, &Scope::City, recs, Mode::AllOrNothing).await;
    assert!(r.committed, "{r:?}");
}

#[tokio::test]
async fn the_gate_refuses_the_56th_student_and_a_county_may_override_with_a_reason() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        // 初中 grade 7 (a starting grade) at 2137000002: 55 students.
        fill_class(db, "2137000002", Grade::J1, 55, 100).await;
        let (county, school) = school_id(db, "2137000002").await;
        let class = class_id(db, school, Grade::J1, 1).await;
        let rules = Rules::default();
        let lanshan = Scope::County(RegionCode::from_i32(county));
        let mut tx = db.begin().await.unwrap();
        let e = yimeng_store::gate::enforce(
            &mut tx,
            &actor(),
            &Scope::School(SchoolRef {
                county: RegionCode::from_i32(county),
                id: school,
            }),
            &rules,
            &yimeng_store::gate::Placing {
                county,
                class_id: class,
                adding: 1,
                override_reason: Some("理由"),
                context: "测试",
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("56 人")),
            "{e:?}"
        );
        let p = yimeng_store::gate::enforce(
            &mut tx,
            &actor(),
            &lanshan,
            &rules,
            &yimeng_store::gate::Placing {
                county,
                class_id: class,
                adding: 1,
                override_reason: Some("学区内适龄儿童集中，经局务会研究同意"),
                context: "测试",
            },
        )
        .await
        .unwrap();
        assert!(p.override_id.is_some());
        tx.commit().await.unwrap();
        assert_eq!(
            yimeng_store::gate::gate_overrides(db, &lanshan)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            yimeng_store::gate::gate_overrides(db, &Scope::County(RegionCode::from_i32(FEIXIAN)))
                .await
                .unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn a_suspension_of_a_compulsory_student_waits_for_the_county_and_then_changes_the_status() {
    use yimeng_domain::status_change::StatusChange;
    use yimeng_store::status_request;
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let (county, school) = school_id(db, "2137000001").await;
        let sch = Scope::School(SchoolRef {
            county: RegionCode::from_i32(county),
            id: school,
        });
        let lan = Scope::County(RegionCode::from_i32(county));
        let rules = Rules::default();
        let cal = WorkCalendar::seeded();
        let (_, sid, _, _, _) = student_row(db, 4).await;
        // Graduation is only for the final grade: refused, nothing written.
        let e = status_request::create(
            db,
            &yimeng_store::Acting::new(&actor(), &sch, &rules, &cal, d(2026, 3, 2)),
            sid,
            StatusChange::Graduate {
                date: d(2026, 7, 1),
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("不是毕业年级")),
            "{e:?}"
        );
        assert_eq!(count(db, "status_request").await, 0);
        let change = StatusChange::Suspend {
            start: d(2026, 3, 2),
            end: d(2026, 7, 1),
            reason: "因病休学".into(),
        };
        let r = status_request::create(
            db,
            &yimeng_store::Acting::new(&actor(), &sch, &rules, &cal, d(2026, 3, 2)),
            sid,
            change,
        )
        .await
        .unwrap();
        assert_eq!(
            (r.state.as_str(), r.step, r.approver_county),
            ("pending", 1, Some(county))
        );
        assert_eq!(student_row(db, 4).await.4, "01");
        let e = status_request::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &sch, &rules, &cal, d(2026, 3, 3)),
            county,
            r.id,
            Decision::Approve,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("不能重复审批")),
            "{e:?}"
        );
        let r = status_request::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lan, &rules, &cal, d(2026, 3, 3)),
            county,
            r.id,
            Decision::Approve,
        )
        .await
        .unwrap();
        assert_eq!(r.state, "completed");
        assert_eq!(student_row(db, 4).await.4, "02");
        let (ct, to): (String, String) = db
            .one(Sql::new("SELECT change_type, to_status FROM student_event"))
            .await
            .unwrap();
        assert_eq!((ct.as_str(), to.as_str()), ("11", "02"));
    }
}

fn pdf(material: yimeng_domain::transfer::TransferMaterial) -> transfer::TransferUpload {
    transfer::TransferUpload {
        material,
        file_name: "证明.pdf".into(),
        bytes: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec(),
    }
}

fn outgoing(seq: u16, files: Vec<transfer::TransferUpload>) -> transfer::NewOutgoing {
    let rec = student_rec(seq);
    transfer::NewOutgoing {
        student_no: rec.student_no.to_string(),
        id_card: rec.id_card.unwrap().to_string(),
        to_name: "济南市历下区某小学".into(),
        to_county: Some(RegionCode::from_i32(370102)),
        started_by: Initiator::SendingSchool,
        reason: "随父母迁居济南".into(),
        files,
        applicant_phone: None,
    }
}

fn incoming(
    rec: student::StudentRecord,
    files: Vec<transfer::TransferUpload>,
) -> transfer::NewIncoming {
    transfer::NewIncoming {
        grade: rec.class.map_or(Grade::P3, |c| c.grade),
        record: rec,
        from_name: "济南市历下区某小学".into(),
        from_county: Some(RegionCode::from_i32(370102)),
        started_by: Initiator::ReceivingSchool,
        reason: "随父母迁居费县".into(),
        files,
        applicant_phone: None,
    }
}

#[tokio::test]
async fn transfers_across_the_city_boundary_close_or_open_the_record_only_at_the_final_approval() {
    use yimeng_domain::transfer::TransferMaterial::{ReceivingSideAcceptance, SendingSideConsent};
    for t in TestDb::each().await {
        let db = &t.db;
        let (s1, s4, class4) = seed_two_counties(db).await;
        let rules = Rules::default();
        let cal = WorkCalendar::seeded();
        let sending = Scope::School(s1);
        let lanshan = Scope::County(s1.county);
        let receiving = Scope::School(s4);
        let feixian = Scope::County(s4.county);
        let day = d(2026, 11, 2);

        // 转出本市: bad requests are refused with the reason and write nothing.
        let refuse = |e: StoreError, want: &str| {
            assert!(
                matches!(&e, StoreError::Invalid(m) | StoreError::Forbidden(m) if m.contains(want)),
                "{want}: {e:?}"
            )
        };
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![]),
        )
        .await
        .unwrap_err();
        refuse(e, "接收证明");
        let mut not_pdf = pdf(ReceivingSideAcceptance);
        not_pdf.bytes = b"<html>not a scan</html>".to_vec();
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![not_pdf]),
        )
        .await
        .unwrap_err();
        refuse(e, "不是 JPG");
        let mut inside = outgoing(4, vec![pdf(ReceivingSideAcceptance)]);
        inside.to_county = Some(RegionCode::from_i32(FEIXIAN));
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            inside,
        )
        .await
        .unwrap_err();
        refuse(e, "市内转学");
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            outgoing(4, vec![pdf(ReceivingSideAcceptance)]),
        )
        .await
        .unwrap_err();
        refuse(e, "不是您学校的学生");
        assert_eq!(count(db, "transfer_request").await, 0);
        assert_eq!(count(db, "transfer_file").await, 0);

        let r = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![pdf(ReceivingSideAcceptance)]),
        )
        .await
        .unwrap();
        assert_eq!((r.route.as_str(), r.county_id), ("转出本市", LANSHAN));
        assert_eq!(
            (r.approver_county, r.approver_school),
            (Some(LANSHAN), Some(s1.id))
        );
        let files = transfer::files(db, &lanshan, r.county_id, r.id)
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].material_label(), "转入学校接收证明");
        let (_, ty, bytes) = transfer::file_content(db, &sending, r.county_id, r.id, files[0].id)
            .await
            .unwrap();
        assert_eq!(
            (ty.as_str(), bytes.starts_with(b"%PDF-")),
            ("application/pdf", true)
        );
        // Another county's bureau is not a party.
        assert!(matches!(
            transfer::files(db, &feixian, r.county_id, r.id).await,
            Err(StoreError::NotFound)
        ));
        let before = student_row(db, 4).await;
        let r = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.approver_school, None);
        assert_eq!(
            student_row(db, 4).await,
            before,
            "nothing changes before the last step"
        );
        let r = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lanshan, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.state, "completed");
        let after = student_row(db, 4).await;
        assert_eq!((after.1, after.3, after.4.as_str()), (before.1, None, "10"));
        let mut q = Sql::new("SELECT change_type, reason FROM student_event WHERE student_id = ");
        q.bind(before.1);
        let events: Vec<(String, String)> = db.all(q).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, "21");
        assert!(events[0].1.contains("济南市历下区某小学"), "{events:?}");
        let keys = count(db, "person_key").await;

        // 外市转入 of a child never registered in Linyi, into 费县 class 3-1.
        let newcomer = student("2137000004", Grade::P3, 1, 100);
        let e = transfer::create_incoming(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            incoming(newcomer.clone(), vec![]),
        )
        .await
        .unwrap_err();
        refuse(e, "同意转出证明");
        // A child still 在籍 in Linyi is a transfer within the city.
        let mut enrolled = student_rec(5);
        enrolled.school_code = newcomer.school_code.clone();
        enrolled.class = newcomer.class;
        let e = transfer::create_incoming(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            incoming(enrolled, vec![pdf(SendingSideConsent)]),
        )
        .await
        .unwrap_err();
        refuse(e, "仍有在籍学籍");
        // Only the receiving school starts it.
        let e = transfer::create_incoming(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            incoming(newcomer.clone(), vec![pdf(SendingSideConsent)]),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        assert_eq!(count(db, "transfer_request").await, 1);

        let r = transfer::create_incoming(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            incoming(newcomer.clone(), vec![pdf(SendingSideConsent)]),
        )
        .await
        .unwrap();
        assert_eq!(
            (r.route.as_str(), r.county_id, r.to_class_id),
            ("外市转入", FEIXIAN, Some(class4))
        );
        assert_eq!(
            (r.approver_county, r.approver_school),
            (Some(FEIXIAN), None)
        );
        assert_eq!(r.from_county, Some(370102));
        let students = count(db, "student").await;
        // The receiving school is not the step's approver; the county is.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        assert_eq!(count(db, "student").await, students);
        let done = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &feixian, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        assert_eq!(done.state, "completed");
        let nid = done.new_student_id.unwrap();
        let mut q = Sql::new(
            "SELECT county_id, school_id, class_id, status, name FROM student WHERE id = ",
        );
        q.bind(nid).push(" AND county_id = ").bind(FEIXIAN);
        let row: (i32, i64, Option<i64>, String, String) = db.one(q).await.unwrap();
        assert_eq!(
            row,
            (
                FEIXIAN,
                s4.id,
                Some(class4),
                "01".into(),
                newcomer.name.clone()
            )
        );
        assert_eq!(count(db, "person_key").await, keys + 2);
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &feixian, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");

        // The student who left comes back into 费县: a new record there, the keys move to it.
        let mut back = student_rec(4);
        back.school_code = newcomer.school_code.clone();
        back.class = newcomer.class;
        let r = transfer::create_incoming(
            db,
            &yimeng_store::Acting::new(&actor(), &receiving, &rules, &cal, day),
            incoming(back, vec![pdf(SendingSideConsent)]),
        )
        .await
        .unwrap();
        let done = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &feixian, &rules, &cal, day),
            r.county_id,
            r.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
        let nid = done.new_student_id.unwrap();
        let mut q = Sql::new("SELECT county_id, owner_id FROM person_key WHERE value = ");
        q.bind(student_rec(4).student_no.to_string());
        let owner: (i32, i64) = db.one(q).await.unwrap();
        assert_eq!(owner, (FEIXIAN, nid));
        assert_eq!(count(db, "person_key").await, keys + 2);
        let mut q = Sql::new("SELECT county_id, status FROM student WHERE student_no = ");
        q.bind(student_rec(4).student_no.to_string())
            .push(" ORDER BY county_id");
        let rows: Vec<(i32, String)> = db.all(q).await.unwrap();
        assert_eq!(rows, vec![(LANSHAN, "10".into()), (FEIXIAN, "01".into())]);
    }
}

#[tokio::test]
async fn a_parent_withdraws_online_by_number_and_id_card_and_the_public_scope_decides_nothing() {
    for t in TestDb::each().await {
        let db = &t.db;
        let (_, s4, _) = seed_two_counties(db).await;
        let rules = Rules::default();
        let cal = yimeng_store::calendar::load(db).await.unwrap();
        let today = d(2026, 9, 1);
        let by_parent = NewTransfer {
            started_by: Initiator::Parent,
            applicant_phone: Some("13800000000".into()),
            ..request(5, s4, None)
        };
        let card = by_parent.id_card.clone();
        let r = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &Scope::Nothing, &rules, &cal, today),
            by_parent,
        )
        .await
        .unwrap();
        // The public scope is no party: deciding with it is not found, not a withdrawal.
        let e = transfer::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &Scope::Nothing, &rules, &cal, today),
            r.county_id,
            r.id,
            Decision::Withdraw,
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
        let e = transfer::withdraw_online(
            db,
            &actor(),
            yimeng_store::Timing {
                rules: &rules,
                calendar: &cal,
                today,
            },
            &r.request_no,
            "x",
        )
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
        let w = transfer::withdraw_online(
            db,
            &actor(),
            yimeng_store::Timing {
                rules: &rules,
                calendar: &cal,
                today,
            },
            &r.request_no,
            &card,
        )
        .await
        .unwrap();
        assert_eq!((w.state.as_str(), w.step_deadline), ("withdrawn", None));
        let acts = transfer::actions(db, &w).await.unwrap();
        assert_eq!(acts.len(), 1);
        assert_eq!(
            (
                acts[0].seq,
                acts[0].step_kind.as_str(),
                acts[0].action.as_str()
            ),
            (1000, "receiving_school_review", "withdraw")
        );
        let e = transfer::withdraw_online(
            db,
            &actor(),
            yimeng_store::Timing {
                rules: &rules,
                calendar: &cal,
                today,
            },
            &r.request_no,
            &card,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("已撤回")),
            "{e:?}"
        );
        // A request the school made is the school's to withdraw.
        let by_school = request(7, s4, None);
        let card = by_school.id_card.clone();
        let r = transfer::create(
            db,
            &yimeng_store::Acting::new(&actor(), &Scope::School(s4), &rules, &cal, today),
            by_school,
        )
        .await
        .unwrap();
        let e = transfer::withdraw_online(
            db,
            &actor(),
            yimeng_store::Timing {
                rules: &rules,
                calendar: &cal,
                today,
            },
            &r.request_no,
            &card,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Forbidden(m) if m.contains("只有申请人")),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn a_status_change_keeps_its_history_and_a_database_failure_is_not_not_found() {
    use yimeng_domain::status_change::StatusChange;
    use yimeng_store::status_request;
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let (county, school) = school_id(db, "2137000001").await;
        let sch = Scope::School(SchoolRef {
            county: RegionCode::from_i32(county),
            id: school,
        });
        let lan = Scope::County(RegionCode::from_i32(county));
        let rules = Rules::default();
        let cal = WorkCalendar::seeded();
        let (_, sid, _, _, _) = student_row(db, 4).await;
        let change = StatusChange::Suspend {
            start: d(2026, 3, 2),
            end: d(2026, 7, 1),
            reason: "因病休学".into(),
        };
        let r = status_request::create(
            db,
            &yimeng_store::Acting::new(&actor(), &sch, &rules, &cal, d(2026, 3, 2)),
            sid,
            change,
        )
        .await
        .unwrap();
        // The county's step opens on the day it was created; 10 working days.
        assert_eq!(r.step_deadline, Some(d(2026, 3, 16)));
        // Past the deadline, the county decides; the decision is flagged overdue.
        let r = status_request::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &lan, &rules, &cal, d(2026, 3, 17)),
            county,
            r.id,
            Decision::Approve,
        )
        .await
        .unwrap();
        assert_eq!(r.state, "completed");
        let seen = status_request::get(db, &sch, county, r.id).await.unwrap();
        let acts = status_request::actions(db, &seen).await.unwrap();
        let got: Vec<(i32, &str, &str, bool)> = acts
            .iter()
            .map(|a| (a.seq, a.step_kind.as_str(), a.action.as_str(), a.overdue))
            .collect();
        assert_eq!(
            got,
            [
                (0, "school", "approve", false),
                (1, "county", "approve", true)
            ]
        );
        assert_eq!(acts[1].deadline, Some(d(2026, 3, 16)));
        // The school cannot withdraw what is done.
        let e = status_request::decide(
            db,
            &yimeng_store::Acting::new(&actor(), &sch, &rules, &cal, d(2026, 3, 17)),
            county,
            r.id,
            Decision::Withdraw,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("已办结")),
            "{e:?}"
        );
        // A failing database is reported as such, never as a missing request.
        db.close().await;
        let e = status_request::get(db, &sch, county, r.id)
            .await
            .unwrap_err();
        assert!(!matches!(e, StoreError::NotFound), "{e:?}");
        let e = transfer::get(db, &Scope::City, county, 1)
            .await
            .unwrap_err();
        assert!(!matches!(e, StoreError::NotFound), "{e:?}");
    }
}

#[tokio::test]
async fn a_transfer_material_whose_bytes_disagree_with_its_name_is_refused_and_stays_in_its_county()
{
    use yimeng_domain::transfer::TransferMaterial::ReceivingSideAcceptance;
    for t in TestDb::each().await {
        let db = &t.db;
        let (s1, s4, _) = seed_two_counties(db).await;
        let (rules, cal, day) = (Rules::default(), WorkCalendar::seeded(), d(2026, 11, 2));
        let sending = Scope::School(s1);
        // A Windows program named .jpg: refused, naming the material, the file and what it is.
        let mut exe = pdf(ReceivingSideAcceptance);
        exe.file_name = "接收证明.jpg".into();
        exe.bytes = b"MZ\x90\0\x03\0\0\0".to_vec();
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![exe]),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("转入学校接收证明“接收证明.jpg”：类型不符（文件内容是可执行程序"),
            "{e}"
        );
        assert_eq!(count(db, "transfer_request").await, 0);
        assert_eq!(count(db, "transfer_file").await, 0);
        // One byte over 5 MB is refused too.
        let mut big = pdf(ReceivingSideAcceptance);
        big.bytes
            .resize(yimeng_domain::attachment::MATERIAL_MAX_BYTES + 1, b' ');
        let e = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![big]),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("超过 5 MB"), "{e}");
        // A good one is stored with its digest; another county's bureau finds no such file.
        let good = pdf(ReceivingSideAcceptance);
        let r = transfer::create_outgoing(
            db,
            &yimeng_store::Acting::new(&actor(), &sending, &rules, &cal, day),
            outgoing(4, vec![good.clone()]),
        )
        .await
        .unwrap();
        let files = transfer::files(db, &sending, r.county_id, r.id)
            .await
            .unwrap();
        assert_eq!(
            files[0].sha256,
            yimeng_store::attachment::sha256_hex(&good.bytes)
        );
        let feixian = Scope::County(s4.county);
        assert!(matches!(
            transfer::file_content(db, &feixian, r.county_id, r.id, files[0].id).await,
            Err(StoreError::NotFound)
        ));
        let (name, ty, bytes) =
            transfer::file_content(db, &sending, r.county_id, r.id, files[0].id)
                .await
                .unwrap();
        assert_eq!(
            (name.as_str(), ty.as_str(), bytes),
            ("证明.pdf", "application/pdf", good.bytes)
        );
    }
}

#[test]
fn dispatch_evidence_whose_bytes_disagree_with_its_extension_is_refused() {
    let e = yimeng_store::dispatch::accept_file("佐证.docx", b"%PDF-1.4\n".to_vec())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "附件“佐证.docx”：类型不符（文件内容是 PDF 文件，与扩展名 .docx 不符，可能已损坏或改了扩展名）"
    );
    let ok = yimeng_store::dispatch::accept_file("佐证.docx", b"PK\x03\x04".to_vec()).unwrap();
    assert_eq!(
        ok.content_type,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let mut big = b"%PDF-".to_vec();
    big.resize(yimeng_store::dispatch::MAX_FILE_BYTES + 1, 0);
    let e = yimeng_store::dispatch::accept_file("a.pdf", big)
        .unwrap_err()
        .to_string();
    assert!(e.contains("超过 20 MB"), "{e}");
}
