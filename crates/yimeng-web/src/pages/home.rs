//! Home pages per role and the county page: the numbers a user looks for first.

use crate::app::AppState;
use crate::auth::{MaybeUser, PageUser};
use crate::error::{Failure, PageResult};
use crate::kit::{page, take_flash};
use crate::view::Ctx;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use yimeng_domain::{RegionCode, Role, Scope};
use yimeng_store::browse::ClassSize;

/// One line of a dashboard table.
#[derive(Debug, Clone, Default)]
pub struct DashRow {
    /// County code or school type code.
    pub key: String,
    /// Schools and kindergartens.
    pub schools: i64,
    /// Classes.
    pub classes: i64,
    /// Students on the register (在籍).
    pub students: i64,
    /// Staff on the current list.
    pub staff: i64,
    /// Classes of 56 or more (大班额, including 超大班额).
    pub big: i64,
    /// Classes of 66 or more (超大班额).
    pub huge: i64,
    /// Classes counted for the big-class share (primary, junior and senior classes).
    pub graded: i64,
}

impl DashRow {
    fn add(&mut self, o: &DashRow) {
        self.schools += o.schools;
        self.classes += o.classes;
        self.students += o.students;
        self.staff += o.staff;
        self.big += o.big;
        self.huge += o.huge;
        self.graded += o.graded;
    }
}

/// A dashboard: the figures of a scope, by county and by school type, and its largest classes.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// When counted.
    pub at: DateTime<Utc>,
    /// By county.
    pub by_county: Vec<DashRow>,
    /// By school type.
    pub by_type: Vec<DashRow>,
    /// Totals.
    pub total: DashRow,
    /// The largest classes (at most 20).
    pub largest: Vec<ClassSize>,
}

/// A scope's dashboard. Each whole county in scope has its own figures, kept until the county's
/// data next changes ([`crate::app::CountyCache`]); a city user's dashboard adds them up, so it is
/// always current and a write in one county recounts that county only. A scope of single schools
/// is counted directly.
pub async fn dashboard(state: &AppState, scope: &Scope) -> Result<Arc<Dashboard>, Failure> {
    if scope.schools().is_some() {
        return Ok(Arc::new(count_dashboard(state, scope).await?));
    }
    let versions = state.county_versions().await?;
    let mut parts = Vec::new();
    for county in scope.counties() {
        let Some(part) = scope.narrow_to_county(county) else {
            continue;
        };
        let code = county.get();
        let version = versions.get(&code).copied().unwrap_or(0);
        parts.push(
            state
                .county_dashboards
                .get_or_compute(code, version, || count_dashboard(state, &part))
                .await?,
        );
    }
    if parts.len() == 1 {
        return Ok(parts.swap_remove(0));
    }
    Ok(Arc::new(Dashboard::sum(&parts)))
}

impl Dashboard {
    /// The dashboard of several counties from theirs.
    fn sum(parts: &[Arc<Dashboard>]) -> Dashboard {
        let mut by_type: BTreeMap<String, DashRow> = BTreeMap::new();
        let mut total = DashRow::default();
        let mut by_county = Vec::new();
        let mut largest = Vec::new();
        for p in parts {
            by_county.extend(p.by_county.iter().cloned());
            for r in &p.by_type {
                by_type
                    .entry(r.key.clone())
                    .or_insert_with(|| DashRow {
                        key: r.key.clone(),
                        ..Default::default()
                    })
                    .add(r);
            }
            total.add(&p.total);
            largest.extend(p.largest.iter().cloned());
        }
        largest.sort_by_key(|c| std::cmp::Reverse(c.size));
        largest.truncate(20);
        Dashboard {
            at: parts.iter().map(|p| p.at).min().unwrap_or_else(Utc::now),
            by_county: sorted_counties(by_county),
            by_type: sorted_types(by_type.into_values().collect()),
            total,
            largest,
        }
    }
}

/// Counties in the bureau's order.
fn sorted_counties(mut rows: Vec<DashRow>) -> Vec<DashRow> {
    let order: Vec<String> = yimeng_domain::region::LINYI_UNITS
        .iter()
        .map(|u| u.code.get().to_string())
        .collect();
    rows.sort_by_key(|r| order.iter().position(|c| *c == r.key).unwrap_or(usize::MAX));
    rows
}

/// School types in their list order.
fn sorted_types(mut rows: Vec<DashRow>) -> Vec<DashRow> {
    rows.sort_by_key(|r| {
        yimeng_domain::SchoolType::ALL
            .iter()
            .position(|t| t.code() == r.key)
            .unwrap_or(usize::MAX)
    });
    rows
}

/// Counts a scope's dashboard.
async fn count_dashboard(state: &AppState, scope: &Scope) -> Result<Dashboard, Failure> {
    let stats = state.stats(scope).await?;
    let sizes =
        yimeng_store::browse::all_class_sizes(&state.db, scope, &state.rules, None, None).await?;
    let briefs = yimeng_store::school::briefs(&state.db, scope).await?;
    let type_of: HashMap<i64, String> = briefs.into_iter().map(|b| (b.id, b.school_type)).collect();
    let register: Vec<&str> = yimeng_store::browse::register_statuses();
    let mut by_county: BTreeMap<i32, DashRow> = BTreeMap::new();
    let mut by_type: BTreeMap<String, DashRow> = BTreeMap::new();
    for ((county, ty), c) in &stats.cells {
        let row = DashRow {
            schools: c.schools,
            classes: c.classes,
            students: c
                .students
                .iter()
                .filter(|(s, _)| register.contains(&s.as_str()))
                .map(|(_, n)| n)
                .sum(),
            staff: c.staff_current,
            ..Default::default()
        };
        by_county
            .entry(*county)
            .or_insert_with(|| DashRow {
                key: county.to_string(),
                ..Default::default()
            })
            .add(&row);
        by_type
            .entry(ty.clone())
            .or_insert_with(|| DashRow {
                key: ty.clone(),
                ..Default::default()
            })
            .add(&row);
    }
    for c in &sizes {
        if c.grade().stage() == yimeng_domain::Stage::Preschool {
            continue;
        }
        let big = i64::from(yimeng_domain::grade::is_big_class(c.size));
        let huge = i64::from(c.size >= yimeng_domain::grade::HUGE_CLASS_MIN);
        let extra = DashRow {
            big,
            huge,
            graded: 1,
            ..Default::default()
        };
        by_county
            .entry(c.county_id)
            .or_insert_with(|| DashRow {
                key: c.county_id.to_string(),
                ..Default::default()
            })
            .add(&extra);
        if let Some(t) = type_of.get(&c.school_id) {
            by_type
                .entry(t.clone())
                .or_insert_with(|| DashRow {
                    key: t.clone(),
                    ..Default::default()
                })
                .add(&extra);
        }
    }
    let mut total = DashRow::default();
    for r in by_county.values() {
        total.add(r);
    }
    let mut largest = sizes;
    largest.sort_by_key(|c| std::cmp::Reverse(c.size));
    largest.truncate(20);
    Ok(Dashboard {
        at: Utc::now(),
        by_county: sorted_counties(by_county.into_values().collect()),
        by_type: sorted_types(by_type.into_values().collect()),
        total,
        largest,
    })
}

/// The public services a visitor can use without an account: (link, title key, help key).
const PUBLIC_SERVICES: &[(&str, &str, &str)] = &[
    ("/directory", "nav.directory", "public.directory_help"),
    ("/public/enrolment", "enrol.apply", "public.enrol_help"),
    (
        "/public/enrolment/status",
        "enrol.lookup",
        "public.enrol_lookup_help",
    ),
    (
        "/public/transfer",
        "svc.public_transfer",
        "public.transfer_help",
    ),
    (
        "/public/transfer/incoming",
        "public.transfer_in",
        "public.transfer_in_help",
    ),
    (
        "/public/transfer/outgoing",
        "public.transfer_out",
        "public.transfer_out_help",
    ),
    (
        "/public/transfer/status",
        "svc.lookup",
        "public.lookup_help",
    ),
    ("/public/admission", "adm.lookup", "public.admission_help"),
    (
        "/public/admission/cutoffs",
        "adm.cutoffs",
        "public.cutoffs_help",
    ),
];

/// `GET /`: a visitor sees the public home page (services, school search, staff login); a
/// logged-in user their home.
pub async fn show(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let Some(u) = u else {
        let ctx = Ctx::anonymous(crate::auth::lang_of(&headers), "/", String::new());
        return page(
            &PublicHome {
                ctx,
                services: PUBLIC_SERVICES,
            },
            false,
        );
    };
    let flash = take_flash(&headers);
    let had = flash.is_some();
    match (u.role(), &u.scope) {
        (Role::Public, _) => return Ok(crate::kit::see_other("/directory", None)),
        (Role::School, Scope::School(s)) => {
            return Ok(crate::kit::see_other(&format!("/schools/{}", s.id), None));
        }
        (Role::Inspector, _) => {
            let f = yimeng_store::browse::SchoolFilter::default();
            let schools = yimeng_store::browse::schools(
                &state.db,
                &u.scope,
                &state.rules,
                &f,
                yimeng_store::browse::SchoolOrder {
                    key: "county",
                    desc: false,
                },
                1,
                500,
            )
            .await?;
            let ctx = Ctx::for_user(&u, "/").with_flash(flash);
            return page(
                &InspectorHome {
                    ctx,
                    schools: schools.items,
                },
                had,
            );
        }
        _ => {}
    }
    let d = dashboard(&state, &u.scope).await?;
    let county = match &u.scope {
        Scope::County(c) => Some(c.get()),
        _ => None,
    };
    let ctx = Ctx::for_user(&u, "/").with_flash(flash);
    page(&HomePage { ctx, d, county }, had)
}

/// `GET /regions/{code}`: a county's page (404 outside the scope).
pub async fn region(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<i32>,
) -> PageResult<Response> {
    u.require_staff()?;
    let c = RegionCode::from_i32(code);
    let Some(county) = u
        .scope
        .narrow_to_county(c)
        .filter(|_| c.linyi_unit().is_some())
    else {
        return Err(Failure::NotFound.into());
    };
    let d = dashboard(&state, &county).await?;
    let ctx = Ctx::for_user(&u, "/");
    Ok(crate::kit::render(&HomePage {
        ctx,
        d,
        county: Some(code),
    })?
    .into_response())
}

/// City or county dashboard.
#[derive(Template)]
#[template(path = "public_home.html")]
struct PublicHome {
    ctx: Ctx,
    services: &'static [(&'static str, &'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    d: Arc<Dashboard>,
    county: Option<i32>,
}

impl HomePage {
    /// Width of a bar for `n` out of the largest value in `rows`.
    /// The length (of 160) of a county's bar for its big-class share `big / graded`: bars are
    /// drawn to the share they are labelled with, the largest share the longest bar.
    fn share_bar(&self, big: impl crate::view::V<i64>, graded: impl crate::view::V<i64>) -> i64 {
        let share = |b: i64, g: i64| if g > 0 { b as f64 / g as f64 } else { 0.0 };
        let max = self
            .d
            .by_county
            .iter()
            .map(|r| share(r.big, r.graded))
            .fold(0.0, f64::max);
        crate::view::bar_length(share(big.v(), graded.v()), max, 160)
    }
}

/// An inspector's home: the assigned schools.
#[derive(Template)]
#[template(path = "inspector.html")]
struct InspectorHome {
    ctx: Ctx,
    schools: Vec<yimeng_store::browse::SchoolListRow>,
}
