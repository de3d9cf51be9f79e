//! Enrolment applications: who reviews them and whose zone table an account keeps, the same
//! for the pages and the API.

use crate::auth::User;
use crate::error::Failure;
use yimeng_domain::{Role, Scope};

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
