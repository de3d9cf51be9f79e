//! Student-status services in a real browser (headless Chromium through chromedriver, as in
//! `browser.rs`): a parent applies for grade 1 with the materials and looks the application up;
//! a school starts a transfer request. Ignored by default like `browser.rs`.

use crate::browser::{browser, browser_present, start_driver, wait_path};
use crate::support::{PW, TestApp};
use chrono::{Datelike, NaiveDate};
use fantoccini::{Client, Locator};
use yimeng_domain::{IdCardNo, RegionCode, Scope, Stage};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn fill(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn choose(c: &Client, select: &str, value: &str) {
    c.find(Locator::Css(&format!(
        "select[name={select}] option[value='{value}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_parent_applies_for_grade_one_and_looks_the_application_up_in_the_browser() {
    if !browser_present() {
        return;
    }
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let code: (String,) = app
        .db()
        .one(Sql::new(
            "SELECT code FROM school WHERE county_id = 371302 AND school_type = 'primary' ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap();
    yimeng_store::enrolment::add_zones(
        app.db(),
        &yimeng_store::Actor::system(),
        &Scope::County(RegionCode::from_i32(371302)),
        371302,
        &[yimeng_store::enrolment::ZoneInput {
            row: 0,
            stage: Stage::Primary,
            street: "兰山街道".into(),
            community: String::new(),
            school_code: code.0,
        }],
    )
    .await
    .unwrap();
    let year = yimeng_web::service::today().year();
    let card = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(year - 6, 4, 2).unwrap(), 31);
    let files = tempfile::tempdir().unwrap();
    let png = files.path().join("材料.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRtest").unwrap();
    let pdf = files.path().join("房产证.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%test\n").unwrap();

    let driver = start_driver().await;
    let c = browser(&driver, files.path()).await;
    let result = async {
        // No account: the application form is open to the public.
        c.goto(&format!("{}/public/enrolment", app.base))
            .await
            .unwrap();
        choose(&c, "kind", "primary_entry").await;
        choose(&c, "grade", "P1").await;
        fill(&c, "#child_name", "李小禾").await;
        fill(&c, "#id_card", card.as_str()).await;
        choose(&c, "county", "371302").await;
        fill(&c, "#street", "兰山街道").await;
        fill(&c, "#guardian_name", "李大禾").await;
        fill(&c, "#phone", "13900000003").await;
        for (input, file) in [
            ("#m_hukou", &png),
            ("#m_property", &pdf),
            ("#m_birth", &png),
            ("#m_vaccination", &png),
        ] {
            fill(&c, input, file.to_str().unwrap()).await;
        }
        c.find(Locator::Css(
            "form[action='/public/enrolment'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        let no = c
            .wait()
            .for_element(Locator::Css("#app-no"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(no.starts_with(&format!("RX{year}-371302-")), "{no}");

        // The lookup with the number and the ID number.
        c.find(Locator::Css("#done a[href='/public/enrolment/status']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_path(&c, "/public/enrolment/status").await;
        fill(&c, "#number", &no).await;
        fill(&c, "#id_card", card.as_str()).await;
        c.find(Locator::Css(
            "form[action='/public/enrolment/status'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        let state = c
            .wait()
            .for_element(Locator::Css("#state"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(state.contains(&no) && state.contains("已提交"), "{state}");
        assert!(c.source().await.unwrap().contains("出生证明"));
    }
    .await;
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_school_starts_a_transfer_request_in_the_browser() {
    if !browser_present() {
        return;
    }
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (_, student_no, id_card) = crate::support::transferable_student(&app).await;
    let downloads = tempfile::tempdir().unwrap();
    let driver = start_driver().await;
    let c = browser(&driver, downloads.path()).await;
    let result = async {
        c.goto(&format!("{}/login", app.base)).await.unwrap();
        fill(&c, "input[name=username]", &app.ids.school_login).await;
        fill(&c, "input[name=password]", PW).await;
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait().for_element(Locator::Css("nav")).await.unwrap();
        // 转学与异动审批 → 发起转学申请.
        c.find(Locator::Css("nav a[href='/transfers']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_path(&c, "/transfers").await;
        c.find(Locator::Css("a[href='/transfers/new']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_path(&c, "/transfers/new").await;
        fill(&c, "#student_no", &student_no).await;
        fill(&c, "#id_card", &id_card).await;
        fill(&c, "#reason", "家庭迁居到学区内").await;
        c.find(Locator::Css(
            "form[action='/transfers'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.wait()
            .for_element(Locator::XPath("//*[contains(., 'ZX371302')]"))
            .await
            .unwrap();
        let path = c.current_url().await.unwrap().path().to_string();
        assert!(path.starts_with("/transfers/371302/"), "{path}");
        let page = c.source().await.unwrap();
        assert!(
            page.contains("转出校审核") && page.contains("待办理"),
            "the next step waits for the sending school"
        );
    }
    .await;
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
    result
}
