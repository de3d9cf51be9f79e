//! 阳光分班 on the running server: accepted applicants of a school's grade 1 are previewed in a
//! print-ready list with the balance figures, reproducibly for the seed, and committed into the
//! classes through the student save.

use crate::support::TestApp;
use chrono::{Datelike, NaiveDate};
use yimeng_domain::calendar::WorkCalendar;
use yimeng_domain::enrolment::{ApplicationKind, Material};
use yimeng_domain::student::Ethnicity;
use yimeng_domain::{Grade, IdCardNo, RegionCode, Rules, Scope, Stage};
use yimeng_store::enrolment::{self, NewApplication, Review, Upload, ZoneInput};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRtest";

/// Six accepted applicants for grade 1 of the first primary school of 兰山区 this year: the
/// school, their ID numbers and the year.
pub(crate) async fn accepted_intake(app: &TestApp) -> (i64, Vec<String>, i32) {
    let db = app.db().clone();
    let year = yimeng_web::service::today().year();
    let (school, code): (i64, String) = db
        .one(Sql::new(
            "SELECT id, code FROM school WHERE county_id = 371302 AND school_type = 'primary' ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap();
    let lanshan = Scope::County(RegionCode::from_i32(371302));
    let actor = yimeng_store::Actor::system();
    enrolment::add_zones(
        &db,
        &actor,
        &lanshan,
        371302,
        &[ZoneInput {
            row: 0,
            stage: Stage::Primary,
            street: "银雀山街道".into(),
            community: String::new(),
            school_code: code.clone(),
        }],
    )
    .await
    .unwrap();
    let mut cards = Vec::new();
    for seq in 1..=6u16 {
        let card = IdCardNo::compose(
            371302,
            NaiveDate::from_ymd_opt(year - 6, 2, seq as u32).unwrap(),
            seq,
        );
        cards.push(card.as_str().to_string());
        let a = enrolment::submit(
            &db,
            &Rules::default(),
            &WorkCalendar::seeded(),
            yimeng_web::service::today(),
            NewApplication {
                kind: ApplicationKind::PrimaryEntry,
                grade: Grade::P1,
                school_year: year,
                county: RegionCode::from_i32(371302),
                child_name: format!("新生{seq}"),
                id_card: card,
                ethnicity: Ethnicity::Han,
                street: "银雀山街道".into(),
                community: String::new(),
                guardian_name: "家长".into(),
                guardian_phone: "13900000002".into(),
                files: [
                    Material::HouseholdRegister,
                    Material::Lease,
                    Material::BirthCertificate,
                    Material::VaccinationCertificate,
                ]
                .into_iter()
                .map(|m| Upload {
                    material: m,
                    file_name: "a.png".into(),
                    bytes: PNG.to_vec(),
                })
                .collect(),
            },
        )
        .await
        .unwrap();
        enrolment::review(
            &db,
            &actor,
            &lanshan,
            &enrolment::Timing {
                rules: &Rules::default(),
                calendar: &WorkCalendar::seeded(),
                today: chrono::NaiveDate::from_ymd_opt(2020, 6, 1).unwrap(),
            },
            371302,
            a.id,
            Review::Accept,
        )
        .await
        .unwrap();
    }
    (school, cards, year)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_previews_and_commits_a_balanced_class_assignment_of_its_intake() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let db = app.db().clone();
    let (school, cards, year) = accepted_intake(&app).await;
    let c = app.login("lanshan").await;
    let t = c.csrf().await;
    let page = c.get(&format!("/schools/{school}/sunshine")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let siblings = format!("{} {} 同班", cards[0], cards[1]);
    let year_s = year.to_string();
    let form = |action: &'static str| {
        vec![
            ("_csrf", t.clone()),
            ("source", "applications".to_string()),
            ("year", year_s.clone()),
            ("grade", "P1".to_string()),
            ("classes", "2".to_string()),
            ("seed", "20260901".to_string()),
            ("siblings", siblings.clone()),
            ("action", action.to_string()),
        ]
    };
    let post = async |f: Vec<(&'static str, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post_form(&format!("/schools/{school}/sunshine"), &f)
            .await
    };
    let r = post(form("preview")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let preview = r.text();
    assert!(preview.contains("1 班名单") && preview.contains("2 班名单"));
    assert!(preview.contains("班额最大差 0 人"), "{preview}");
    let list = &preview[preview.find("分班结果").unwrap()..];
    assert!(
        !list.contains(&cards[0]),
        "ID numbers are masked on the public list"
    );
    // The same seed gives the same list.
    assert_eq!(
        post(form("preview")).await.text().replace(&t, ""),
        preview.replace(&t, "")
    );
    // An unknown sibling is refused.
    let mut bad = form("preview");
    bad[6].1 = "110101201001010011 371302201001010011 同班".into();
    assert_eq!(post(bad).await.status, 422);

    let r = post(form("commit")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let per_class: Vec<(i32, i64)> = db
        .all(Sql::new(&format!(
            "SELECT c.class_no, COUNT(*) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
             WHERE c.school_id = {school} AND c.school_year = {year} AND c.grade = 'P1' GROUP BY c.class_no ORDER BY c.class_no"
        )))
        .await
        .unwrap();
    assert_eq!(per_class, vec![(1, 3), (2, 3)]);
    let (same,): (i64,) = db
        .one(Sql::new(&format!(
            "SELECT COUNT(DISTINCT class_id) FROM student WHERE id_card IN ('{}', '{}')",
            cards[0], cards[1]
        )))
        .await
        .unwrap();
    assert_eq!(same, 1, "siblings together");
    let (enrolled,): (i64,) = db
        .one(Sql::new(
            "SELECT COUNT(*) FROM enrolment_application WHERE state = 'enrolled'",
        ))
        .await
        .unwrap();
    assert_eq!(enrolled, 6);
    app.stop().await;
}
