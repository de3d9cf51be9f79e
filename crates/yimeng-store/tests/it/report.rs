//! The periodic-report cycle with monthly dispatch as its user: a report is filed, submitted,
//! returned with a reason, resubmitted and approved on the approval flow (history and audit
//! rows), approval locks its values on every path, and the expected-reports query flags late
//! and missing reports within the caller's scope.

use chrono::{TimeZone, Utc};
use yimeng_domain::report::{Due, END_OF_DAY, Period, PeriodKind, ReportState};
use yimeng_domain::{RegionCode, Rules, Scope};
use yimeng_store::dispatch::{self, ReportInput};
use yimeng_store::report::{Owed, ReportingUnit};
use yimeng_store::{Actor, StoreError};
use yimeng_testkit::TestDb;

const PLAN: &str = include_str!("../../../../plans/linyi-2020.toml");
const LANSHAN: RegionCode = RegionCode::from_i32(371302);
const LUOZHUANG: RegionCode = RegionCode::from_i32(371311);

fn actor(name: &str, role: &str) -> Actor {
    Actor {
        name: name.into(),
        role: role.into(),
        ip: None,
        request_id: None,
    }
}

fn input(plan: &str, value: f64, submit: bool) -> ReportInput {
    ReportInput {
        county_id: LANSHAN.get(),
        plan_code: plan.to_string(),
        task_code: "18.1".into(),
        period: "2020-06".into(),
        unit: LANSHAN.get().to_string(),
        progress: 60,
        narrative: "已完成摸底排查。".into(),
        values: vec![("preschool_gross_rate".into(), value)],
        submit,
    }
}

fn june_due() -> Due {
    Due {
        date: chrono::NaiveDate::from_ymd_opt(2020, 7, 5).unwrap(),
        time: END_OF_DAY,
    }
}

fn owed(unit: ReportingUnit) -> Owed {
    Owed {
        unit,
        subject: "18.1".into(),
        period: Period::parse_as(PeriodKind::Month, "2020-06").unwrap(),
        due: june_due(),
    }
}

#[tokio::test]
async fn a_monthly_report_is_reviewed_on_the_approval_flow_and_approval_locks_it() {
    for t in TestDb::each().await {
        let db = &t.db;
        let plan = yimeng_domain::plan::Plan::parse(PLAN).expect("the plan parses");
        yimeng_store::plan::load(db, &Actor::system(), &plan, PLAN)
            .await
            .unwrap();
        let rules = Rules::default();
        let county = Scope::County(LANSHAN);
        let filer = actor("lanshan", "county");
        let reviewer = actor("jyk", "city_dept");

        // A draft: not submitted, so missing once the due time has passed.
        let id = dispatch::save(db, &filer, &county, &rules, input(&plan.code, 80.0, false))
            .await
            .unwrap();
        let after_due = Utc.with_ymd_and_hms(2020, 7, 10, 0, 0, 0).unwrap();
        let e = dispatch::expected(
            db,
            &county,
            &plan.code,
            vec![
                owed(ReportingUnit::County(LANSHAN)),
                owed(ReportingUnit::County(LUOZHUANG)),
            ],
            after_due,
        )
        .await
        .unwrap();
        assert_eq!(e.len(), 1, "another county's owed report is out of scope");
        assert_eq!(e[0].state, ReportState::NotSubmitted);
        assert!(e[0].standing.missing && !e[0].standing.late);

        // Another county cannot file for Lanshan.
        let other = dispatch::save(
            db,
            &actor("luozhuang", "county"),
            &Scope::County(LUOZHUANG),
            &rules,
            input(&plan.code, 1.0, true),
        )
        .await;
        assert!(matches!(other, Err(StoreError::NotFound)), "{other:?}");

        // Submitted: the review waits for the city, with a deadline.
        dispatch::save(db, &filer, &county, &rules, input(&plan.code, 81.0, true))
            .await
            .unwrap();
        let seen = dispatch::visible(db, &Scope::City, LANSHAN.get(), id)
            .await
            .unwrap();
        assert_eq!(seen.row().state(), ReportState::Submitted);
        assert_eq!(seen.row().state, "pending");
        assert!(seen.row().step_deadline.is_some());
        // A submission now (after the due time) is late, not missing.
        let e = dispatch::expected(
            db,
            &Scope::City,
            &plan.code,
            vec![owed(ReportingUnit::County(LANSHAN))],
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(e[0].standing.late && !e[0].standing.missing);
        assert_eq!(e[0].state, ReportState::Submitted);

        // The county does not decide its own report; a return needs a reason.
        let own = dispatch::review(db, &filer, &county, &rules, &seen, true, "").await;
        assert!(matches!(own, Err(StoreError::Forbidden(_))), "{own:?}");
        let empty = dispatch::review(db, &reviewer, &Scope::City, &rules, &seen, false, " ").await;
        assert!(
            matches!(&empty, Err(StoreError::Invalid(m)) if m.contains("理由")),
            "{empty:?}"
        );
        let returned = dispatch::review(
            db,
            &reviewer,
            &Scope::City,
            &rules,
            &seen,
            false,
            "补充佐证材料",
        )
        .await
        .unwrap();
        assert_eq!(returned, ReportState::Returned);
        let r = dispatch::visible(db, &county, LANSHAN.get(), id)
            .await
            .unwrap();
        assert_eq!(r.row().refusal_reason, "补充佐证材料");
        assert_eq!(r.row().status, "returned");

        // Corrected and resubmitted on the flow; then approved.
        dispatch::save(db, &filer, &county, &rules, input(&plan.code, 82.5, true))
            .await
            .unwrap();
        let r = dispatch::visible(db, &Scope::City, LANSHAN.get(), id)
            .await
            .unwrap();
        assert_eq!((r.row().status.as_str(), r.row().round), ("submitted", 1));
        let approved = dispatch::review(db, &reviewer, &Scope::City, &rules, &r, true, "")
            .await
            .unwrap();
        assert_eq!(approved, ReportState::Approved);
        let again = dispatch::review(db, &reviewer, &Scope::City, &rules, &r, true, "").await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

        // Approval locks the values on every path: a save, a draft save and a new file.
        for submit in [true, false] {
            let e = dispatch::save(db, &filer, &county, &rules, input(&plan.code, 1.0, submit))
                .await
                .unwrap_err();
            assert!(
                matches!(&e, StoreError::Conflict(m) if m.contains("锁定")),
                "{e:?}"
            );
        }
        let file = dispatch::accept_file("佐证.pdf", b"%PDF-1.4 x".to_vec()).unwrap();
        let e = dispatch::add_file(db, &filer, LANSHAN.get(), id, &file)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
        let r = dispatch::visible(db, &county, LANSHAN.get(), id)
            .await
            .unwrap();
        let report = dispatch::get(db, &r).await.unwrap();
        assert_eq!(report.values, vec![("preschool_gross_rate".into(), 82.5)]);
        let approved_values =
            dispatch::approved_values(db, &[LANSHAN.get()], &plan.code, "2020-12")
                .await
                .unwrap();
        assert_eq!(approved_values.len(), 1);

        // The history: submission, return, resubmission, approval — who, in which role, why.
        let h = dispatch::history(db, &r).await.unwrap();
        let got: Vec<(i32, &str, &str, &str)> = h
            .iter()
            .map(|a| {
                (
                    a.seq,
                    a.action.as_str(),
                    a.actor.as_str(),
                    a.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (-1, "submit", "lanshan", ""),
                (0, "return", "jyk", "补充佐证材料"),
                (1000, "resubmit", "lanshan", ""),
                (2000, "approve", "jyk", ""),
            ]
        );
    }
}
