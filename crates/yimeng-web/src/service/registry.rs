//! The registry's records as form values (the import columns), shared by the record pages and
//! the API: a `PUT` or a form overlays what it is given on what is stored.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use crate::kit::forms;
use std::collections::HashMap;
use yimeng_domain::StudentStatus;
use yimeng_io::Table;
use yimeng_store::browse;

/// A class as form values (its school's code, its head teacher's ID number).
pub async fn class_values(
    state: &AppState,
    u: &User,
    c: &yimeng_store::class::ClassRow,
) -> Result<HashMap<String, String>, Failure> {
    let s = yimeng_store::school::get(&state.db, &u.scope, c.school_id).await?;
    // A head teacher outside the caller's scope (moved to another county since) is left out of
    // the form's values; any other failure is reported, never turned into an empty value.
    let head = match c.head_teacher_id {
        Some(h) => match yimeng_store::staff::get(&state.db, &u.scope, h).await {
            Ok(t) => Some(t.id_card),
            Err(yimeng_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(forms::values_from_cells(
        Table::Classes,
        yimeng_io::records::class_cells(&c.to_record(&s.code, head.as_deref())),
    ))
}

/// A staff member and their form values.
pub async fn staff_values(
    state: &AppState,
    u: &User,
    id: i64,
) -> Result<(yimeng_store::staff::StaffRow, HashMap<String, String>), Failure> {
    let s = yimeng_store::staff::get(&state.db, &u.scope, id).await?;
    let school = yimeng_store::school::get(&state.db, &u.scope, s.school_id).await?;
    let values = forms::values_from_cells(
        Table::Staff,
        yimeng_io::records::staff_cells(&s.to_record(&school.code)),
    );
    Ok((s, values))
}

/// A student's record as form values (school code, class, every import column).
pub async fn student_values(
    state: &AppState,
    u: &User,
    id: i64,
) -> Result<HashMap<String, String>, Failure> {
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    let class = d.class.as_ref().map(|c| yimeng_domain::student::ClassRef {
        year: yimeng_domain::SchoolYear::from_start(c.school_year),
        grade: c.grade(),
        class_no: c.class_no,
    });
    let rec = d.student.to_record(&d.school_code, class);
    Ok(forms::values_from_cells(
        Table::Students,
        yimeng_io::records::student_cells(&rec),
    ))
}

/// The status change a target status stands for, when it is one handled as a request (the page
/// and the API alike).
pub fn status_change_of(
    state: &AppState,
    to: StudentStatus,
    reason: &str,
    end: Option<&str>,
) -> Result<Option<yimeng_domain::status_change::StatusChange>, Failure> {
    use yimeng_domain::status_change::{DropoutReason, StatusChange};
    let date = crate::service::today();
    Ok(Some(match to {
        StudentStatus::Suspended => {
            let end = match end.map(str::trim).filter(|e| !e.is_empty()) {
                Some(e) => e.parse().map_err(|_| {
                    Failure::BadRequest(format!("休学截止日期“{e}”格式应为 YYYY-MM-DD"))
                })?,
                None => date
                    .checked_add_months(chrono::Months::new(state.rules.suspension_max_months))
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(date),
            };
            StatusChange::Suspend {
                start: date,
                end,
                reason: reason.to_string(),
            }
        }
        StudentStatus::Resumed => StatusChange::Resume { date },
        StudentStatus::DroppedOut => StatusChange::DropOut {
            date,
            reason: DropoutReason::parse(reason).unwrap_or(DropoutReason::Other),
            note: reason.to_string(),
        },
        StudentStatus::Graduated => StatusChange::Graduate { date },
        StudentStatus::Deceased => StatusChange::Death { date },
        _ => return Ok(None),
    }))
}
