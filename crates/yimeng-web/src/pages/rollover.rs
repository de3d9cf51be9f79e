//! 学年升级 (year rollover, issue 5) for the city administrator: a dry run with the counts per
//! county, then the run itself (one transaction, recorded; see `yimeng_store::rollover`). The work
//! is `service::rollover`, shared with the API.

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::{Failure, PageResult};
use crate::kit::{render, see_other, take_flash};
use crate::service::rollover as svc;
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_domain::RegionCode;
use yimeng_store::rollover::Rollover;

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
    let dry = f.action != "run";
    let done = match svc::parse_year(&f.year) {
        Ok(year) => svc::run(&state.db, &u, year, dry).await.map(|r| (year, r)),
        Err(e) => Err(e),
    };
    let (status, year, result, error) = match done {
        Ok((_, r)) if !dry => {
            return Ok(see_other("/admin/rollover", Some(&svc::done_message(&r))));
        }
        Ok((year, r)) => (StatusCode::OK, year, Some(r), None),
        Err(Failure::Fields(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            default_year(),
            None,
            e.first().map(|e| e.reason.clone()),
        ),
        Err(Failure::Conflict(m)) => (
            StatusCode::CONFLICT,
            svc::parse_year(&f.year).unwrap_or_else(|_| default_year()),
            None,
            Some(m),
        ),
        Err(e) => return Err(e.into()),
    };
    let page = RolloverPage {
        ctx,
        year,
        result,
        error,
    };
    Ok((status, render(&page)?).into_response())
}
