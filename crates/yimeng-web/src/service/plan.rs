//! The work plan's figures in words shared by the tracker pages, their API and the command line:
//! a figure as text, an indicator's target, the names of regions and dispatch units; and the
//! tracker's rules that both the pages and the API apply: who reads the tracker, who enters a
//! county's population, who takes a snapshot, what an item's dispatch reports are for a reader,
//! the appraisal of counties.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use crate::service::tracker::{Board, Figure};
use yimeng_domain::Role;
use yimeng_domain::plan::{IndicatorDef, Plan, PlanItem, Target, rank_counties};
use yimeng_domain::region::LINYI_UNITS;
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::dispatch::ReportRow;
use yimeng_store::plan::PopulationRow;

/// A figure as text.
pub fn show(def: &IndicatorDef, f: &Figure) -> String {
    f.value.map_or_else(|| "—".to_string(), |v| def.show(v))
}

/// The first target of an indicator in the plan, with its item.
pub fn target_of<'a>(plan: &'a Plan, code: &str) -> Option<(&'a PlanItem, &'a Target)> {
    plan.targets().find(|(_, t)| t.indicator == code)
}

/// Whether a value meets the indicator's target (`None`: no target or no value).
pub fn met(plan: &Plan, code: &str, value: Option<f64>) -> Option<bool> {
    let (_, t) = target_of(plan, code)?;
    value.map(|v| t.is_met(v))
}

/// A region's name (the city or a county unit).
pub fn region_name(code: i32) -> String {
    if code == CITY_COUNTY_ID {
        "临沂市".to_string()
    } else {
        yimeng_domain::RegionCode::from_i32(code).name().to_string()
    }
}

/// The name of a dispatch unit: a department or a county.
pub fn unit_name(plan: &Plan, unit: &str) -> String {
    match unit.parse::<i32>() {
        Ok(c) => region_name(c),
        Err(_) => plan
            .department(unit)
            .map_or_else(|| unit.to_string(), |d| d.name.clone()),
    }
}

/// Who may read the tracker: every account but the public.
pub fn require_reader(u: &User) -> Result<(), Failure> {
    u.require_staff()
}

/// Who may enter a county's population: the city administrator (any county) or the county.
pub fn may_set_population(u: &User, county: i32) -> bool {
    match u.role() {
        Role::CityAdmin => true,
        Role::County => u.account.county_id == Some(county),
        _ => false,
    }
}

/// One county unit on the population page: (code, name, the stored figure, children on the roll
/// of its kindergartens, whether the account may enter it).
pub type PopulationLine = (i32, String, Option<PopulationRow>, i64, bool);

/// The plan year's population of every county unit, as the account sees it.
pub async fn population_lines(
    state: &AppState,
    u: &User,
) -> Result<(i32, Vec<PopulationLine>), Failure> {
    let board = state.board(None).await?;
    let year = board.plan.year;
    let stored = yimeng_store::plan::population(&state.db, year).await?;
    let rows = LINYI_UNITS
        .iter()
        .map(|unit| {
            let c = unit.code.get();
            let roll: i64 = board
                .facts
                .iter()
                .filter(|f| f.county == c)
                .map(|f| f.kg_roll)
                .sum();
            (
                c,
                unit.name.to_string(),
                stored.iter().find(|p| p.county_id == c).cloned(),
                roll,
                may_set_population(u, c),
            )
        })
        .collect();
    Ok((year, rows))
}

/// A population entry: which county, how many children aged 3–5 (as typed), on which basis.
pub struct PopulationEntry<'a> {
    pub county: i32,
    pub age_3_5: &'a str,
    pub basis: &'a str,
    pub note: &'a str,
}

/// Enters a county's 3–5 year olds for the plan year (city administrator, or the county itself)
/// and lets the tracker recompute. `Ok(Err(message))` is a refused value, worded for the form;
/// `Ok(Ok((year, n)))` the stored figure.
pub async fn set_population(
    state: &AppState,
    u: &User,
    e: PopulationEntry<'_>,
) -> Result<Result<(i32, i64), String>, Failure> {
    if !LINYI_UNITS.iter().any(|x| x.code.get() == e.county) {
        return Err(Failure::BadRequest("县区无效".into()));
    }
    if !may_set_population(u, e.county) {
        return Err(Failure::Forbidden(
            "只有市局管理员或本县区教育局可以填报该县区的人口数".into(),
        ));
    }
    let n: i64 = match e.age_3_5.trim().replace([',', '，'], "").parse() {
        Ok(n) if n > 0 => n,
        _ => {
            return Ok(Err(format!(
                "{}：3–5周岁人口“{}”应为正整数",
                region_name(e.county),
                yimeng_domain::text::preview(e.age_3_5, 20)
            )));
        }
    };
    let note = yimeng_domain::text::preview(e.note.trim(), 200).to_string();
    let (_, plan) = state.plan().await?;
    match yimeng_store::plan::set_population(
        &state.db,
        &u.actor(),
        e.county,
        plan.year,
        n,
        e.basis.trim(),
        &note,
    )
    .await
    {
        Ok(()) => {
            state.tracker_changed();
            Ok(Ok((plan.year, n)))
        }
        Err(yimeng_store::StoreError::Invalid(m)) => Ok(Err(m)),
        Err(e) => Err(e.into()),
    }
}

/// Takes a snapshot of every indicator now (city administrator and city departments): its id
/// and the number of values.
pub async fn take_snapshot(state: &AppState, u: &User) -> Result<(i64, usize), Failure> {
    if !matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        return Err(Failure::Forbidden(
            "只有市局管理员和市局科室可以生成指标快照".into(),
        ));
    }
    let board = state.board(None).await?;
    let id = crate::service::tracker::take_snapshot(
        &state.db,
        &u.actor(),
        &board,
        state.tracker_today(),
        "manual",
    )
    .await?;
    Ok((id, board.figures.len()))
}

/// The monthly dispatch reports of an item's tasks that the account may read (at most 100).
pub async fn item_reports(
    state: &AppState,
    u: &User,
    plan: &Plan,
    item: u32,
) -> Result<Vec<ReportRow>, Failure> {
    let mut reports = yimeng_store::dispatch::list(
        &state.db,
        &yimeng_store::dispatch::ReportFilter {
            counties: yimeng_store::dispatch::readable_counties(
                &u.scope,
                &crate::service::tracker::regions(),
            ),
            plan_code: plan.code.clone(),
            ..Default::default()
        },
    )
    .await?;
    let prefix = format!("{item}.");
    reports.retain(|r| r.task_code.starts_with(&prefix));
    reports.truncate(100);
    Ok(reports)
}

/// One county of the appraisal.
pub struct AppraisalLine {
    pub rank: usize,
    pub county: i32,
    pub name: String,
    pub score: yimeng_domain::plan::CountyScore,
}

/// The appraisal of every county unit at a board's date, ranked.
pub fn appraise(board: &Board) -> Vec<AppraisalLine> {
    let scores: Vec<(i32, yimeng_domain::plan::CountyScore)> = LINYI_UNITS
        .iter()
        .map(|unit| {
            let c = unit.code.get();
            (c, board.plan.appraisal.score_county(&board.values(c)))
        })
        .collect();
    let ranked = rank_counties(&scores);
    ranked
        .into_iter()
        .filter_map(|r| {
            let score = scores.iter().find(|(c, _)| *c == r.county)?.1.clone();
            Some(AppraisalLine {
                rank: r.rank,
                county: r.county,
                name: region_name(r.county),
                score,
            })
        })
        .collect()
}
