//! The plan tracker's figures: every indicator of the current plan for the city and each county,
//! computed live from the registry (school facts → totals → computations) or read from approved
//! dispatch reports, or — for a past date — from the snapshot taken then. Item statuses and the
//! county appraisal are derived from the same values, so every figure on every tracker page is
//! the same number.

use super::ServiceError;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use yimeng_domain::Rules;
use yimeng_domain::facts::SchoolFacts;
use yimeng_domain::plan::{
    Computation, IndicatorDef, IndicatorKind, ItemStatus, Plan, PlanItem, Reporters, Source,
    counts_for_special_school_coverage, item_status,
};
use yimeng_domain::region::LINYI_UNITS;
use yimeng_engine::indicator::{Denominators, Totals, measure, region_totals};
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::{Actor, Db, SystemContext};

/// The plan loaded on first start when none is (the 2020 Linyi plan).
pub const SEED_PLAN: &str = include_str!("../../../../plans/linyi-2020.toml");

/// One figure.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figure {
    /// The value (`None`: not computable or not reported).
    pub value: Option<f64>,
    /// Numerator, for computed figures.
    pub numerator: Option<f64>,
    /// Denominator, for computed figures.
    pub denominator: Option<f64>,
}

/// Everything the tracker shows, for one plan at one date.
#[derive(Debug, Clone)]
pub struct Board {
    /// The plan.
    pub plan: Arc<Plan>,
    /// The date the figures stand for.
    pub as_of: NaiveDate,
    /// Computed now (else read from a snapshot).
    pub live: bool,
    /// The snapshot the figures come from, when not live.
    pub snapshot: Option<yimeng_store::snapshot::SnapshotRow>,
    /// When the figures were computed.
    pub at: DateTime<Utc>,
    /// (region, indicator code) → figure. Regions: the city (371300) and every county unit.
    pub figures: HashMap<(i32, String), Figure>,
    /// School facts (live boards only), for the school level.
    pub facts: Arc<Vec<SchoolFacts>>,
    /// Tasks reported done (progress 100, approved) by their lead department.
    pub done_tasks: Vec<String>,
}

/// The city and every county unit, city first.
pub fn regions() -> Vec<i32> {
    std::iter::once(CITY_COUNTY_ID)
        .chain(LINYI_UNITS.iter().map(|u| u.code.get()))
        .collect()
}

impl Board {
    /// A figure.
    pub fn figure(&self, region: i32, code: &str) -> Figure {
        self.figures
            .get(&(region, code.to_string()))
            .copied()
            .unwrap_or_default()
    }
    /// Every indicator's value in a region, keyed by code (the input of statuses and scores).
    pub fn values(&self, region: i32) -> HashMap<String, Option<f64>> {
        self.plan
            .indicators
            .iter()
            .map(|d| (d.code.clone(), self.figure(region, &d.code).value))
            .collect()
    }
    /// An item's status and reason at the board's date.
    pub fn status(&self, item: &PlanItem) -> (ItemStatus, String) {
        let done: Vec<&str> = self.done_tasks.iter().map(String::as_str).collect();
        item_status(
            &self.plan,
            item,
            &self.values(CITY_COUNTY_ID),
            &done,
            self.as_of,
        )
    }
    /// The school-level figure of a computed indicator (live boards only).
    pub fn school_figure(&self, def: &IndicatorDef, f: &SchoolFacts) -> Option<Figure> {
        let c = def.source.computation()?;
        let m = measure(c, &Totals::of_school(f), &Denominators::default());
        Some(Figure {
            value: m.value,
            numerator: Some(m.numerator as f64),
            denominator: Some(m.denominator as f64),
        })
    }
}

/// The date statuses are judged at: `today` (the tracker's clock), or — once the plan period is
/// over — the day after its last day, so that every deadline has passed and an unmet target reads
/// 滞后, not "0 days left".
pub fn default_date(plan: &Plan, today: NaiveDate) -> NaiveDate {
    today.min(plan.end.succ_opt().unwrap_or(plan.end))
}

/// The last day of the month of `d`.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(d)
}

/// The month (`YYYY-MM`) of a date.
pub fn period_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Computes a board from the registry and the reports approved up to the month of `today` (the
/// tracker's clock).
pub async fn compute_live(
    db: &Db,
    sys: &SystemContext,
    rules: &Rules,
    plan: Arc<Plan>,
    today: NaiveDate,
) -> Result<Board, ServiceError> {
    let as_of = default_date(&plan, today);
    let facts = yimeng_store::facts::school_facts(db, &sys.scope(), rules, plan.year).await?;
    let population = yimeng_store::plan::population_map(db, plan.year).await?;
    let totals = region_totals(&facts);
    let mut figures: HashMap<(i32, String), Figure> = HashMap::new();

    // Special-school coverage counts county units (not the zones).
    let mut city_den = Denominators::default();
    let mut county_den: BTreeMap<i32, Denominators> = BTreeMap::new();
    let mut all_population = true;
    for u in LINYI_UNITS {
        let c = u.code.get();
        let t = totals.counties.get(&c).copied().unwrap_or_default();
        let counted = counts_for_special_school_coverage(u);
        let with = i64::from(counted && t.special_schools > 0);
        let pop = population.get(&c).copied();
        // Zones may hold no kindergartens and report no population; a county with children
        // but no population figure makes the city rate unknown.
        if pop.is_none() && t.kg_roll > 0 {
            all_population = false;
        }
        city_den.units += i64::from(counted);
        city_den.units_with_special_school += with;
        county_den.insert(
            c,
            Denominators {
                population_3_5: pop,
                units: i64::from(counted),
                units_with_special_school: with,
            },
        );
    }
    city_den.population_3_5 = all_population.then(|| population.values().sum());

    for def in &plan.indicators {
        let Some(c) = def.source.computation() else {
            continue;
        };
        let put = |t: &Totals, d: &Denominators| -> Figure {
            let m = measure(c, t, d);
            Figure {
                value: m.value,
                numerator: Some(m.numerator as f64),
                denominator: Some(m.denominator as f64),
            }
        };
        figures.insert(
            (CITY_COUNTY_ID, def.code.clone()),
            put(&totals.city, &city_den),
        );
        for u in LINYI_UNITS {
            let code = u.code.get();
            let t = totals.counties.get(&code).copied().unwrap_or_default();
            let d = county_den.get(&code).copied().unwrap_or_default();
            // A county-level share of counties is meaningless for a zone.
            if c == Computation::CountiesWithSpecialSchool && d.units == 0 {
                continue;
            }
            figures.insert((code, def.code.clone()), put(&t, &d));
        }
    }
    reported_figures(db, &plan, &period_of(as_of), &mut figures).await?;
    let done_tasks = done_tasks(db, &plan, &period_of(as_of)).await?;
    Ok(Board {
        plan,
        as_of,
        live: true,
        snapshot: None,
        at: Utc::now(),
        figures,
        facts: Arc::new(facts),
        done_tasks,
    })
}

/// Reported indicators: the latest approved value of each unit up to `period`. A county's figure
/// is its own report. The city's figure is the lead department's report when there is one;
/// otherwise, for indicators the counties report, the sum of the counties' counts, or — for rates
/// and ratios, which cannot be summed — the mean of the counties that reported.
async fn reported_figures(
    db: &Db,
    plan: &Plan,
    period: &str,
    figures: &mut HashMap<(i32, String), Figure>,
) -> Result<(), ServiceError> {
    let rows = yimeng_store::dispatch::approved_values(db, &regions(), &plan.code, period).await?;
    let mut by_indicator: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for (unit, indicator, value, _) in &rows {
        by_indicator
            .entry(indicator.as_str())
            .or_default()
            .push((unit.as_str(), *value));
    }
    for def in &plan.indicators {
        let Source::Reported { reporter, .. } = &def.source else {
            continue;
        };
        let Some(values) = by_indicator.get(def.code.as_str()) else {
            continue;
        };
        let mut county_values = Vec::new();
        let mut city = None;
        for (unit, v) in values {
            match unit.parse::<i32>() {
                Ok(c) => {
                    figures.insert(
                        (c, def.code.clone()),
                        Figure {
                            value: Some(*v),
                            ..Default::default()
                        },
                    );
                    county_values.push(*v);
                }
                Err(_) => city = Some(*v),
            }
        }
        let city = city.or_else(|| {
            (*reporter == Reporters::Counties && !county_values.is_empty()).then(|| {
                let sum: f64 = county_values.iter().sum();
                match def.kind {
                    IndicatorKind::Count => sum,
                    _ => sum / county_values.len() as f64,
                }
            })
        });
        if let Some(v) = city {
            figures.insert(
                (CITY_COUNTY_ID, def.code.clone()),
                Figure {
                    value: Some(v),
                    ..Default::default()
                },
            );
        }
    }
    Ok(())
}

/// Tasks whose lead department's latest approved report says 100%.
async fn done_tasks(db: &Db, plan: &Plan, period: &str) -> Result<Vec<String>, ServiceError> {
    let f = yimeng_store::dispatch::ReportFilter {
        counties: vec![CITY_COUNTY_ID],
        plan_code: plan.code.clone(),
        status: Some(yimeng_store::dispatch::status::APPROVED.into()),
        ..Default::default()
    };
    let mut latest: HashMap<String, (String, i32)> = HashMap::new();
    for r in yimeng_store::dispatch::list(db, &f).await? {
        if r.period.as_str() > period {
            continue;
        }
        let e = latest
            .entry(r.task_code.clone())
            .or_insert((r.period.clone(), r.progress));
        if r.period > e.0 {
            *e = (r.period.clone(), r.progress);
        }
    }
    let mut done: Vec<String> = latest
        .into_iter()
        .filter(|(_, (_, p))| *p >= 100)
        .map(|(t, _)| t)
        .collect();
    done.sort();
    Ok(done)
}

/// A board read from the latest snapshot taken on or before `date`.
pub async fn from_snapshot(
    db: &Db,
    plan: Arc<Plan>,
    date: NaiveDate,
) -> Result<Option<Board>, ServiceError> {
    let Some(snap) = yimeng_store::snapshot::as_of(db, &plan.code, date).await? else {
        return Ok(None);
    };
    let mut figures = HashMap::new();
    for v in yimeng_store::snapshot::values(db, snap.id, &regions()).await? {
        figures.insert(
            (v.county_id, v.indicator),
            Figure {
                value: v.value,
                numerator: v.numerator,
                denominator: v.denominator,
            },
        );
    }
    let done_tasks = done_tasks(db, &plan, &period_of(date)).await?;
    Ok(Some(Board {
        plan,
        as_of: date,
        live: false,
        at: snap.taken_at,
        snapshot: Some(snap),
        figures,
        facts: Arc::new(Vec::new()),
        done_tasks,
    }))
}

/// Stores the live board as a snapshot.
pub async fn take_snapshot(
    db: &Db,
    actor: &Actor,
    board: &Board,
    date: NaiveDate,
    kind: &str,
) -> Result<i64, ServiceError> {
    let mut values: Vec<yimeng_store::snapshot::NewValue> = board
        .figures
        .iter()
        .map(|((region, code), f)| (*region, code.clone(), f.value, f.numerator, f.denominator))
        .collect();
    values.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(yimeng_store::snapshot::take(db, actor, &board.plan.code, date, kind, values).await?)
}

/// Loads the seed plan when no plan is loaded yet.
pub async fn ensure_plan(db: &Db) -> Result<(), ServiceError> {
    if yimeng_store::plan::current(db).await?.is_some() {
        return Ok(());
    }
    let plan = Plan::parse(SEED_PLAN)
        .map_err(|e| ServiceError::Internal(format!("内置工作计划无法解析：{}", e.len())))?;
    yimeng_store::plan::load(db, &Actor::system(), &plan, SEED_PLAN).await?;
    Ok(())
}
