//! The counts a user sees (the statistics API, the home page) follow every write at once: each
//! county's figures are kept only until its data changes, and a city total is the sum of its
//! counties' current figures.

use crate::support::*;
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

/// Students by status code from the statistics API's total.
fn by_status(stats: &Value) -> BTreeMap<String, i64> {
    stats["total"]["students"]
        .as_object()
        .unwrap_or_else(|| panic!("{stats}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect()
}

/// Students by status code counted in the store, optionally in one county.
async fn counted(app: &TestApp, county: Option<i32>) -> BTreeMap<String, i64> {
    let mut q = Sql::new("SELECT status, COUNT(*) FROM student");
    if let Some(c) = county {
        q.push(" WHERE county_id = ").bind(c);
    }
    q.push(" GROUP BY status");
    let rows: Vec<(String, i64)> = app.db().all(q).await.unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn city_and_county_counts_follow_a_write_at_once() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let city = app.login("admin").await;
        let county = app.login("lanshan").await;
        let mut q = Sql::new("SELECT CAST(county_id AS BIGINT) FROM school WHERE id = ");
        q.bind(app.ids.own_school);
        let lanshan = i32::try_from(app.db().scalar(q).await.unwrap()).unwrap();

        // Counted once, then served from the county entries.
        for _ in 0..2 {
            let r = city.get("/api/v1/stats").await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(by_status(&r.json()), counted(&app, None).await);
            let r = county.get("/api/v1/stats").await;
            assert_eq!(by_status(&r.json()), counted(&app, Some(lanshan)).await);
        }
        let home_before = city.get("/").await;
        assert_eq!(home_before.status, 200);

        // The county bureau suspends a student directly: both users see it on their next read.
        let token = county.csrf().await;
        let r = county
            .json(
                Method::POST,
                &format!("/api/v1/students/{}/status", app.ids.own_student),
                &json!({"status": "休学", "reason": "因病休学一年"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let after = counted(&app, None).await;
        let r = city.get("/api/v1/stats").await;
        assert_eq!(by_status(&r.json()), after);
        assert_eq!(
            by_status(&county.get("/api/v1/stats").await.json()),
            counted(&app, Some(lanshan)).await
        );

        // The city's total is the sum of its counties' (each cell names one county).
        let cells = r.json()["cells"].as_array().unwrap().clone();
        let mut summed: BTreeMap<String, i64> = BTreeMap::new();
        for c in &cells {
            for (k, v) in c["counts"]["students"].as_object().unwrap() {
                *summed.entry(k.clone()).or_default() += v.as_i64().unwrap();
            }
        }
        assert_eq!(summed, after);

        // A school account's scope is counted directly and holds its school only.
        let school = app.login(&app.ids.school_login).await;
        let r = school.get("/api/v1/stats").await;
        if r.status == 200 {
            let mut q = Sql::new("SELECT COUNT(*) FROM student WHERE school_id = ");
            q.bind(app.ids.own_school);
            let n: i64 = app.db().scalar(q).await.unwrap();
            assert_eq!(by_status(&r.json()).values().sum::<i64>(), n);
        }
        app.stop().await;
    }
}

/// The home page's big-class bars are drawn to the share each is labelled with (the largest share
/// the longest bar), not to the count.
#[tokio::test]
async fn the_home_pages_share_bars_are_as_long_as_their_shares() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let admin = app.login("admin").await;
    let page = admin.get("/").await.text();
    // (bar width, share in percent) of each county row.
    let mut bars: Vec<(f64, f64)> = Vec::new();
    for part in page.split("<rect class=\"fill bad\" width=\"").skip(1) {
        let width: f64 = part.split('"').next().unwrap().parse().unwrap();
        let after = part.split("</svg>").nth(1).unwrap_or_default().trim_start();
        let Some(pct) = after
            .split('%')
            .next()
            .and_then(|p| p.trim().parse::<f64>().ok())
        else {
            continue;
        };
        bars.push((width, pct));
    }
    assert!(bars.len() >= 3, "county bars on the home page: {bars:?}");
    let max_pct = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    assert!(max_pct > 0.0, "{bars:?}");
    for (w, p) in &bars {
        let want = p / max_pct * 160.0;
        // The share is shown rounded to 0.1 %; a bar rounds to whole pixels (at least 2 when
        // above zero).
        let slack = 160.0 * 0.05 / max_pct + 2.0;
        assert!(
            (w - want).abs() <= slack,
            "a bar of {w}px for {p}% (largest {max_pct}%): {bars:?}"
        );
    }
    app.stop().await;
}
