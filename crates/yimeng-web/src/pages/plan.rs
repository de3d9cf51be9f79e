//! The plan tracker: the work plan's items with their status, the indicator catalogue, each
//! indicator against its target with its trend, the county league table and the drill-down
//! city → county → school → the rows behind the number; the population the preschool rate
//! divides by; snapshots; the half-year report and the year-end appraisal of counties.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::charts::{self, Bar};
use crate::error::{Failure, PageResult};
use crate::kit::parse_date;
use crate::kit::{page, see_other, take_flash};
use crate::service::indicator_rows::{self, RowList, Within};
use crate::service::plan::{
    AppraisalLine, PopulationEntry, appraise, item_reports, population_lines, region_name,
    require_reader, show, take_snapshot, target_of, unit_name,
};
use crate::service::tracker::{Board, Figure, period_of};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use yimeng_domain::Role;
use yimeng_domain::facts::SchoolFacts;
use yimeng_domain::plan::{
    IndicatorDef, ItemStatus, Level, PlanItem, Source, Target, format_value,
};
use yimeng_domain::region::LINYI_UNITS;
use yimeng_io::Cell;
use yimeng_store::audit::CITY_COUNTY_ID;

/// CSS class of an item status.
pub fn status_class(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Done => "good",
        ItemStatus::OnTrack => "ok",
        ItemStatus::AtRisk => "warn",
        ItemStatus::OffTrack => "bad",
    }
}

/// Common query of tracker pages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrackerQuery {
    /// View as of this date (a past date reads the snapshot of then).
    pub date: Option<String>,
    /// A county (drill-down).
    pub region: Option<String>,
    /// A school (drill-down to rows).
    pub school: Option<String>,
    /// Export format.
    pub format: Option<String>,
    /// Page.
    pub page: Option<i64>,
}

impl TrackerQuery {
    fn date_param(&self) -> String {
        match self.date.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => format!("date={}", crate::kit::urlencoding(d)),
            _ => String::new(),
        }
    }
}

async fn board_for(state: &AppState, q: &TrackerQuery) -> Result<Arc<Board>, Failure> {
    state.board(parse_date(&q.date)?).await
}

/// One line of the overview.
pub struct ItemLine {
    pub number: u32,
    pub title: String,
    pub lead: String,
    pub status: ItemStatus,
    pub reason: String,
    pub targets: usize,
    pub tasks: usize,
}

/// One target line.
pub struct TargetLine {
    pub item: u32,
    pub text: String,
    pub indicator: String,
    pub indicator_name: String,
    pub value: String,
    pub target: String,
    pub deadline: NaiveDate,
    pub met: Option<bool>,
    pub advisory: bool,
    pub reported: bool,
}

fn target_lines(board: &Board, region: i32, items: &[&PlanItem]) -> Vec<TargetLine> {
    let plan = &board.plan;
    let mut out = Vec::new();
    for item in items {
        for t in &item.targets {
            let Some(def) = plan.indicator(&t.indicator) else {
                continue;
            };
            let f = board.figure(region, &def.code);
            out.push(TargetLine {
                item: item.number,
                text: t.text.clone(),
                indicator: def.code.clone(),
                indicator_name: def.name.clone(),
                value: show(def, &f),
                target: def.show(t.target),
                deadline: t.deadline,
                met: f.value.map(|v| t.is_met(v)),
                advisory: t.advisory,
                reported: def.source.computation().is_none(),
            });
        }
    }
    out
}

/// `GET /plan`
#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage {
    pub ctx: Ctx,
    pub board: Arc<Board>,
    pub parts: Vec<(u32, String, Vec<ItemLine>)>,
    pub counts: Vec<(ItemStatus, usize)>,
    pub targets: Vec<TargetLine>,
    pub snapshots: Vec<yimeng_store::snapshot::SnapshotRow>,
    pub date: String,
    pub can_snapshot: bool,
    /// Placements a county let through the class-size gate with a written reason (in scope).
    pub gate_overrides: i64,
    /// The tracker's clock when it is set (a demo city's day in its plan's year).
    pub clock: Option<chrono::NaiveDate>,
}

impl PlanPage {
    pub fn status_class(&self, s: &ItemStatus) -> &'static str {
        status_class(*s)
    }
}

/// `GET /plan`
pub async fn overview(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<TrackerQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = board_for(&state, &q).await?;
    let plan = &board.plan;
    let mut parts = Vec::new();
    let mut counts: HashMap<ItemStatus, usize> = HashMap::new();
    for part in &plan.parts {
        let mut lines = Vec::new();
        for item in plan.items.iter().filter(|i| i.part == part.number) {
            let (status, reason) = board.status(item);
            *counts.entry(status).or_default() += 1;
            lines.push(ItemLine {
                number: item.number,
                title: item.title.clone(),
                lead: plan
                    .department(&item.lead)
                    .map_or(item.lead.clone(), |d| d.name.clone()),
                status,
                reason,
                targets: item.targets.len(),
                tasks: item.tasks.len(),
            });
        }
        parts.push((part.number, part.title.clone(), lines));
    }
    let counts = ItemStatus::ALL
        .iter()
        .map(|s| (*s, counts.get(s).copied().unwrap_or(0)))
        .collect();
    let items: Vec<&PlanItem> = plan.items.iter().collect();
    let targets = target_lines(&board, CITY_COUNTY_ID, &items);
    let snapshots = yimeng_store::snapshot::list(&state.db, &plan.code).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let t = PlanPage {
        ctx: Ctx::for_user(&u, "/plan").with_flash(flash),
        date: q
            .date
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| state.tracker_today().to_string()),
        clock: state.config.clock,
        board: Arc::clone(&board),
        parts,
        counts,
        targets,
        snapshots: snapshots.into_iter().take(24).collect(),
        can_snapshot: matches!(u.role(), Role::CityAdmin | Role::CityDept),
        gate_overrides: yimeng_store::gate::gate_overrides(&state.db, &u.scope).await?,
    };
    page(&t, had)
}

/// `GET /plan/items/{n}`
#[derive(Template)]
#[template(path = "plan_item.html")]
pub struct ItemPage {
    pub ctx: Ctx,
    pub board: Arc<Board>,
    pub item: PlanItem,
    pub lead: String,
    pub co_owners: Vec<String>,
    pub status: ItemStatus,
    pub reason: String,
    pub targets: Vec<TargetLine>,
    pub reports: Vec<yimeng_store::dispatch::ReportRow>,
    pub date_param: String,
}

impl ItemPage {
    pub fn status_class(&self) -> &'static str {
        status_class(self.status)
    }
    pub fn unit_name(&self, unit: &str) -> String {
        unit_name(&self.board.plan, unit)
    }
    pub fn task_done(&self, code: &str) -> bool {
        self.board.done_tasks.iter().any(|t| t == code)
    }
}

/// `GET /plan/items/{n}`
pub async fn item(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(n): Path<u32>,
    Query(q): Query<TrackerQuery>,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = board_for(&state, &q).await?;
    let plan = &board.plan;
    let item = plan.item(n).ok_or(Failure::NotFound)?.clone();
    let (status, reason) = board.status(&item);
    let targets = target_lines(&board, CITY_COUNTY_ID, &[&item]);
    let reports = item_reports(&state, &u, plan, n).await?;
    let dept = |c: &str| plan.department(c).map_or(c.to_string(), |d| d.name.clone());
    let t = ItemPage {
        ctx: Ctx::for_user(&u, "/plan"),
        lead: dept(&item.lead),
        co_owners: item.co_owners.iter().map(|c| dept(c)).collect(),
        status,
        reason,
        targets,
        reports,
        date_param: q.date_param(),
        board: Arc::clone(&board),
        item,
    };
    page(&t, false)
}

/// One line of the indicator catalogue.
pub struct CatalogueLine {
    pub def: IndicatorDef,
    pub source: String,
    pub levels: String,
    pub target: String,
    pub deadline: String,
    pub item: Option<u32>,
    pub value: String,
    pub met: Option<bool>,
}

fn source_text(def: &IndicatorDef) -> String {
    match &def.source {
        Source::Computed { computation } => format!("平台计算（{}）", computation.label()),
        Source::Reported { module, reporter } => {
            format!(
                "月调度填报（{}）；待“{module}”模块上线后改为平台计算",
                reporter.label()
            )
        }
    }
}

/// `GET /indicators`
#[derive(Template)]
#[template(path = "indicators.html")]
pub struct IndicatorsPage {
    pub ctx: Ctx,
    pub board: Arc<Board>,
    pub lines: Vec<CatalogueLine>,
    pub date_param: String,
}

fn catalogue(board: &Board) -> Vec<CatalogueLine> {
    let plan = &board.plan;
    plan.indicators
        .iter()
        .map(|def| {
            let t = target_of(plan, &def.code);
            let f = board.figure(CITY_COUNTY_ID, &def.code);
            CatalogueLine {
                source: source_text(def),
                levels: def
                    .levels
                    .iter()
                    .map(|l| l.label())
                    .collect::<Vec<_>>()
                    .join("、"),
                target: t.map_or("—".into(), |(_, t)| {
                    format!("{}{}", t.comparator.label(), def.show(t.target))
                }),
                deadline: t.map_or(String::new(), |(_, t)| t.deadline.to_string()),
                item: t.map(|(i, _)| i.number),
                value: show(def, &f),
                met: t.and_then(|(_, t)| f.value.map(|v| t.is_met(v))),
                def: def.clone(),
            }
        })
        .collect()
}

/// `GET /indicators`
pub async fn indicators(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<TrackerQuery>,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = board_for(&state, &q).await?;
    let lines = catalogue(&board);
    if let Some(format) = q.format.as_deref().filter(|f| !f.is_empty()) {
        let headers = [
            "指标代码",
            "指标名称",
            "单位",
            "计算公式",
            "层级",
            "方向",
            "来源",
            "目标",
            "截止日期",
            "对应工作要点",
            "全市当前值",
        ];
        let rows = lines.iter().map(|l| {
            vec![
                Cell::text(&l.def.code),
                Cell::text(&l.def.name),
                Cell::text(&l.def.unit),
                Cell::text(&l.def.formula),
                Cell::text(&l.levels),
                Cell::text(l.def.direction.label()),
                Cell::text(&l.source),
                Cell::text(&l.target),
                Cell::text(&l.deadline),
                Cell::Text(l.item.map_or(String::new(), |n| format!("第{n}项"))),
                Cell::text(&l.value),
            ]
        });
        return crate::kit::export::download(
            &state,
            &u,
            "指标目录",
            &headers,
            rows,
            format,
            "indicator",
        )
        .await;
    }
    let t = IndicatorsPage {
        ctx: Ctx::for_user(&u, "/indicators"),
        date_param: q.date_param(),
        board,
        lines,
    };
    page(&t, false)
}

/// One county of a league table.
pub struct LeagueLine {
    pub rank: usize,
    pub code: i32,
    pub name: String,
    pub value: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub met: Option<bool>,
}

/// One school of a county's drill-down.
pub struct SchoolLine {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub school_type: String,
    pub value: String,
    pub numerator: i64,
    pub denominator: i64,
    pub met: Option<bool>,
}

/// `GET /indicators/{code}`
#[derive(Template)]
#[template(path = "indicator.html")]
pub struct IndicatorPage {
    pub ctx: Ctx,
    pub board: Arc<Board>,
    pub def: IndicatorDef,
    pub source: String,
    pub target: Option<(u32, Target)>,
    pub region: i32,
    pub figure: Figure,
    pub value: String,
    pub met: Option<bool>,
    pub trend_svg: String,
    pub league_svg: String,
    pub league: Vec<LeagueLine>,
    pub schools: Vec<SchoolLine>,
    pub school_level: bool,
    pub has_rows: bool,
    pub date_param: String,
    pub pager: crate::view::Pager,
}

impl IndicatorPage {
    pub fn num(&self, v: &Option<f64>) -> String {
        v.map_or("—".into(), |x| format_value(x, ""))
    }
    pub fn region_name(&self) -> String {
        region_name(self.region)
    }
    pub fn target_text(&self, t: &Target) -> String {
        format!("{}{}", t.comparator.label(), self.def.show(t.target))
    }
}

fn value_order(def: &IndicatorDef, a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    use yimeng_domain::plan::Direction;
    let (a, b) = (a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN));
    let o = match def.direction {
        Direction::HigherBetter => b.partial_cmp(&a),
        Direction::LowerBetter => a.partial_cmp(&b),
        Direction::CloserBetter => None,
    };
    o.unwrap_or(std::cmp::Ordering::Equal)
}

/// The county league table of an indicator, best first (counties without a value last).
pub fn league(board: &Board, def: &IndicatorDef) -> Vec<LeagueLine> {
    let plan = &board.plan;
    let mut lines: Vec<(i32, Figure)> = LINYI_UNITS
        .iter()
        .map(|u| (u.code.get(), board.figure(u.code.get(), &def.code)))
        .filter(|(c, f)| f.value.is_some() || board.figures.contains_key(&(*c, def.code.clone())))
        .collect();
    let target = target_of(plan, &def.code).map(|(_, t)| t.clone());
    lines.sort_by(|a, b| {
        a.1.value
            .is_none()
            .cmp(&b.1.value.is_none())
            .then_with(|| match (&target, def.direction) {
                (Some(t), yimeng_domain::plan::Direction::CloserBetter) => {
                    let d = |v: Option<f64>| v.map_or(f64::MAX, |v| (v - t.target).abs());
                    d(a.1.value).total_cmp(&d(b.1.value))
                }
                _ => value_order(def, a.1.value, b.1.value),
            })
            .then(a.0.cmp(&b.0))
    });
    let mut out: Vec<LeagueLine> = Vec::new();
    for (i, (code, f)) in lines.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.value == show(def, &f) => prev.rank,
            _ => i + 1,
        };
        out.push(LeagueLine {
            rank,
            code,
            name: region_name(code),
            value: show(def, &f),
            numerator: f.numerator,
            denominator: f.denominator,
            met: target.as_ref().and_then(|t| f.value.map(|v| t.is_met(v))),
        });
    }
    out
}

/// Rows of a school drill-down per page.
const SCHOOLS_PER_PAGE: i64 = 100;

/// The pager of a list paged in memory ([`SCHOOLS_PER_PAGE`] rows a page, `total` in all).
fn pager(
    ctx: &Ctx,
    path: &str,
    query: &[(String, String)],
    page: i64,
    total: i64,
) -> crate::view::Pager {
    let marker: yimeng_store::browse::Page<()> = yimeng_store::browse::Page {
        items: vec![],
        page,
        per_page: SCHOOLS_PER_PAGE,
        total: Some(total),
        has_next: page * SCHOOLS_PER_PAGE < total,
    };
    crate::view::Pager::new(ctx, path, query, &marker)
}

/// `GET /indicators/{code}`
pub async fn indicator(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
    Query(q): Query<TrackerQuery>,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = board_for(&state, &q).await?;
    let plan = &board.plan;
    let def = plan.indicator(&code).ok_or(Failure::NotFound)?.clone();
    let region = match q.region.as_deref().filter(|s| !s.is_empty()) {
        None => CITY_COUNTY_ID,
        Some(r) => {
            let c: i32 = r.parse().map_err(|_| Failure::NotFound)?;
            if c != CITY_COUNTY_ID && !LINYI_UNITS.iter().any(|u| u.code.get() == c) {
                return Err(Failure::NotFound.into());
            }
            c
        }
    };
    let target = target_of(plan, &def.code).map(|(i, t)| (i.number, t.clone()));
    let figure = board.figure(region, &def.code);
    let target_text = target
        .as_ref()
        .map_or(String::new(), |(_, t)| def.show(t.target));

    // Trend: the monthly snapshots, then today's live value.
    let mut points: Vec<(String, Option<f64>, String)> =
        yimeng_store::snapshot::series(&state.db, &plan.code, &def.code, region)
            .await?
            .into_iter()
            // A past date shows the history up to then; the live view shows all of it.
            .filter(|(d, _)| board.live || *d <= board.as_of)
            .map(|(d, v)| (period_of(d), v, v.map_or("—".into(), |v| def.show(v))))
            .collect();
    if board.live {
        let p = period_of(state.tracker_today());
        let live = (format!("{p} 实时"), figure.value, show(&def, &figure));
        match points.last_mut() {
            Some(last) if last.0 == p => *last = live,
            _ => points.push(live),
        }
    }
    let trend_svg = charts::line(
        &points,
        target.as_ref().map(|(_, t)| t.target),
        &target_text,
    );

    let league = league(&board, &def);
    let bars: Vec<Bar> = league
        .iter()
        .map(|l| Bar {
            label: l.name.clone(),
            value: board.figure(l.code, &def.code).value,
            text: l.value.clone(),
            href: Some(format!(
                "/indicators/{}?region={}{}",
                def.code,
                l.code,
                if q.date_param().is_empty() {
                    String::new()
                } else {
                    format!("&{}", q.date_param())
                }
            )),
            good: l.met,
        })
        .collect();
    let league_svg = charts::bars(&bars, target.as_ref().map(|(_, t)| t.target), &target_text);

    // School drill-down: computed indicators with a school level, on a live board, in scope.
    let school_level = board.live
        && region != CITY_COUNTY_ID
        && def.has_level(Level::School)
        && def.source.computation().is_some();
    let mut schools: Vec<SchoolLine> = Vec::new();
    let mut total = 0;
    let page_no = q.page.unwrap_or(1).max(1);
    if school_level {
        let in_scope: Vec<&SchoolFacts> = board
            .facts
            .iter()
            .filter(|f| f.county == region)
            .filter(|f| {
                u.scope
                    .covers_school(yimeng_domain::RegionCode::from_i32(f.county), f.school_id)
            })
            .collect();
        let mut lines: Vec<SchoolLine> = in_scope
            .iter()
            .filter_map(|f| {
                let fig = board.school_figure(&def, f)?;
                // Schools the indicator does not apply to (no classes, not a kindergarten …).
                if fig.denominator == Some(0.0) {
                    return None;
                }
                Some(SchoolLine {
                    id: f.school_id,
                    code: f.code.clone(),
                    name: f.name.clone(),
                    school_type: f.school_type.label().to_string(),
                    value: show(&def, &fig),
                    numerator: fig.numerator.unwrap_or(0.0) as i64,
                    denominator: fig.denominator.unwrap_or(0.0) as i64,
                    met: target
                        .as_ref()
                        .and_then(|(_, t)| fig.value.map(|v| t.is_met(v))),
                })
            })
            .collect();
        // Schools that miss the target first, then by numerator (most big classes first).
        lines.sort_by(|a, b| {
            a.met
                .unwrap_or(true)
                .cmp(&b.met.unwrap_or(true))
                .then(b.numerator.cmp(&a.numerator))
                .then(a.code.cmp(&b.code))
        });
        if let Some(format) = q.format.as_deref().filter(|f| !f.is_empty()) {
            let headers = [
                "学校标识码",
                "学校",
                "学校类别",
                "分子",
                "分母",
                "数值",
                "是否达标",
            ];
            let rows = lines.iter().map(|l| {
                vec![
                    Cell::text(&l.code),
                    Cell::text(&l.name),
                    Cell::text(&l.school_type),
                    Cell::Int(l.numerator),
                    Cell::Int(l.denominator),
                    Cell::text(&l.value),
                    Cell::text(match l.met {
                        Some(true) => "达标",
                        Some(false) => "未达标",
                        None => "—",
                    }),
                ]
            });
            let title = format!("{}_{}", def.name, region_name(region));
            return crate::kit::export::download(
                &state,
                &u,
                &title,
                &headers,
                rows,
                format,
                "indicator",
            )
            .await;
        }
        total = lines.len() as i64;
        schools = lines
            .into_iter()
            .skip(((page_no - 1) * SCHOOLS_PER_PAGE) as usize)
            .take(SCHOOLS_PER_PAGE as usize)
            .collect();
    }
    let has_rows = def.source.computation().is_some_and(has_row_list) && board.live;
    let mut query = vec![("region".to_string(), region.to_string())];
    if let Some(d) = q.date.as_ref().filter(|d| !d.is_empty()) {
        query.push(("date".into(), d.clone()));
    }
    let ctx = Ctx::for_user(&u, "/indicators");
    let pager = pager(
        &ctx,
        &format!("/indicators/{}", def.code),
        &query,
        page_no,
        total,
    );
    let t = IndicatorPage {
        ctx,
        source: source_text(&def),
        value: show(&def, &figure),
        met: target
            .as_ref()
            .and_then(|(_, t)| figure.value.map(|v| t.is_met(v))),
        date_param: q.date_param(),
        board,
        def,
        target,
        region,
        figure,
        trend_svg,
        league_svg,
        league,
        schools,
        school_level,
        has_rows,
        pager,
    };
    page(&t, false)
}

pub use crate::service::indicator_rows::{RowLine, has_row_list};

/// `GET /indicators/{code}/rows`
#[derive(Template)]
#[template(path = "indicator_rows.html")]
pub struct RowsPage {
    pub ctx: Ctx,
    pub def: IndicatorDef,
    pub region: i32,
    pub school: Option<(i64, String)>,
    pub headers: Vec<&'static str>,
    pub rows: Vec<RowLine>,
    pub total: usize,
    pub flagged: usize,
    pub note: &'static str,
    pub pager: crate::view::Pager,
    pub export_query: String,
}

impl RowsPage {
    pub fn region_name(&self) -> String {
        region_name(self.region)
    }
}

/// `GET /indicators/{code}/rows`: the classes or schools behind a number, the ones it counts
/// first; `?region=` a county (or the city), `?school=` one school.
pub async fn rows(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
    Query(q): Query<TrackerQuery>,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = state.board(None).await?;
    let def = board
        .plan
        .indicator(&code)
        .ok_or(Failure::NotFound)?
        .clone();
    let c = def
        .source
        .computation()
        .filter(|c| has_row_list(*c))
        .ok_or_else(|| Failure::BadRequest(format!("指标“{}”没有可列出的明细数据", def.name)))?;
    let region: i32 = match q.region.as_deref().filter(|s| !s.is_empty()) {
        None => CITY_COUNTY_ID,
        Some(r) => r.parse().map_err(|_| Failure::NotFound)?,
    };
    let county = (region != CITY_COUNTY_ID).then_some(region);
    if let Some(c) = county
        && !u
            .scope
            .covers_county(yimeng_domain::RegionCode::from_i32(c))
    {
        return Err(Failure::NotFound.into());
    }
    let school: Option<i64> = match q.school.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| Failure::NotFound)?),
    };
    let school_name = match school {
        Some(id) => Some((
            id,
            yimeng_store::school::get(&state.db, &u.scope, id)
                .await?
                .name,
        )),
        None => None,
    };
    let RowList {
        headers,
        lines,
        note,
    } = indicator_rows::list(
        &state.db,
        &u.scope,
        &state.rules,
        &board.facts,
        c,
        def.direction,
        Within { county, school },
    )
    .await?;
    let flagged_n = lines.iter().filter(|l| l.flagged).count();
    if let Some(format) = q.format.as_deref().filter(|f| !f.is_empty()) {
        let mut h: Vec<&str> = vec!["县区", "学校"];
        h.extend(headers.iter().copied());
        h.push("计入分子");
        let rows = lines.iter().map(|l| {
            let mut r = vec![Cell::Text(region_name(l.county)), Cell::text(&l.school)];
            r.extend(l.cells.iter().map(|c| Cell::text(c)));
            r.push(Cell::text(if l.flagged { "是" } else { "否" }));
            r
        });
        let title = format!("{}_明细", def.name);
        return crate::kit::export::download(&state, &u, &title, &h, rows, format, "indicator")
            .await;
    }
    let total = lines.len();
    let page_no = q.page.unwrap_or(1).max(1);
    let ctx = Ctx::for_user(&u, "/indicators");
    let mut query = vec![("region".to_string(), region.to_string())];
    if let Some(s) = school {
        query.push(("school".into(), s.to_string()));
    }
    let export_query = serde_urlencoded::to_string(&query).unwrap_or_default();
    let pager = pager(
        &ctx,
        &format!("/indicators/{}/rows", def.code),
        &query,
        page_no,
        total as i64,
    );
    let rows = lines
        .into_iter()
        .skip(((page_no - 1) * SCHOOLS_PER_PAGE) as usize)
        .take(SCHOOLS_PER_PAGE as usize)
        .collect();
    let t = RowsPage {
        ctx,
        def,
        region,
        school: school_name,
        headers,
        rows,
        total,
        flagged: flagged_n,
        note,
        pager,
        export_query,
    };
    page(&t, false)
}

/// `GET /plan/population`
#[derive(Template)]
#[template(path = "population.html")]
pub struct PopulationPage {
    pub ctx: Ctx,
    pub year: i32,
    pub rows: Vec<(
        i32,
        String,
        Option<yimeng_store::plan::PopulationRow>,
        i64,
        bool,
    )>,
    pub error: Option<String>,
}

async fn population_page(
    state: &AppState,
    u: &User,
    error: Option<String>,
    flash: Option<String>,
) -> PageResult<Response> {
    let (year, rows) = population_lines(state, u).await?;
    let had = flash.is_some();
    let t = PopulationPage {
        ctx: Ctx::for_user(u, "/plan").with_flash(flash),
        year,
        rows,
        error,
    };
    page(&t, had)
}

/// `GET /plan/population`
pub async fn population(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_reader(&u)?;
    population_page(&state, &u, None, take_flash(&headers)).await
}

/// The population form.
#[derive(Debug, Deserialize)]
pub struct PopulationForm {
    pub _csrf: Option<String>,
    pub county: String,
    pub age_3_5: String,
    pub basis: String,
    #[serde(default)]
    pub note: String,
}

/// `POST /plan/population`
pub async fn set_population(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<PopulationForm>,
) -> PageResult<Response> {
    u.check_csrf(f._csrf.as_deref())?;
    let county: i32 = f
        .county
        .trim()
        .parse()
        .map_err(|_| Failure::BadRequest("县区无效".into()))?;
    let entry = PopulationEntry {
        county,
        age_3_5: &f.age_3_5,
        basis: &f.basis,
        note: &f.note,
    };
    match crate::service::plan::set_population(&state, &u, entry).await? {
        Ok((year, n)) => Ok(see_other(
            "/plan/population",
            Some(&format!(
                "已保存：{} {year} 年 3–5周岁人口 {n}",
                region_name(county)
            )),
        )),
        Err(m) => population_page(&state, &u, Some(m), None).await,
    }
}

/// The snapshot form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub _csrf: Option<String>,
}

/// `POST /plan/snapshots`: takes a snapshot of every indicator now.
pub async fn snapshot(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<CsrfForm>,
) -> PageResult<Response> {
    u.check_csrf(f._csrf.as_deref())?;
    let (id, n) = take_snapshot(&state, &u).await?;
    Ok(see_other(
        "/plan",
        Some(&format!("已生成指标快照 #{id}（{n} 个数值）")),
    ))
}

/// `GET /plan/appraisal`
#[derive(Template)]
#[template(path = "appraisal.html")]
pub struct AppraisalPage {
    pub ctx: Ctx,
    pub board: Arc<Board>,
    pub lines: Vec<AppraisalLine>,
    pub date_param: String,
}

impl AppraisalPage {
    pub fn indicator_name(&self, code: &str) -> String {
        self.board
            .plan
            .indicator(code)
            .map_or(code.to_string(), |d| d.name.clone())
    }
    pub fn show(&self, code: &str, v: Option<f64>) -> String {
        match (self.board.plan.indicator(code), v) {
            (Some(d), Some(v)) => d.show(v),
            _ => "无数据".into(),
        }
    }
    pub fn pts(&self, v: &f64) -> String {
        format!("{v:.2}")
    }
}

/// `GET /plan/appraisal`: the year-end appraisal (年终考评) of counties.
pub async fn appraisal(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<TrackerQuery>,
) -> PageResult<Response> {
    require_reader(&u)?;
    let board = board_for(&state, &q).await?;
    let lines = appraise(&board);
    if let Some(format) = q.format.as_deref().filter(|f| !f.is_empty()) {
        let headers = [
            "名次",
            "县区",
            "总分",
            "指标",
            "权重",
            "目标",
            "当前值",
            "达成度",
            "得分",
            "缺数据",
        ];
        let mut rows = Vec::new();
        for l in &lines {
            for p in &l.score.parts {
                let def = board.plan.indicator(&p.indicator);
                rows.push(vec![
                    Cell::Int(l.rank as i64),
                    Cell::text(&l.name),
                    Cell::Text(format!("{:.2}", l.score.total)),
                    Cell::Text(def.map_or(p.indicator.clone(), |d| d.name.clone())),
                    Cell::Text(format!("{:.2}", p.weight)),
                    Cell::Text(def.map_or(p.target.to_string(), |d| d.show(p.target))),
                    Cell::Text(match (def, p.value) {
                        (Some(d), Some(v)) => d.show(v),
                        _ => String::new(),
                    }),
                    Cell::Text(format!("{:.2}", p.attainment)),
                    Cell::Text(format!("{:.2}", p.points)),
                    Cell::text(if p.missing { "是" } else { "否" }),
                ]);
            }
        }
        return crate::kit::export::download(
            &state,
            &u,
            "年终考评",
            &headers,
            rows.into_iter(),
            format,
            "appraisal",
        )
        .await;
    }
    let t = AppraisalPage {
        ctx: Ctx::for_user(&u, "/plan"),
        date_param: q.date_param(),
        board,
        lines,
    };
    page(&t, false)
}
