//! Senior-high unified admission (issue 6) through the server: bad files give row-precise
//! errors and nothing runs; good files validate, run and publish; a published round is frozen
//! (409); a candidate finds their own result with the right ID number and nothing with a wrong
//! one; cut-off lines are public, on the page and in the API.

use crate::support::{Client, Resp, TestApp};
use yimeng_store::testing::RawQuery;
use yimeng_testkit::TestDb;

async fn upload(c: &Client, csrf: &str, round: &str, kind: &str, name: &str, data: &[u8]) -> Resp {
    c.post_multipart(
        &format!("{round}/files/{kind}"),
        &[("_csrf", csrf)],
        Some(("file", name, data)),
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_round_validates_runs_publishes_and_answers_the_public() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    let csrf = c.csrf().await;
    let r = c
        .post_form(
            "/admission",
            &[("year", "2026"), ("name", "测试统一招生"), ("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let round = r.location().unwrap().to_string();
    assert!(round.starts_with("/admission/"), "{round}");

    // Bad files: a repeated candidate, an unknown school in a choice, negative seats.
    let bad_candidates = "candidate_id,junior_school,total,t1,choice_1,choice_2\n\
                          C1,J1,600,90,S1,S2\n\
                          C1,J1,590,80,S1,\n\
                          C3,J2,580,70,S9,\n";
    let bad_schools = "school_code,seats\nS1,1\nS2,-1\n";
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "candidates",
            "candidates.csv",
            bad_candidates.as_bytes()
        )
        .await
        .status,
        303
    );
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "schools",
            "schools.csv",
            bad_schools.as_bytes()
        )
        .await
        .status,
        303
    );
    // A dry run before a passing validation is refused.
    let r = c
        .post_form(&format!("{round}/run"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = c
        .post_form(&format!("{round}/validate"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let page = r.text();
    assert!(page.contains("校验未通过"), "{page}");
    for needle in [
        "candidates.csv",
        "schools.csv",
        "<td>第 3 行</td>",
        "<td>第 4 行</td>",
        "S9",
        "-1",
    ] {
        assert!(
            page.contains(needle),
            "missing {needle} in the errors: {page}"
        );
    }
    // Nothing ran: no results to download, still in draft.
    assert_eq!(c.get(&format!("{round}/admissions.csv")).await.status, 409);
    assert_eq!(
        c.post_form(&format!("{round}/run"), &[("_csrf", &csrf)])
            .await
            .status,
        409
    );
    let rows: i64 = app
        .db()
        .scalar(yimeng_store::testing::Sql::new(
            "SELECT COUNT(*) FROM admission_result",
        ))
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // The ID-number mapping is checked row by row and never echoes an ID number back.
    let bad_ids = "candidate_id,id_card\nC1,11010519491231002X\nC2,110105194912310012\n";
    let r = upload(
        &c,
        &csrf,
        &round,
        "candidate_ids",
        "candidate_ids.csv",
        bad_ids.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("第 3 行") && !r.text().contains("110105194912310012"),
        "{}",
        r.text()
    );

    // Good files.
    let candidates = "candidate_id,junior_school,total,t1,choice_1,choice_2\n\
                      C1,J1,600,90,S1,S2\n\
                      C2,J1,590,80,S1,S2\n\
                      C3,J2,580,70,S1,\n";
    let schools = "school_code,seats\nS1,1\nS2,1\n";
    let ids = "candidate_id,id_card\nC1,11010519491231002X\nC2,110105194912310011\n";
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "candidates",
            "candidates.csv",
            candidates.as_bytes()
        )
        .await
        .status,
        303
    );
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "schools",
            "schools.csv",
            schools.as_bytes()
        )
        .await
        .status,
        303
    );
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "candidate_ids",
            "candidate_ids.csv",
            ids.as_bytes()
        )
        .await
        .status,
        303
    );
    let r = c
        .post_form(&format!("{round}/validate"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = c
        .post_form(&format!("{round}/run"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = c.get(&round).await.text();
    assert!(
        page.contains("录取 2 人") && page.contains("未录取 1 人"),
        "{page}"
    );
    let r = c.get(&format!("{round}/admissions.csv")).await;
    assert_eq!(
        r.text(),
        "candidate_id,school_code,pool\nC1,S1,general\nC2,S2,general\nC3,,\n"
    );
    let r = c.get(&format!("{round}/cutoffs.csv")).await;
    assert_eq!(
        r.text(),
        "school_code,pool,junior_school,admitted,min_total\nS1,general,,1,600\nS2,general,,1,590\n"
    );
    let r = c.get(&format!("{round}/explain?candidate=C2")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("第 1 志愿 S1"), "{}", r.text());
    assert_eq!(
        c.get(&format!("{round}/results?format=xlsx")).await.status,
        200
    );
    assert!(
        c.get(&format!("{round}/results?school=-"))
            .await
            .text()
            .contains("<td>C3</td>")
    );
    // Not public before publication.
    let anon = app.client();
    let form = anon.get("/public/admission").await;
    assert!(form.text().contains("尚未发布"));

    // Publication needs the confirmation, then freezes the round.
    let r = c
        .post_form(&format!("{round}/publish"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 422);
    let r = c
        .post_form(
            &format!("{round}/publish"),
            &[("_csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "schools",
            "schools.csv",
            b"school_code,seats\nS1,9\nS2,9\n"
        )
        .await
        .status,
        409
    );
    assert_eq!(
        upload(
            &c,
            &csrf,
            &round,
            "candidate_ids",
            "candidate_ids.csv",
            ids.as_bytes()
        )
        .await
        .status,
        409
    );
    assert_eq!(
        c.post_form(&format!("{round}/validate"), &[("_csrf", &csrf)])
            .await
            .status,
        409
    );
    assert_eq!(
        c.post_form(&format!("{round}/run"), &[("_csrf", &csrf)])
            .await
            .status,
        409
    );
    assert_eq!(
        c.post_form(
            &format!("{round}/files/candidate_ids/delete"),
            &[("_csrf", &csrf)]
        )
        .await
        .status,
        409
    );
    assert_eq!(
        c.post_form(
            &format!("{round}/publish"),
            &[("_csrf", &csrf), ("confirm", "yes")]
        )
        .await
        .status,
        409
    );
    let r = c
        .get(&format!(
            "/api/v1{}/admissions.csv",
            round.replace("/admission/", "/admission/rounds/")
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "candidate_id,school_code,pool\nC1,S1,general\nC2,S2,general\nC3,,\n"
    );

    // The public lookup: own result with the right ID number, nothing with a wrong one.
    let form = anon.get("/public/admission").await;
    let token = form.csrf();
    let r = anon
        .post_form(
            "/public/admission",
            &[
                ("_csrf", &token),
                ("candidate_id", "C2"),
                ("id_card", "110105194912310011"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<strong>S2</strong>"), "{}", r.text());
    let r = anon
        .post_form(
            "/public/admission",
            &[
                ("_csrf", &token),
                ("candidate_id", "C2"),
                ("id_card", "11010519491231002X"),
            ],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(
        !r.text().contains("S2") && !r.text().contains("590"),
        "{}",
        r.text()
    );
    // A candidate without an ID number on file is never found.
    let r = anon
        .post_form(
            "/public/admission",
            &[
                ("_csrf", &token),
                ("candidate_id", "C3"),
                ("id_card", "11010519491231002X"),
            ],
        )
        .await;
    assert_eq!(r.status, 404);
    // Without the form's token: refused.
    let r = anon
        .post_form(
            "/public/admission",
            &[("candidate_id", "C2"), ("id_card", "110105194912310011")],
        )
        .await;
    assert_eq!(r.status, 403);

    // Cut-off lines are public: page, file and API.
    let r = anon.get("/public/admission/cutoffs").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("<td>S1</td>") && r.text().contains("<td>600</td>"),
        "{}",
        r.text()
    );
    let r = anon.get("/public/admission/cutoffs?format=csv").await;
    assert!(r.text().contains("S2,general,,1,590"));
    let r = anon.get("/api/v1/public/admission/cutoffs").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["cutoffs"][1]["min_total"], "590");
    assert_eq!(j["round"]["name"], "测试统一招生");
    // The workflow itself is not public.
    assert_eq!(anon.get("/api/v1/admission/rounds").await.status, 401);
    let county = app.login("lanshan").await;
    assert_eq!(county.get(&round).await.status, 403);

    // Every step was audited.
    let n: i64 = app
        .db()
        .scalar(yimeng_store::testing::Sql::new(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'admission_round' AND action = 'publish'",
        ))
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.stop().await;
}
