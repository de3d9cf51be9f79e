//! 阳光分班 (balanced class assignment, issue 5) for a school's new intake: the form, the
//! print-ready preview with the balance figures, and the commit. The work (the children, the
//! sibling requests, the engine, the placements through the class-size gate) is
//! `service::sunshine`, shared with the API.

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::{Failure, PageResult};
use crate::kit::{render, see_other};
use crate::service::sunshine::{self as svc, ListedClass};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The form (preview and commit carry the same fields).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct SunshineForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `applications` (accepted enrolment applicants) or `unplaced` (students without a class).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub classes: String,
    #[serde(default)]
    pub seed: String,
    /// One group per line: ID numbers, then 同班 or 分班.
    #[serde(default)]
    pub siblings: String,
    /// `preview` or `commit`.
    #[serde(default)]
    action: String,
}

impl SunshineForm {
    fn request(&self) -> svc::Request {
        svc::Request {
            source: self.source.clone(),
            year: self.year.clone(),
            grade: self.grade.clone(),
            classes: self.classes.clone(),
            seed: self.seed.clone(),
            siblings: self.siblings.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "sunshine.html")]
struct SunshinePage {
    ctx: Ctx,
    school_id: i64,
    school_name: String,
    f: SunshineForm,
    grades: Vec<(&'static str, &'static str)>,
    candidates: usize,
    result: Option<(Vec<ListedClass>, String)>,
    error: Option<String>,
}

fn defaults(grades: &[(&'static str, &'static str)]) -> SunshineForm {
    use chrono::Datelike;
    let today = crate::service::today();
    SunshineForm {
        source: "applications".into(),
        year: today.year().to_string(),
        grade: grades.first().map(|g| g.0.to_string()).unwrap_or_default(),
        classes: "1".into(),
        seed: today.format("%Y%m%d").to_string(),
        ..SunshineForm::default()
    }
}

/// `GET /schools/{id}/sunshine`
pub async fn form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    let (s, grades) = svc::school(&state.db, &u, id).await?;
    let f = defaults(&grades);
    Ok(render(&SunshinePage {
        ctx: Ctx::for_user(&u, "/schools"),
        school_id: id,
        school_name: s.name,
        f,
        grades,
        candidates: 0,
        result: None,
        error: None,
    })?
    .into_response())
}

/// What a POST did.
enum Done {
    Shown(svc::Preview),
    Placed(svc::Committed),
}

/// `POST /schools/{id}/sunshine` — preview (`action=preview`) or commit (`action=commit`).
pub async fn run(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<SunshineForm>,
) -> PageResult<Response> {
    u.require_writer()?;
    u.check_csrf(Some(&f.csrf))?;
    let (s, grades) = svc::school(&state.db, &u, id).await?;
    let r = f.request();
    let done = if f.action == "commit" {
        svc::commit(&state.db, &u, &state.rules, &s, &r)
            .await
            .map(Done::Placed)
    } else {
        svc::preview(&state.db, &u, &s, &r).await.map(Done::Shown)
    };
    let (status, candidates, result, error) = match done {
        Ok(Done::Placed(c)) => {
            return Ok(see_other(&format!("/schools/{id}"), Some(&c.message())));
        }
        Ok(Done::Shown(p)) => (
            StatusCode::OK,
            p.candidates,
            Some((p.classes, p.summary)),
            None,
        ),
        Err(Failure::Fields(e)) => {
            let m = e
                .iter()
                .map(|e| e.reason.clone())
                .collect::<Vec<_>>()
                .join("；");
            (StatusCode::UNPROCESSABLE_ENTITY, 0, None, Some(m))
        }
        Err(e) => return Err(e.into()),
    };
    let page = SunshinePage {
        ctx: Ctx::for_user(&u, "/schools"),
        school_id: id,
        school_name: s.name,
        f,
        grades,
        candidates,
        result,
        error,
    };
    Ok((status, render(&page)?).into_response())
}
