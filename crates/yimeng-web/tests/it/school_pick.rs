//! The public transfer forms do not list the city's 3,000 schools at once: a parent narrows the
//! receiving schools by county, stage and a part of the name, and a form that comes back with an
//! error still lists (and keeps) the school chosen.

use crate::support::TestApp;
use yimeng_testkit::TestDb;

/// The `value`s of the options of the select named `school`.
fn school_options(page: &str) -> Vec<String> {
    let Some(start) = page.find("name=\"school\"") else {
        return Vec::new();
    };
    let rest = &page[start..];
    let end = rest.find("</select>").unwrap_or(rest.len());
    rest[..end]
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split('"').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_parent_narrows_the_receiving_schools_by_county_stage_and_name() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let parent = app.client();
    for path in ["/public/transfer", "/public/transfer/incoming"] {
        // Nothing chosen yet: no school listed, and the page says how to find one.
        let page = parent.get(path).await;
        assert_eq!(page.status, 200);
        let text = page.text();
        assert!(school_options(&text).is_empty(), "{path}");
        assert!(text.contains("先选择转入学校所在的县区"), "{path}");

        // A county: its schools only.
        let all = school_options(&parent.get(&format!("{path}?county=371302")).await.text());
        assert!(!all.is_empty(), "{path}");
        assert!(all.iter().all(|v| v.starts_with("371302:")), "{all:?}");
        // And a stage: fewer, all of them teaching it.
        let primary = parent
            .get(&format!("{path}?county=371302&stage=primary"))
            .await
            .text();
        let primary = school_options(&primary);
        assert!(!primary.is_empty() && primary.len() < all.len(), "{path}");
        for v in &primary {
            let (c, id) = v.split_once(':').unwrap();
            let stages: (String,) = yimeng_store::testing::RawQuery::one(
                app.db(),
                yimeng_store::testing::Sql::new(&format!(
                    "SELECT stages FROM school WHERE county_id = {c} AND id = {id}"
                )),
            )
            .await
            .unwrap();
            assert!(stages.0.contains("primary"), "{v}: {}", stages.0);
        }
        // A part of a name, across the city.
        let named = parent
            .get(&format!("{path}?q=%E5%B0%8F%E5%AD%A6"))
            .await
            .text();
        assert!(!school_options(&named).is_empty(), "{path}");
        // A county that is not Linyi's narrows nothing.
        let bad = parent.get(&format!("{path}?county=110101")).await;
        assert_eq!(bad.status, 200);
        assert!(school_options(&bad.text()).is_empty());
    }

    // A request that comes back with an error keeps the chosen school in the list.
    let page = parent.get("/public/transfer?county=371302").await;
    let token = page.csrf();
    let chosen = school_options(&page.text())[0].clone();
    let back = parent
        .post_form(
            "/public/transfer",
            &[
                ("_csrf", &token),
                ("student_no", "G000000000000000000"),
                ("id_card", "371302201001010000"),
                ("school", &chosen),
                ("phone", "13800000000"),
                ("reason", "随父母工作调动"),
            ],
        )
        .await;
    assert_eq!(back.status, 422);
    let text = back.text();
    assert!(school_options(&text).contains(&chosen), "{text}");
    assert!(
        text.contains(&format!("value=\"{chosen}\" selected")),
        "the chosen school stays chosen"
    );
    app.stop().await;
}
