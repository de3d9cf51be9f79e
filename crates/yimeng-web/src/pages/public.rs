//! The public school directory (政务公开, plan item 32): schools and kindergartens with their
//! public facts only; no login needed.

use crate::app::AppState;
use crate::auth::MaybeUser;
use crate::error::PageResult;
use crate::kit::{PER_PAGE, page_no, pairs, render, some};
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_store::browse::{self, SchoolFilter};

/// Query of the directory.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DirectoryQuery {
    pub county: Option<String>,
    pub school_type: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
}

/// `GET /directory`
pub async fn directory(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    Query(q): Query<DirectoryQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    let f = SchoolFilter {
        county: some(&q.county).and_then(|c| c.parse().ok()),
        school_type: some(&q.school_type),
        q: some(&q.q),
        ..Default::default()
    };
    // The directory lists every school of the city: names, types and addresses are public.
    let result = browse::public_directory(
        &state.db,
        &state.rules,
        &f,
        browse::SchoolOrder {
            key: "county",
            desc: false,
        },
        page_no(q.page),
        PER_PAGE,
    )
    .await?;
    let ctx = match &u {
        Some(u) => Ctx::for_user(u, "/directory"),
        None => Ctx::anonymous(crate::auth::lang_of(&headers), "/directory", String::new()),
    };
    let query = pairs(&uri);
    let pager = Pager::new(&ctx, "/directory", &query, &result);
    let counties: Vec<(i32, String)> = yimeng_domain::region::LINYI_UNITS
        .iter()
        .map(|u| (u.code.get(), u.name.to_string()))
        .collect();
    Ok(render(&DirectoryPage {
        ctx,
        page: result,
        pager,
        q,
        counties,
    })?
    .into_response())
}

/// The public school directory.
#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::browse::SchoolListRow>,
    pager: Pager,
    q: DirectoryQuery,
    counties: Vec<(i32, String)>,
}
