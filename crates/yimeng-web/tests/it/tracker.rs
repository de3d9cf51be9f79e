//! The plan tracker on the running server: every computed indicator against an independent count
//! over the exported registry files (a second path: the export files and plain rules written out
//! here, not the store's queries), monthly dispatch from filing to approval and the lock, the
//! snapshot behind a past date, and the API.

use crate::support::TestApp;
use axum::http::Method;
use std::collections::{BTreeMap, HashMap};
use yimeng_io::{FileFormat, Table};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

/// Reads an exported CSV (UTF-8 with BOM) into maps keyed by the Chinese headers.
fn read_export(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

async fn export(
    app: &TestApp,
    table: Table,
    dir: &std::path::Path,
) -> Vec<HashMap<String, String>> {
    let path = dir.join(format!("{}.csv", table.name()));
    yimeng_web::service::export::export_table(
        app.db(),
        &yimeng_domain::Scope::City,
        table,
        &path,
        FileFormat::Csv,
        &|_| {},
    )
    .await
    .unwrap();
    read_export(&path)
}

/// Independent counts of one region.
#[derive(Debug, Default, Clone)]
struct Expect {
    classes: i64,
    big: i64,
    huge: i64,
    starting: i64,
    starting_over: i64,
    standard: i64,
    over_standard: i64,
    kg: i64,
    kg_public: i64,
    kg_inclusive: i64,
    senior1: i64,
    voc1: i64,
    recruited: i64,
    rural_funded: i64,
    schools: i64,
    guard: i64,
    all_four: i64,
    central: i64,
    gigabit: i64,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 * 100.0 / d as f64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computed_indicators_equal_an_independent_count_over_the_exported_files() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(t).await;
    let dir = tempfile::tempdir().unwrap();
    let schools = export(&app, Table::Schools, dir.path()).await;
    let classes = export(&app, Table::Classes, dir.path()).await;
    let students = export(&app, Table::Students, dir.path()).await;
    let staff = export(&app, Table::Staff, dir.path()).await;

    // Schools: county and attributes by 学校标识码.
    let county_code: HashMap<&str, i32> = yimeng_domain::region::LINYI_UNITS
        .iter()
        .map(|u| (u.name, u.code.get()))
        .collect();
    let school_county: HashMap<String, i32> = schools
        .iter()
        .map(|s| {
            let c = s["所属县区"].as_str();
            let code = county_code
                .get(c)
                .copied()
                .or_else(|| c.parse().ok())
                .unwrap_or_else(|| panic!("county {c}"));
            (s["学校标识码"].clone(), code)
        })
        .collect();
    let by_code: HashMap<String, &HashMap<String, String>> = schools
        .iter()
        .map(|s| (s["学校标识码"].clone(), s))
        .collect();
    let mut e: BTreeMap<i32, Expect> = BTreeMap::new();
    let yes = |v: &str| v == "是";
    for s in &schools {
        let x = e.entry(school_county[&s["学校标识码"]]).or_default();
        x.schools += 1;
        let guard = yes(&s["专职保安"]);
        x.guard += i64::from(guard);
        x.all_four += i64::from(
            guard && yes(&s["封闭化管理"]) && yes(&s["一键式报警和视频监控"]) && yes(&s["护学岗"]),
        );
        let t = s["学校类别"].as_str();
        let central = matches!(
            t,
            "初级中学" | "九年一贯制学校" | "完全中学" | "高级中学" | "十二年一贯制学校"
        ) || (t == "小学" && yes(&s["中心校"]));
        if central {
            x.central += 1;
            let bw: i64 = s["出口带宽(Mbps)"].parse().unwrap_or(0);
            x.gigabit += i64::from(bw >= 1000);
        }
    }

    // Class sizes from the student rows: 在读 and 复学 count (休学 does not, by default).
    let year_of = |y: &str| y[..4].parse::<i32>().unwrap();
    let mut size: HashMap<(String, String, String, String), i64> = HashMap::new();
    let mut latest: HashMap<i32, i32> = HashMap::new();
    for c in &classes {
        let county = school_county[&c["学校标识码"]];
        let y = latest.entry(county).or_insert(0);
        *y = (*y).max(year_of(&c["学年"]));
    }
    for s in &students {
        let key = (
            s["学校标识码"].clone(),
            s["学年"].clone(),
            s["年级"].clone(),
            s["班号"].clone(),
        );
        let status = s["学籍状态"].as_str();
        if matches!(status, "在读" | "复学") {
            *size.entry(key.clone()).or_default() += 1;
        }
        if s["班号"].is_empty() || !matches!(status, "在读" | "休学" | "复学") {
            continue;
        }
        let county = school_county[&s["学校标识码"]];
        if year_of(&s["学年"]) != latest[&county] {
            continue;
        }
        let x = e.entry(county).or_default();
        let school = by_code[&s["学校标识码"]];
        match s["年级"].as_str() {
            "小班" | "中班" | "大班" | "混龄班" => {
                x.kg += 1;
                let public = school["办学性质"] == "公办";
                x.kg_public += i64::from(public);
                x.kg_inclusive += i64::from(public || yes(&school["普惠性"]));
            }
            "高一" => x.senior1 += 1,
            "中职一年级" => x.voc1 += 1,
            _ => {}
        }
    }
    const PRIMARY: [&str; 6] = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"];
    const JUNIOR: [&str; 3] = ["七年级", "八年级", "九年级"];
    const SENIOR: [&str; 3] = ["高一", "高二", "高三"];
    // 普通中小学: the classes of 特殊教育学校 are in no class-size count (they must exist here, or
    // the rule is not exercised).
    let mut special_classes = 0;
    for c in &classes {
        let county = school_county[&c["学校标识码"]];
        if year_of(&c["学年"]) != latest[&county] {
            continue;
        }
        if by_code[&c["学校标识码"]]["学校类别"] == "特殊教育学校" {
            special_classes += 1;
            continue;
        }
        let g = c["年级"].as_str();
        let n = size
            .get(&(
                c["学校标识码"].clone(),
                c["学年"].clone(),
                c["年级"].clone(),
                c["班号"].clone(),
            ))
            .copied()
            .unwrap_or(0);
        let x = e.entry(county).or_default();
        let (primary, junior, senior) = (
            PRIMARY.contains(&g),
            JUNIOR.contains(&g),
            SENIOR.contains(&g),
        );
        if primary || junior || senior {
            x.classes += 1;
            x.big += i64::from(n >= 56);
            x.huge += i64::from(n >= 66);
        }
        if matches!(g, "一年级" | "七年级" | "高一") {
            x.starting += 1;
            x.starting_over += i64::from(n > 55);
        }
        if primary || junior {
            x.standard += 1;
            x.over_standard += i64::from((primary && n > 45) || (junior && n > 50));
        }
    }
    // 新招聘教师数 counts every recruit of the year, whatever the status now; the 公费师范生 placed
    // count those still in post.
    let mut recruits_gone = 0;
    for s in &staff {
        if !s["入职日期"].starts_with("2020-") {
            continue;
        }
        let in_post = matches!(s["任职状态"].as_str(), "在岗" | "长期病假" | "借调");
        let county = school_county[&s["学校标识码"]];
        let x = e.entry(county).or_default();
        let source = s["补充来源"].as_str();
        if s["岗位类别"] == "专任教师"
            && matches!(source, "公开招聘" | "公费师范生" | "特岗教师" | "人才引进")
        {
            x.recruited += 1;
            recruits_gone += i64::from(!in_post);
        }
        let location = by_code[&s["学校标识码"]]["城乡分类"].as_str();
        if source == "公费师范生" && in_post && matches!(location, "镇区" | "乡村") {
            x.rural_funded += 1;
        }
    }
    let mut city = Expect::default();
    for x in e.values() {
        macro_rules! add { ($($f:ident),*) => { $(city.$f += x.$f;)* } }
        add!(
            classes,
            big,
            huge,
            starting,
            starting_over,
            standard,
            over_standard,
            kg,
            kg_public,
            kg_inclusive,
            senior1,
            voc1,
            recruited,
            rural_funded,
            schools,
            guard,
            all_four,
            central,
            gigabit
        );
    }
    assert!(
        city.classes > 50 && city.kg > 0 && city.schools > 20,
        "a usable demo city: {city:?}"
    );
    assert!(
        special_classes > 0 && recruits_gone > 0,
        "the demo city has special-school classes ({special_classes}) and recruits of 2020 no \
         longer in post ({recruits_gone})"
    );

    let board = app.state.board(None).await.unwrap();
    let check = |region: i32, x: &Expect| {
        let v = |code: &str| board.figure(region, code).value;
        let close = |code: &str, want: Option<f64>| {
            let got = v(code);
            match (got, want) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{region} {code}: {a} ≠ {b}"),
                (a, b) => assert_eq!(a, b, "{region} {code}"),
            }
        };
        close("big_class_count", Some(x.big as f64));
        close("big_class_share", pct(x.big, x.classes));
        close("huge_class_count", Some(x.huge as f64));
        close("huge_class_share", pct(x.huge, x.classes));
        close("big_class_56_65_share", pct(x.big - x.huge, x.classes));
        close("start_grade_over_55", Some(x.starting_over as f64));
        close("over_standard_count", Some(x.over_standard as f64));
        close("over_standard_share", pct(x.over_standard, x.standard));
        close("inclusive_kg_coverage", pct(x.kg_inclusive, x.kg));
        close("public_kg_coverage", pct(x.kg_public, x.kg));
        close("teachers_recruited", Some(x.recruited as f64));
        close("rural_funded_normal_placed", Some(x.rural_funded as f64));
        close(
            "vocational_general_ratio",
            (x.senior1 > 0).then(|| x.voc1 as f64 / x.senior1 as f64),
        );
        close("safety_guard_share", pct(x.guard, x.schools));
        close("safety_all_four_share", pct(x.all_four, x.schools));
        close("gigabit_share", pct(x.gigabit, x.central));
    };
    check(371300, &city);
    for (county, x) in &e {
        check(*county, x);
    }
    // Special-education schools: the twelve counties and districts, not the zones.
    let with_special = yimeng_domain::region::LINYI_UNITS
        .iter()
        .filter(|u| u.in_gb2260)
        .filter(|u| {
            schools.iter().any(|s| {
                school_county[&s["学校标识码"]] == u.code.get() && s["学校类别"] == "特殊教育学校"
            })
        })
        .count();
    assert_eq!(
        board.figure(371300, "special_school_county_share").value,
        pct(with_special as i64, 12)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_report_is_approved_by_the_lead_department_and_then_locked() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let board = app.state.board(None).await.unwrap();
        let plan = board.plan.clone();
        // A task the counties report on whose item has an indicator the counties report.
        let (item, task, def) = plan
            .items
            .iter()
            .flat_map(|i| i.tasks.iter().map(move |t| (i, t)))
            .filter(|(_, t)| t.reporters == yimeng_domain::plan::Reporters::Counties)
            .find_map(|(i, t)| {
                yimeng_web::pages::dispatch::reported_indicators(&plan, i, "371302")
                    .first()
                    .map(|d| (i.clone(), t.clone(), (*d).clone()))
            })
            .expect("a county-reported indicator");
        let lead = if item.lead == "basic" {
            "jyk".to_string()
        } else {
            format!("k_{}", item.lead)
        };
        let county = app.login("lanshan").await;
        let token = county.csrf().await;
        let form = |action: &str, value: &str, file: Option<(&'static str, Vec<u8>)>| {
            let mut fields = vec![
                ("_csrf".to_string(), token.clone()),
                ("period".to_string(), "2020-06".to_string()),
                ("progress".to_string(), "60".to_string()),
                (
                    "narrative".to_string(),
                    "已完成摸底排查，正在整改。".to_string(),
                ),
                (format!("value_{}", def.code), value.to_string()),
                ("action".to_string(), action.to_string()),
            ];
            fields.retain(|(k, _)| !k.is_empty());
            (fields, file)
        };
        let path = format!("/dispatch/tasks/{}", task.code);
        let post = |fields: Vec<(String, String)>, file: Option<(&'static str, Vec<u8>)>| {
            let county = &county;
            let path = path.clone();
            async move {
                let f: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let file = file.as_ref().map(|(n, d)| ("files", *n, d.as_slice()));
                county.post_multipart(&path, &f, file, &[]).await
            }
        };
        // A negative value and a renamed executable are refused, and nothing is stored.
        let (f, file) = form(
            "submit",
            "-5",
            Some(("佐证.pdf", b"MZ\x90\x00not a pdf".to_vec())),
        );
        let r = post(f, file).await;
        assert_eq!(r.status, 422, "{}", r.text());
        let text = r.text();
        assert!(text.contains("无效") && text.contains("与扩展名"), "{text}");
        let none = yimeng_store::dispatch::list(
            app.db(),
            &yimeng_store::dispatch::ReportFilter {
                counties: vec![371302],
                plan_code: plan.code.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(none.is_empty(), "nothing written on bad input");
        // A good report with a real PDF is submitted.
        let (f, file) = form(
            "submit",
            "88.5",
            Some(("佐证.pdf", b"%PDF-1.4\n%test\n".to_vec())),
        );
        let r = post(f, file).await;
        assert_eq!(r.status, 303, "{}", r.text());
        let rows = yimeng_store::dispatch::list(
            app.db(),
            &yimeng_store::dispatch::ReportFilter {
                counties: vec![371302],
                plan_code: plan.code.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 1);
        let id = rows[0].id;
        let parent =
            yimeng_store::dispatch::visible(app.db(), &yimeng_domain::Scope::City, 371302, id)
                .await
                .unwrap();
        let report = yimeng_store::dispatch::get(app.db(), &parent)
            .await
            .unwrap();
        assert_eq!(report.files.len(), 1);
        // Not yet approved: the value does not count.
        let api = |c: &crate::support::Client| {
            let c = c.clone();
            async move { c.get("/api/v1/indicators?region=371302").await.json() }
        };
        let reviewer = app.login(&lead).await;
        let value_of = |j: &serde_json::Value| {
            j["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["code"] == def.code.as_str())
                .unwrap()["value"]
                .clone()
        };
        assert!(value_of(&api(&reviewer).await).is_null());
        // Another county's account cannot review (the report is outside its scope: 404, as for
        // any record of another county); returning needs a reason.
        let other = app.login("luozhuang").await;
        let ot = other.csrf().await;
        let review_path = format!("/dispatch/reports/371302/{id}/review");
        let r = other
            .post_form(&review_path, &[("_csrf", &ot), ("decision", "approve")])
            .await;
        assert_eq!(r.status, 404);
        let rt = reviewer.csrf().await;
        let r = reviewer
            .post_form(&review_path, &[("_csrf", &rt), ("decision", "return")])
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        let r = reviewer
            .post_form(&review_path, &[("_csrf", &rt), ("decision", "approve")])
            .await;
        assert_eq!(r.status, 303, "{}", r.text());
        // Approved: the county's value counts, and a second approval is refused.
        assert_eq!(value_of(&api(&reviewer).await), serde_json::json!(88.5));
        let r = reviewer
            .post_form(&review_path, &[("_csrf", &rt), ("decision", "approve")])
            .await;
        assert_eq!(r.status, 409, "{}", r.text());
        // The county can no longer change it.
        let (f, _) = form("submit", "50", None);
        let r = post(f, None).await;
        assert_eq!(r.status, 409, "{}", r.text());
        assert!(r.text().contains("锁定"));
        // Every step is in the report's history.
        let page = reviewer
            .get(&format!("/dispatch/reports/371302/{id}"))
            .await
            .text();
        assert!(page.contains("报送") && page.contains("审核通过"), "{page}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_date_shows_the_snapshot_taken_then_and_a_date_without_one_is_refused() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(t).await;
    let board = app.state.board(None).await.unwrap();
    let plan = board.plan.code.clone();
    let admin = app.login("admin").await;
    // A snapshot recorded on 2021-01-31 with a known value.
    let day = chrono::NaiveDate::from_ymd_opt(2021, 1, 31).unwrap();
    yimeng_store::snapshot::take(
        app.db(),
        &yimeng_store::Actor::system(),
        &plan,
        day,
        "monthly",
        vec![(
            371300,
            "big_class_count".into(),
            Some(7.0),
            Some(7.0),
            Some(1.0),
        )],
    )
    .await
    .unwrap();
    let j = admin.get("/api/v1/indicators?date=2021-02-15").await.json();
    assert_eq!(j["live"], serde_json::json!(false));
    let big = j["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "big_class_count")
        .unwrap()
        .clone();
    assert_eq!(big["value"], serde_json::json!(7.0));
    let r = admin.get("/api/v1/indicators?date=2020-01-01").await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("没有指标快照"));
    // The dashboard as of that date says where its figures come from.
    let page = admin.get("/plan?date=2021-02-15").await.text();
    assert!(page.contains("快照"), "{page}");
    // Taking a snapshot from the page records today's live figures.
    let token = admin.csrf().await;
    let r = admin
        .post_form("/plan/snapshots", &[("_csrf", &token)])
        .await;
    assert_eq!(r.status, 303);
    let list = yimeng_store::snapshot::list(app.db(), &plan).await.unwrap();
    assert!(list.iter().any(|s| s.kind == "manual"));
    let _ = Method::GET;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_drills_from_the_city_to_a_county_to_the_rows_behind_a_number() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(t).await;
    let c = app.login("admin").await;
    let r = c.get("/plan").await;
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(
        page.contains("56人及以上大班额") || page.contains("大班额"),
        "targets listed"
    );
    assert!(
        page.contains("滞后")
            || page.contains("有风险")
            || page.contains("正常推进")
            || page.contains("已完成")
    );
    let page = c.get("/indicators/safety_all_four_share").await.text();
    assert!(
        page.contains("<svg") && page.contains("兰山区"),
        "league chart with counties"
    );
    let page = c
        .get("/indicators/safety_all_four_share?region=371302")
        .await
        .text();
    assert!(page.contains("各学校"), "school level of the county");
    let r = c
        .get("/indicators/safety_all_four_share/rows?region=371302&format=csv")
        .await;
    assert_eq!(r.status, 200);
    let csv = r.text();
    let facts_schools = app
        .state
        .board(None)
        .await
        .unwrap()
        .facts
        .iter()
        .filter(|f| f.county == 371302)
        .count();
    assert_eq!(
        csv.lines().count(),
        facts_schools + 1,
        "one row per school, plus the header"
    );
    // The county's appraisal lists every unit with a traceable score.
    let page = c.get("/plan/appraisal").await.text();
    assert!(page.contains("兰山区") && page.contains("达成度"));
    // A county user sees the same figures and only its own county's schools.
    let county = app.login("luozhuang").await;
    let r = county
        .get("/indicators/big_class_count/rows?region=371302")
        .await;
    assert_eq!(r.status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatch_api_files_returns_resubmits_approves_and_flags_missing_reports() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(t).await;
    let county = app.login("lanshan").await;
    let ct = county.csrf().await;
    let path = "/api/v1/dispatch/tasks/18.1/report";
    // A bad month and progress are refused, naming the fields.
    let r = county
        .json(
            Method::POST,
            path,
            &serde_json::json!({"period": "2020-13", "progress": 140, "submit": true}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("2020-13") && r.text().contains("进度"));
    // Before filing, June's report is missing (its due time has passed).
    let o = county
        .get("/api/v1/dispatch/overview?period=2020-06")
        .await
        .json();
    let owed = o["owed"].as_array().unwrap();
    let june = owed.iter().find(|e| e["task"] == "18.1").unwrap();
    assert_eq!(june["missing"], serde_json::json!(true), "{o}");
    assert_eq!(june["state"], "draft");
    // Submitted now: late, no longer missing.
    let r = county
        .json(
            Method::POST,
            path,
            &serde_json::json!({"period": "2020-06", "progress": 50, "narrative": "推进中", "submit": true}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let row = r.json();
    let (c, id) = (
        row["county_id"].as_i64().unwrap(),
        row["id"].as_i64().unwrap(),
    );
    assert_eq!(row["status"], "submitted");
    let o = county
        .get("/api/v1/dispatch/overview?period=2020-06")
        .await
        .json();
    let june = o["owed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["task"] == "18.1")
        .unwrap()
        .clone();
    assert_eq!(
        (june["late"].clone(), june["missing"].clone()),
        (serde_json::json!(true), serde_json::json!(false))
    );
    // Evidence through the API; the lead department returns it with a reason.
    let up = county
        .post_multipart(
            &format!("/api/v1/dispatch/reports/{c}/{id}/files"),
            &[],
            Some(("file", "佐证.pdf", b"%PDF-1.4 x")),
            &[("x-csrf-token", &ct)],
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.text());
    let lead = app.login("jyk").await;
    let lt = lead.csrf().await;
    let ret = format!("/api/v1/dispatch/reports/{c}/{id}/return");
    let r = lead
        .json(
            Method::POST,
            &ret,
            &serde_json::json!({"reason": ""}),
            Some(&lt),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = lead
        .json(
            Method::POST,
            &ret,
            &serde_json::json!({"reason": "补充佐证"}),
            Some(&lt),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "returned");
    // The county cannot approve its own report.
    let approve = format!("/api/v1/dispatch/reports/{c}/{id}/approve");
    let r = county
        .json(Method::POST, &approve, &serde_json::json!({}), Some(&ct))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    // Resubmitted, approved, then locked.
    let r = county
        .json(
            Method::POST,
            path,
            &serde_json::json!({"period": "2020-06", "progress": 70, "narrative": "已补充", "submit": true}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.json()["status"], "submitted");
    let r = lead
        .json(Method::POST, &approve, &serde_json::json!({}), Some(&lt))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = county
        .json(
            Method::POST,
            path,
            &serde_json::json!({"period": "2020-06", "progress": 10, "narrative": "改", "submit": true}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("锁定"));
    let r = county
        .post_multipart(
            &format!("/api/v1/dispatch/reports/{c}/{id}/files"),
            &[],
            Some(("file", "佐证2.pdf", b"%PDF-1.4 y")),
            &[("x-csrf-token", &ct)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    // The report reads back with its decisions; the half-year report counts the month.
    let one = lead
        .get(&format!("/api/v1/dispatch/reports/{c}/{id}"))
        .await
        .json();
    let actions: Vec<&str> = one["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submit", "return", "resubmit", "approve"]);
    assert_eq!(one["files"].as_array().unwrap().len(), 1);
    let half = county.get("/api/v1/dispatch/half-year?half=1").await.json();
    let line = half["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["task"] == "18.1")
        .unwrap()
        .clone();
    assert_eq!(line["reported_months"], serde_json::json!(1), "{half}");
    let list = lead
        .get("/api/v1/dispatch/reports?status=approved")
        .await
        .json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"].as_i64() == Some(id))
    );
    app.stop().await;
}

/// A demo city lives in its plan's year: with the clock set to a day in autumn 2020, the tracker
/// judges progress at that day (not after the year's end, where every unmet target is 滞后), the
/// dispatch month is that month, the months before get their snapshots (so trends have points and
/// a past date works), and the dashboard says which day it runs at.
#[tokio::test]
async fn a_clock_inside_the_plan_year_judges_progress_then_and_fills_the_months_before() {
    let day = chrono::NaiveDate::from_ymd_opt(2020, 10, 15).unwrap();
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| c.clock = Some(day)).await;
    yimeng_web::service::tracker::ensure_plan(app.db())
        .await
        .unwrap();
    yimeng_web::app::monthly_snapshot(&app.state).await.unwrap();
    let admin = app.login("admin").await;

    let items = admin.get("/api/v1/plan/items").await.json();
    assert_eq!(items["as_of"], serde_json::json!("2020-10-15"));
    let statuses: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    let off = statuses.iter().filter(|s| **s == "off_track").count();
    assert!(
        off < statuses.len(),
        "a year in progress is not all 滞后: {statuses:?}"
    );
    let page = admin.get("/plan").await.text();
    assert!(page.contains("平台时钟设在工作要点年度内"), "{page}");
    assert!(page.contains("推进状态按 2020-10-15 判定"), "{page}");

    // A snapshot for every month of the year before the clock's, and one for the clock's day.
    let plan = app.state.board(None).await.unwrap().plan.code.clone();
    let dates: std::collections::BTreeSet<String> = yimeng_store::snapshot::list(app.db(), &plan)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.as_of.to_string())
        .collect();
    for d in [
        "2020-01-31",
        "2020-02-29",
        "2020-06-30",
        "2020-09-30",
        "2020-10-15",
    ] {
        assert!(dates.contains(d), "no snapshot of {d}: {dates:?}");
    }
    assert!(
        !dates.iter().any(|d| d.as_str() > "2020-10-15"),
        "{dates:?}"
    );
    // A past date of the year reads its snapshot.
    let j = admin.get("/api/v1/indicators?date=2020-06-30").await.json();
    assert_eq!(j["live"], serde_json::json!(false));
    // Taking the snapshots again adds none.
    let before = yimeng_store::snapshot::list(app.db(), &plan)
        .await
        .unwrap()
        .len();
    yimeng_web::app::monthly_snapshot(&app.state).await.unwrap();
    let after = yimeng_store::snapshot::list(app.db(), &plan)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    // The dispatch overview opens at the clock's month.
    let d = admin.get("/api/v1/dispatch/overview").await;
    assert_eq!(d.status, 200);
    assert!(d.text().contains("\"2020-10\""), "{}", d.text());
    app.stop().await;
}

/// The demo's monthly dispatch: every month before the clock's has its reports, filed and
/// approved through the store's own paths, each reported indicator gets a value, and filling again
/// adds nothing.
#[tokio::test]
async fn the_demo_fills_monthly_dispatch_up_to_its_clock() {
    let day = chrono::NaiveDate::from_ymd_opt(2020, 4, 15).unwrap();
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| c.clock = Some(day)).await;
    yimeng_web::service::tracker::ensure_plan(app.db())
        .await
        .unwrap();
    let sys = yimeng_store::SystemContext::new("test");
    let rules = yimeng_domain::Rules::default();
    let filed = yimeng_web::service::demo::fill_dispatch(app.db(), &sys, &rules, day)
        .await
        .unwrap();
    assert!(filed > 0);
    let counts: Vec<(String, String, i64)> = app
        .db()
        .all(Sql::new(
            "SELECT period, status, COUNT(*) FROM dispatch_report GROUP BY period, status ORDER BY period, status",
        ))
        .await
        .unwrap();
    let periods: Vec<&str> = counts.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(periods, ["2020-01", "2020-02", "2020-03"], "{counts:?}");
    assert!(counts.iter().all(|c| c.1 == "approved"), "{counts:?}");
    assert_eq!(counts.iter().map(|c| c.2).sum::<i64>(), filed as i64);
    // Filling again adds nothing.
    let again = yimeng_web::service::demo::fill_dispatch(app.db(), &sys, &rules, day)
        .await
        .unwrap();
    assert_eq!(again, 0);
    // Every indicator of the plan now has a city figure.
    let admin = app.login("admin").await;
    let j = admin.get("/api/v1/indicators").await.json();
    let missing: Vec<&str> = j["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["value"].is_null())
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(
        missing.is_empty(),
        "indicators without a figure: {missing:?}"
    );
    app.stop().await;
}
