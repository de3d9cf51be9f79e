//! Enrolment applications: who reviews them, whose zone table an account keeps, and the review's
//! decisions on the approval flow (with the stored working-day calendar and today's date), the
//! same for the pages and the API.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use yimeng_domain::{Role, Scope};
use yimeng_store::StoreError;
use yimeng_store::enrolment::{self, ApplicationRow, Review, Timing, Upload};

/// A reviewer's decision on an application (page and API).
pub async fn review(
    state: &AppState,
    u: &User,
    county: i32,
    id: i64,
    decision: Review,
) -> Result<ApplicationRow, StoreError> {
    let calendar = yimeng_store::calendar::load(&state.db).await?;
    let t = Timing {
        rules: &state.rules,
        calendar: &calendar,
        today: super::today(),
    };
    enrolment::review(&state.db, &u.actor(), &u.scope, &t, county, id, decision).await
}

/// The parent's resubmission after a return, by number and ID number.
pub async fn resubmit(
    state: &AppState,
    number: &str,
    id_card: &str,
    files: Vec<Upload>,
) -> Result<ApplicationRow, StoreError> {
    let calendar = yimeng_store::calendar::load(&state.db).await?;
    let t = Timing {
        rules: &state.rules,
        calendar: &calendar,
        today: super::today(),
    };
    enrolment::resubmit(&state.db, &t, number, id_card, files).await
}

/// The parent's withdrawal, by number and ID number.
pub async fn withdraw(
    state: &AppState,
    number: &str,
    id_card: &str,
) -> Result<ApplicationRow, StoreError> {
    let calendar = yimeng_store::calendar::load(&state.db).await?;
    let t = Timing {
        rules: &state.rules,
        calendar: &calendar,
        today: super::today(),
    };
    enrolment::withdraw(&state.db, &t, number, id_card).await
}

/// Who reviews enrolment applications: county bureaus, the schools of a zone, the city administrator.
pub fn require_reviewer(u: &User) -> Result<(), Failure> {
    match u.role() {
        Role::CityAdmin | Role::County | Role::School => Ok(()),
        _ => Err(Failure::Forbidden(
            "入学申请由县区教育局或学区学校审核".into(),
        )),
    }
}

/// The county whose zone table an account maintains (the city administrator names one).
pub fn zone_county(u: &User, asked: Option<i32>) -> Result<i32, Failure> {
    match &u.scope {
        Scope::County(c) => Ok(c.get()),
        Scope::City if u.role() == Role::CityAdmin => Ok(asked.unwrap_or(371302)),
        _ => Err(Failure::Forbidden("学区表由县区教育局维护".into())),
    }
}
