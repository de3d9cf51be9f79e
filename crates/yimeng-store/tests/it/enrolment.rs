//! Enrolment applications (入学申请) on both stores: a parent's application with its materials is
//! routed by the zone table, reviewed (more material, acceptance) and the child enrolled through
//! the registry's student save; every bad input is refused and writes nothing.

use crate::fixtures::*;
use crate::imports::{count, import_classes, seed};
use chrono::NaiveDate;
use yimeng_domain::calendar::WorkCalendar;
use yimeng_domain::enrolment::{ApplicationKind, Material};
use yimeng_domain::student::Ethnicity;
use yimeng_domain::*;
use yimeng_store::enrolment::{self, NewApplication, Review, Timing, Upload, ZoneInput};
use yimeng_store::import::{GateOptions, Mode};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_store::{Db, StoreError};
use yimeng_testkit::TestDb;

pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
pub const PDF: &[u8] = b"%PDF-1.4\n%test\n";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 6, 1).unwrap()
}

static RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(Rules::default);
static CALENDAR: std::sync::LazyLock<WorkCalendar> = std::sync::LazyLock::new(WorkCalendar::seeded);

/// The review's rules and calendar, on `today()`.
fn timing() -> Timing<'static> {
    timing_on(today())
}

fn timing_on(day: NaiveDate) -> Timing<'static> {
    Timing {
        rules: &RULES,
        calendar: &CALENDAR,
        today: day,
    }
}

fn upload(m: Material, bytes: &[u8]) -> Upload {
    Upload {
        material: m,
        file_name: format!("{}.png", m.code()),
        bytes: bytes.to_vec(),
    }
}

/// A complete grade-1 application for a child born in 2014 living in 兰山街道.
fn application(seq: u16) -> NewApplication {
    NewApplication {
        kind: ApplicationKind::PrimaryEntry,
        grade: Grade::P1,
        school_year: 2020,
        county: RegionCode::from_i32(LANSHAN),
        child_name: "王小花".into(),
        id_card: IdCardNo::compose(371302, NaiveDate::from_ymd_opt(2014, 3, 1).unwrap(), seq),
        ethnicity: Ethnicity::Han,
        street: "兰山街道".into(),
        community: "".into(),
        guardian_name: "王大明".into(),
        guardian_phone: "13800000001".into(),
        files: vec![
            upload(Material::HouseholdRegister, PNG),
            upload(Material::PropertyProof, PDF),
            upload(Material::BirthCertificate, PNG),
            upload(Material::VaccinationCertificate, PNG),
        ],
    }
}

async fn zoned(db: &Db) {
    seed(db).await;
    let r = import_classes(
        db,
        &Scope::City,
        vec![class("2137000001", Grade::P1, 1)],
        Mode::AllOrNothing,
    )
    .await;
    assert!(r.committed, "{r:?}");
    let n = enrolment::add_zones(
        db,
        &actor(),
        &Scope::County(RegionCode::from_i32(LANSHAN)),
        LANSHAN,
        &[ZoneInput {
            row: 0,
            stage: Stage::Primary,
            street: "兰山 街道".into(),
            community: String::new(),
            school_code: "2137000001".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
}

async fn submit(db: &Db, a: NewApplication) -> Result<enrolment::ApplicationRow, StoreError> {
    enrolment::submit(db, &Rules::default(), &WorkCalendar::seeded(), today(), a).await
}

#[tokio::test]
async fn an_application_is_routed_reviewed_and_the_child_enrolled_into_the_registry() {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        let a = submit(db, application(1)).await.unwrap();
        assert!(a.app_no.starts_with("RX2020-371302-"), "{}", a.app_no);
        assert_eq!(a.state, "submitted");
        assert!(a.school_id.is_some(), "routed to the zone school");
        assert_eq!(enrolment::files(db, &a).await.unwrap().len(), 4);
        // The parent finds it with the number and the ID number only.
        let card = a.id_card.clone();
        assert!(enrolment::lookup(db, &a.app_no, &card).await.is_ok());
        assert!(matches!(
            enrolment::lookup(db, &a.app_no, "371302201403010029").await,
            Err(StoreError::NotFound)
        ));
        // The zone school asks for more, the parent adds it, the school accepts.
        let (county, school) = (LANSHAN, a.school_id.unwrap());
        let school_scope = Scope::School(SchoolRef {
            county: RegionCode::from_i32(county),
            id: school,
        });
        let r = enrolment::review(
            db,
            &actor(),
            &school_scope,
            &timing(),
            county,
            a.id,
            Review::RequestMaterials(vec![Material::Lease]),
        )
        .await
        .unwrap();
        assert_eq!(r.state, "needs_materials");
        // A school of another zone does not see it.
        let other = Scope::School(SchoolRef {
            county: RegionCode::from_i32(county),
            id: school + 1,
        });
        assert!(matches!(
            enrolment::review(
                db,
                &actor(),
                &other,
                &timing(),
                county,
                a.id,
                Review::Accept
            )
            .await,
            Err(StoreError::NotFound)
        ));
        let r = enrolment::resubmit(
            db,
            &timing(),
            &a.app_no,
            &card,
            vec![upload(Material::Lease, PDF)],
        )
        .await
        .unwrap();
        assert_eq!(r.state, "submitted");
        let r = enrolment::review(
            db,
            &actor(),
            &school_scope,
            &timing(),
            county,
            a.id,
            Review::Accept,
        )
        .await
        .unwrap();
        assert_eq!(r.state, "accepted");
        // A double submission of the same decision is refused.
        assert!(matches!(
            enrolment::review(
                db,
                &actor(),
                &school_scope,
                &timing(),
                county,
                a.id,
                Review::Accept
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
        // Enrolled into 一年级（1）班 through the student save.
        let students = count(db, "student").await;
        let class: (i64,) = db
            .one({
                let mut q = yimeng_store::testing::Sql::new(
                    "SELECT id FROM class WHERE grade = 'P1' AND school_id = ",
                );
                q.bind(school);
                q
            })
            .await
            .unwrap();
        let (sid, _) = enrolment::enrol(
            db,
            &actor(),
            &school_scope,
            county,
            a.id,
            class.0,
            GateOptions::default(),
        )
        .await
        .unwrap();
        let sid = sid.expect("enrolled");
        assert_eq!(count(db, "student").await, students + 1);
        let r = enrolment::get(db, &school_scope, county, a.id)
            .await
            .unwrap();
        assert_eq!((r.state.as_str(), r.student_id), ("enrolled", Some(sid)));
        assert_eq!(enrolment::actions(db, &r).await.unwrap().len(), 4);
        // Now on the register: a new application for the child is refused.
        let e = submit(db, application(1)).await.unwrap_err();
        assert!(e.to_string().contains("已在本市学校登记学籍"), "{e}");
    }
}

#[tokio::test]
async fn bad_applications_are_refused_each_with_its_reason_and_nothing_is_written() {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        let expect = async |a: NewApplication, words: &str| {
            let e = submit(db, a).await.unwrap_err();
            assert!(e.to_string().contains(words), "{words}: {e}");
        };
        // Missing materials.
        let mut a = application(2);
        a.files.retain(|f| f.material != Material::BirthCertificate);
        expect(a, "出生证明").await;
        // Not an image or PDF (a Word file renamed .png).
        let mut a = application(3);
        a.files[0].bytes = b"PK\x03\x04word".to_vec();
        expect(a, "不是图片（JPG、PNG）或 PDF").await;
        // Too large.
        let mut a = application(4);
        let mut big = PNG.to_vec();
        big.resize(enrolment::MAX_FILE_BYTES + 1, 0);
        a.files[0].bytes = big;
        expect(a, "超过 5 MB").await;
        // Too young for grade 1 in 2020.
        let mut a = application(5);
        a.id_card = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(2014, 9, 1).unwrap(), 5);
        expect(a, "儿童身份证件号").await;
        // An address outside every zone.
        let mut a = application(6);
        a.street = "不存在街道".into();
        expect(a, "住址").await;
        // Grade 7 asked as a grade-1 application.
        let mut a = application(7);
        a.grade = Grade::J1;
        expect(a, "年级").await;
        // A child already on a school's register (a seeded student's ID number).
        let mut a = application(8);
        a.id_card = student("2137000001", Grade::P3, 1, 3).id_card.unwrap();
        expect(a, "已在本市学校登记学籍").await;
        assert_eq!(count(db, "enrolment_application").await, 0);
        assert_eq!(count(db, "enrolment_file").await, 0);
        // A duplicate application.
        submit(db, application(9)).await.unwrap();
        expect(application(9), "不能重复申请").await;
        assert_eq!(count(db, "enrolment_application").await, 1);
        assert_eq!(count(db, "enrolment_file").await, 4);
    }
}

/// The review runs on the approval flow: the county bureau's step carries a working-day deadline
/// and an overdue flag; asking for material returns the application to the parent with the
/// reason, the parent resubmits (a new deadline, a new round), the acceptance completes the
/// review; every decision is a history row (who, role, reason, deadline, overdue) and an audit row.
#[tokio::test]
async fn the_review_is_on_the_approval_flow_with_history_return_resubmission_and_overdue() {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        let a = submit(db, application(7)).await.unwrap();
        let deadline = CALENDAR.add_working_days(today(), RULES.transfer_step_working_days);
        assert_eq!(
            (a.review_state.as_str(), a.step_deadline, a.approver_county),
            ("pending", Some(deadline), Some(LANSHAN))
        );
        assert!(!a.is_overdue(deadline));
        let late = deadline.succ_opt().unwrap();
        assert!(a.is_overdue(late));
        let county = Scope::County(RegionCode::from_i32(LANSHAN));
        // The bureau asks for a lease, a day late: a return with the material as its reason.
        let r = enrolment::review(
            db,
            &actor(),
            &county,
            &timing_on(late),
            LANSHAN,
            a.id,
            Review::RequestMaterials(vec![Material::Lease]),
        )
        .await
        .unwrap();
        assert_eq!(
            (r.state.as_str(), r.review_state.as_str()),
            ("needs_materials", "returned")
        );
        assert!(r.refusal_reason.contains(Material::Lease.label()), "{r:?}");
        assert!(
            !r.is_overdue(late),
            "a returned application waits for the parent"
        );
        // A second decision on the returned application is refused and writes nothing.
        assert!(
            enrolment::review(
                db,
                &actor(),
                &county,
                &timing_on(late),
                LANSHAN,
                a.id,
                Review::Accept
            )
            .await
            .is_err()
        );
        // The parent resubmits a week later: the step opens again with a new deadline.
        let week = NaiveDate::from_ymd_opt(2020, 6, 22).unwrap();
        let r = enrolment::resubmit(
            db,
            &timing_on(week),
            &a.app_no,
            &a.id_card,
            vec![upload(Material::Lease, PDF)],
        )
        .await
        .unwrap();
        let again = CALENDAR.add_working_days(week, RULES.transfer_step_working_days);
        assert_eq!(
            (
                r.state.as_str(),
                r.review_state.as_str(),
                r.step_deadline,
                r.review_round
            ),
            ("submitted", "pending", Some(again), 1)
        );
        assert!(!r.is_overdue(week));
        let r = enrolment::review(
            db,
            &actor(),
            &county,
            &timing_on(week),
            LANSHAN,
            a.id,
            Review::Accept,
        )
        .await
        .unwrap();
        assert_eq!(
            (r.state.as_str(), r.review_state.as_str(), r.step_deadline),
            ("accepted", "completed", None)
        );
        assert!(r.completed_at.is_some());
        let h = enrolment::actions(db, &r).await.unwrap();
        let seen: Vec<_> = h
            .iter()
            .map(|x| {
                (
                    x.seq,
                    x.action.as_str(),
                    x.actor_role.as_str(),
                    x.overdue,
                    x.deadline,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (0, "return", "county", true, Some(deadline)),
                (1000, "resubmit", "public", false, None),
                (2000, "approve", "county", false, Some(again)),
            ]
        );
        assert!(h[0].reason.contains(Material::Lease.label()));
        let mut q = Sql::new(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'enrolment_application' AND entity_id = ",
        );
        q.bind(a.id);
        // The submission and the three decisions.
        assert_eq!(db.scalar(q).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn a_parent_withdraws_an_application_and_may_then_apply_again() {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        let a = submit(db, application(3)).await.unwrap();
        // A second application for the same child is refused while the first is open.
        assert!(submit(db, application(3)).await.is_err());
        // The wrong ID number finds nothing and changes nothing.
        assert!(matches!(
            enrolment::withdraw(db, &timing(), &a.app_no, "371302201403010029").await,
            Err(StoreError::NotFound)
        ));
        let w = enrolment::withdraw(db, &timing(), &a.app_no, &a.id_card)
            .await
            .unwrap();
        assert_eq!(w.state, "withdrawn");
        // Twice: refused with the state named.
        let e = enrolment::withdraw(db, &timing(), &a.app_no, &a.id_card)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(m) if m.contains("已撤回")),
            "{e:?}"
        );
        // The child's key is free again.
        let again = submit(db, application(3)).await.unwrap();
        assert_ne!(again.id, a.id);
        assert_eq!(again.state, "submitted");
    }
}

#[tokio::test]
async fn the_county_places_an_application_at_another_school_with_a_reason() {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        let a = submit(db, application(4)).await.unwrap();
        let zone_school = a.school_id.unwrap();
        let (other,): (i64,) = db
            .one(Sql::new("SELECT id FROM school WHERE code = '2137000002'"))
            .await
            .unwrap();
        let county = Scope::County(RegionCode::from_i32(LANSHAN));
        let school = Scope::School(SchoolRef {
            county: RegionCode::from_i32(LANSHAN),
            id: zone_school,
        });
        // Only the bureau places; a reason is required; the school must teach the stage.
        let e = enrolment::place(db, &actor(), &school, LANSHAN, a.id, other, "学位已满")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        let e = enrolment::place(db, &actor(), &county, LANSHAN, a.id, other, "  ")
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("理由")),
            "{e:?}"
        );
        let (junior,): (i64,) = db
            .one(Sql::new("SELECT id FROM school WHERE code = '2137000003'"))
            .await
            .unwrap();
        let e = enrolment::place(db, &actor(), &county, LANSHAN, a.id, junior, "学位已满")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
        let p = enrolment::place(
            db,
            &actor(),
            &county,
            LANSHAN,
            a.id,
            other,
            "学区学校学位已满",
        )
        .await
        .unwrap();
        assert_eq!((p.school_id, p.state.as_str()), (Some(other), "submitted"));
        // The new school now reviews it; the zone school no longer sees it.
        let new_school = Scope::School(SchoolRef {
            county: RegionCode::from_i32(LANSHAN),
            id: other,
        });
        assert!(enrolment::get(db, &new_school, LANSHAN, a.id).await.is_ok());
        assert!(enrolment::get(db, &school, LANSHAN, a.id).await.is_err());
        let acts = enrolment::actions(db, &a).await.unwrap();
        assert!(
            acts.iter()
                .any(|x| x.action == "place" && x.reason.contains("学位已满")),
            "{acts:?}"
        );
    }
}

#[tokio::test]
async fn a_material_whose_bytes_disagree_with_its_name_is_refused_and_another_countys_reader_finds_no_file()
 {
    for t in TestDb::each().await {
        let db = &t.db;
        zoned(db).await;
        // A ZIP archive named .pdf: refused, naming the material, the file and what it really is.
        let mut a = application(1);
        a.files[1].file_name = "房产证.pdf".into();
        a.files[1].bytes = b"PK\x03\x04\x14\0\0\0".to_vec();
        let e = submit(db, a).await.unwrap_err().to_string();
        assert!(
            e.contains("房产证.pdf") && e.contains("类型不符（文件内容是 ZIP 压缩包"),
            "{e}"
        );
        assert_eq!(count(db, "enrolment_application").await, 0);
        assert_eq!(count(db, "enrolment_file").await, 0);
        // The size limit is 5 MB exactly: a file of 5 MB is taken, one byte more is not.
        let mut a = application(2);
        let mut five = PNG.to_vec();
        five.resize(enrolment::MAX_FILE_BYTES, 0);
        a.files[0].bytes = five.clone();
        let ok = submit(db, a).await.unwrap();
        let files = enrolment::files(db, &ok).await.unwrap();
        assert_eq!(files.len(), 4);
        assert_eq!(files[0].size as usize, enrolment::MAX_FILE_BYTES);
        assert_eq!(files[0].content_type, "image/png");
        assert_eq!(files[0].sha256, yimeng_store::attachment::sha256_hex(&five));
        let mut a = application(3);
        five.push(0);
        a.files[0].bytes = five;
        let e = submit(db, a).await.unwrap_err().to_string();
        assert!(e.contains("超过 5 MB"), "{e}");
        // The county's reader downloads it; another county's bureau finds no such file, whether it
        // names the file's county or its own.
        let lanshan = Scope::County(RegionCode::from_i32(LANSHAN));
        let feixian = Scope::County(RegionCode::from_i32(FEIXIAN));
        let (_, ty, bytes) = enrolment::file_content(db, &lanshan, LANSHAN, files[1].id)
            .await
            .unwrap();
        assert_eq!((ty.as_str(), bytes.as_slice()), ("application/pdf", PDF));
        for county in [LANSHAN, FEIXIAN] {
            assert!(matches!(
                enrolment::file_content(db, &feixian, county, files[1].id).await,
                Err(StoreError::NotFound)
            ));
        }
        // A file is found only under the record it belongs to.
        let other = submit(db, application(4)).await.unwrap();
        assert!(matches!(
            yimeng_store::attachment::download(db, &other, files[1].id).await,
            Err(StoreError::NotFound)
        ));
        let d = yimeng_store::attachment::download(db, &ok, files[1].id)
            .await
            .unwrap();
        assert_eq!(
            (d.file_name.as_str(), d.content.as_slice()),
            ("property.png", PDF)
        );
    }
}
