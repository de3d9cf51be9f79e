//! One search box for names, pinyin initials, ID numbers, 学籍号 and school codes.

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::PageResult;
use crate::kit::render;
use crate::view::Ctx;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `?q=`
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<SearchQuery>,
) -> PageResult<Response> {
    u.require_staff()?;
    let term = q.q.unwrap_or_default();
    let hits = if term.trim().is_empty() {
        vec![]
    } else {
        yimeng_store::browse::search(&state.db, &u.scope, &term, 20).await?
    };
    // A single exact hit by number goes straight to the record.
    if hits.len() == 1 && term.trim().len() >= 10 {
        let h = &hits[0];
        let to = match h.kind {
            "school" => format!("/schools/{}", h.id),
            "staff" => format!("/staff/{}", h.id),
            _ => format!("/students/{}", h.id),
        };
        return Ok(crate::kit::see_other(&to, None));
    }
    let ctx = Ctx::for_user(&u, "/search");
    Ok(render(&SearchPage { ctx, term, hits })?.into_response())
}

/// Search results.
#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: Ctx,
    term: String,
    hits: Vec<yimeng_store::browse::Hit>,
}

impl SearchPage {
    /// Hits of one kind.
    fn of(&self, kind: &str) -> Vec<&yimeng_store::browse::Hit> {
        self.hits.iter().filter(|h| h.kind == kind).collect()
    }
}
