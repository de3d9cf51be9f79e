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

/// The exchange files of a small synthetic city in the Linyi layout (what `yimeng admit-gen`
/// writes): candidates, schools, quotas.
fn demo_files() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    use yimeng_engine::admission::{exchange, synth};
    let inst = synth::generate(&synth::SynthParams {
        candidates: 3_000,
        schools: 60,
        juniors: 120,
        ..synth::SynthParams::default()
    });
    let (mut c, mut s, mut q) = (Vec::new(), Vec::new(), Vec::new());
    exchange::write_candidates(&inst, &mut c).unwrap();
    exchange::write_schools(&inst, &mut s).unwrap();
    exchange::write_quotas(&inst, &mut q).unwrap();
    (c, s, q)
}

async fn api_upload(c: &Client, csrf: &str, id: i64, kind: &str, name: &str, data: &[u8]) -> Resp {
    c.post_multipart(
        &format!("/api/v1/admission/rounds/{id}/files/{kind}"),
        &[],
        Some(("file", name, data)),
        &[("x-csrf-token", csrf)],
    )
    .await
}

async fn api_post(c: &Client, csrf: &str, path: &str, body: serde_json::Value) -> Resp {
    c.json(axum::http::Method::POST, path, &body, Some(csrf))
        .await
}

fn assert_problem(r: &Resp, status: u16, needles: &[&str]) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text()
    );
    let detail = r.json()["detail"].as_str().unwrap_or_default().to_string();
    for n in needles {
        assert!(detail.contains(n), "missing {n} in {detail}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_drives_a_round_from_creation_to_published_results() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    let csrf = c.csrf().await;
    let r = api_post(
        &c,
        &csrf,
        "/api/v1/admission/rounds",
        serde_json::json!({"year": 2026, "name": "接口统一招生"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["round"]["id"].as_i64().unwrap();
    let base = format!("/api/v1/admission/rounds/{id}");
    // Same rules as the pages: no dry run before a passing validation, no results before it.
    assert_problem(
        &api_post(&c, &csrf, &format!("{base}/run"), serde_json::json!({})).await,
        409,
        &["请先校验"],
    );
    assert_eq!(c.get(&format!("{base}/cutoffs.csv")).await.status, 409);

    let (candidates, schools, quotas) = demo_files();
    for (kind, name, data) in [
        ("candidates", "candidates.csv", &candidates),
        ("schools", "schools.csv", &schools),
        ("quotas", "quotas.csv", &quotas),
    ] {
        let r = api_upload(&c, &csrf, id, kind, name, data).await;
        assert_eq!(r.status, 201, "{kind}: {}", r.text());
        assert_eq!(r.json()["kind"], kind);
    }
    let r = api_post(
        &c,
        &csrf,
        &format!("{base}/validate"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["valid"], true);

    let r = api_post(&c, &csrf, &format!("{base}/run"), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let summary = r.json();
    assert_eq!(summary["candidates"], 3000);
    let placed = summary["placed"].as_u64().unwrap();
    assert!(placed > 1000 && placed < 3000, "{summary}");
    assert!(summary["quota"].as_u64().unwrap() > 0, "{summary}");

    // The same files through the engine directly: the API's results are exactly those.
    let expected = {
        use yimeng_engine::admission::{self as engine, exchange};
        let src = exchange::Sources {
            candidates: exchange::Source {
                name: "candidates.csv",
                bytes: &candidates,
            },
            schools: exchange::Source {
                name: "schools.csv",
                bytes: &schools,
            },
            quotas: Some(exchange::Source {
                name: "quotas.csv",
                bytes: &quotas,
            }),
            policy: None,
        };
        let (inst, policy) = exchange::load(&src).unwrap();
        let outcome = engine::admit(&inst, &policy).unwrap();
        let (mut a, mut k) = (Vec::new(), Vec::new());
        exchange::write_admissions(&inst, &outcome, &mut a).unwrap();
        exchange::write_cutoffs(&inst, &outcome, &mut k).unwrap();
        let first = inst.candidates[0].id.clone();
        (a, k, first)
    };
    let r = c.get(&format!("{base}/cutoffs.csv")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), expected.1.as_slice());
    let r = c.get(&format!("{base}/results?page=2")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.json();
    assert_eq!(page["total"], 3000);
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let r = c
        .get(&format!("{base}/explain?candidate={}", expected.2))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.json()["explanation"].as_str().unwrap().is_empty());
    assert_problem(
        &c.get(&format!("{base}/explain?candidate=2699999999999999"))
            .await,
        404,
        &[],
    );
    // admissions.csv only once published.
    assert_problem(
        &c.get(&format!("{base}/admissions.csv")).await,
        409,
        &["尚未发布"],
    );

    assert_problem(
        &api_post(&c, &csrf, &format!("{base}/publish"), serde_json::json!({})).await,
        422,
        &["确认发布"],
    );
    let r = api_post(
        &c,
        &csrf,
        &format!("{base}/publish"),
        serde_json::json!({"confirm": true}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["round"]["status"], "published");
    let r = c.get(&format!("{base}/admissions.csv")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), expected.0.as_slice());

    // Frozen: every change is 409 in Chinese, and nothing changed.
    let frozen = ["已发布", "不能再修改"];
    assert_problem(
        &api_upload(&c, &csrf, id, "quotas", "quotas.csv", &quotas).await,
        409,
        &frozen,
    );
    let r = c
        .json(
            axum::http::Method::DELETE,
            &format!("{base}/files/quotas"),
            &serde_json::json!({}),
            Some(&csrf),
        )
        .await;
    assert_problem(&r, 409, &frozen);
    for step in ["validate", "run"] {
        assert_problem(
            &api_post(&c, &csrf, &format!("{base}/{step}"), serde_json::json!({})).await,
            409,
            &frozen,
        );
    }
    assert_problem(
        &api_post(
            &c,
            &csrf,
            &format!("{base}/publish"),
            serde_json::json!({"confirm": true}),
        )
        .await,
        409,
        &frozen,
    );
    let r = c.get(&base).await;
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        c.get(&format!("{base}/admissions.csv")).await.body.as_ref(),
        expected.0.as_slice()
    );

    // The OpenAPI document lists every step.
    let doc = c.get("/api/v1/openapi.json").await.json();
    for path in [
        "/api/v1/admission/rounds",
        "/api/v1/admission/rounds/{id}/files/{kind}",
        "/api/v1/admission/rounds/{id}/validate",
        "/api/v1/admission/rounds/{id}/run",
        "/api/v1/admission/rounds/{id}/publish",
        "/api/v1/admission/rounds/{id}/explain",
        "/api/v1/admission/rounds/{id}/results",
        "/api/v1/admission/rounds/{id}/admissions.csv",
        "/api/v1/admission/rounds/{id}/cutoffs.csv",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} not in the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/api/v1/admission/rounds"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/admission/rounds/{id}/files/{kind}"]["delete"].is_object());
    // Other roles: refused.
    let county = app.login("lanshan").await;
    assert_eq!(county.get(&base).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_file_through_the_api_gives_422_naming_row_and_field() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    let csrf = c.csrf().await;
    let r = api_post(
        &c,
        &csrf,
        "/api/v1/admission/rounds",
        serde_json::json!({"year": 2026, "name": "错误文件"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["round"]["id"].as_i64().unwrap();
    let base = format!("/api/v1/admission/rounds/{id}");
    let candidates = "candidate_id,junior_school,total,choice_1\n\
                      2637130201000001,3713020001,600,371302001\n\
                      2637130201000002,3713020001,六百,371302001\n\
                      2637130201000003,3713020001,580,371399001\n";
    let schools = "school_code,seats\n371302001,1\n";
    for (kind, data) in [("candidates", candidates), ("schools", schools)] {
        let r = api_upload(&c, &csrf, id, kind, &format!("{kind}.csv"), data.as_bytes()).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = api_post(
        &c,
        &csrf,
        &format!("{base}/validate"),
        serde_json::json!({}),
    )
    .await;
    assert_problem(
        &r,
        422,
        &[
            "校验未通过",
            "第 3 行",
            "【total】",
            "第 4 行",
            "【choice_1】",
        ],
    );
    let body = r.json();
    assert_eq!(body["count"], 2);
    let issues = body["issues"].as_array().unwrap();
    assert_eq!(issues[0]["file"], "candidates.csv");
    assert_eq!(issues[0]["row"], 3);
    assert_eq!(issues[0]["column"], "total");
    assert_eq!(issues[1]["row"], 4);
    assert_eq!(issues[1]["column"], "choice_1");
    assert_eq!(issues[1]["value"], "371399001");
    // Nothing ran.
    assert_eq!(c.get(&format!("{base}/cutoffs.csv")).await.status, 409);
    assert_problem(
        &api_post(&c, &csrf, &format!("{base}/run"), serde_json::json!({})).await,
        409,
        &[],
    );

    // A malformed ID number file: 422 with its row and column, nothing stored, the number itself
    // never echoed.
    let ids = "candidate_id,id_card\n2637130201000001,11010519491231002X\n2637130201000002,110105194912310021\n";
    let r = api_upload(
        &c,
        &csrf,
        id,
        "candidate_ids",
        "candidate_ids.csv",
        ids.as_bytes(),
    )
    .await;
    assert_problem(&r, 422, &["candidate_ids.csv", "第 3 行", "【id_card】"]);
    assert!(!r.text().contains("110105194912310021"), "{}", r.text());
    let files = c.get(&base).await.json();
    assert_eq!(files["files"].as_array().unwrap().len(), 2, "{files}");
    // An unknown file kind.
    assert_eq!(
        api_upload(&c, &csrf, id, "diplomas", "x.csv", b"a\n")
            .await
            .status,
        404
    );
}
