//! 学年升级 (year rollover, issue 5) for the city administrator: a dry run with the counts per
//! county, then the run itself (one transaction, recorded; see `yimeng_store::rollover`).

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::PageResult;
use crate::kit::{render, see_other, take_flash};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_domain::RegionCode;
use yimeng_store::StoreError;
use yimeng_store::rollover::{self, Rollover};

#[derive(Template)]
#[template(path = "rollover.html")]
struct RolloverPage {
    ctx: Ctx,
    year: i32,
    result: Option<Rollover>,
    error: Option<String>,
}

impl RolloverPage {
    fn county_name(&self, code: &i32) -> String {
        RegionCode::from_i32(*code).name()
    }
}

fn default_year() -> i32 {
    use chrono::Datelike;
    crate::service::today().year()
}

/// `GET /admin/rollover`
pub async fn form(PageUser(u): PageUser, headers: HeaderMap) -> PageResult<Response> {
    u.require_admin()?;
    let ctx = Ctx::for_user(&u, "/admin/rollover").with_flash(take_flash(&headers));
    Ok(render(&RolloverPage {
        ctx,
        year: default_year(),
        result: None,
        error: None,
    })?
    .into_response())
}

/// The rollover form.
#[derive(Deserialize)]
pub struct RolloverForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    year: String,
    /// `dry` (count only) or `run`.
    #[serde(default)]
    action: String,
}

/// `POST /admin/rollover`
pub async fn run(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<RolloverForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let ctx = Ctx::for_user(&u, "/admin/rollover");
    let Some(year) = f
        .year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
    else {
        let page = RolloverPage {
            ctx,
            year: default_year(),
            result: None,
            error: Some(format!(
                "学年“{}”应为新学年的起始年份，如 2021",
                f.year.trim()
            )),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let dry = f.action != "run";
    match rollover::run(&state.db, &u.actor(), year, dry).await {
        Ok(r) if !dry => {
            state.cache.lock().expect("cache lock").clear();
            let t = r.total();
            Ok(see_other(
                "/admin/rollover",
                Some(&format!(
                    "已完成 {year}-{} 学年升级：升级 {} 人，毕业 {} 人，新建班级 {} 个",
                    year + 1,
                    t.promoted,
                    t.graduated,
                    t.classes_created
                )),
            ))
        }
        Ok(r) => Ok(render(&RolloverPage {
            ctx,
            year,
            result: Some(r),
            error: None,
        })?
        .into_response()),
        Err(StoreError::Conflict(m)) => {
            let page = RolloverPage {
                ctx,
                year,
                result: None,
                error: Some(m),
            };
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(crate::error::Failure::from(e).into()),
    }
}
