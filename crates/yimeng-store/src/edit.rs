//! Saves from forms and the API: one record at a time through the same importers as files, so
//! the same rules, history and audit apply; only the records named are loaded.

use crate::import::{
    ClassImport, GateOptions, Options, Report, SchoolImport, StaffImport, StudentImport, Target,
};
use crate::{Actor, Db, Result};
use yimeng_domain::class::ClassRecord;
use yimeng_domain::school::SchoolRecord;
use yimeng_domain::staff::StaffRecord;
use yimeng_domain::student::StudentRecord;
use yimeng_domain::{FieldError, Scope};

/// The outcome of a save.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Written (or already identical); the record's id.
    Ok(i64),
    /// Refused; what is wrong, field by field.
    Invalid(Vec<FieldError>),
}

fn outcome(r: Report) -> Saved {
    if r.rejected > 0 || !r.committed {
        Saved::Invalid(
            r.errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    value: e.value,
                    reason: e.reason,
                })
                .collect(),
        )
    } else {
        Saved::Ok(r.last_id.unwrap_or_default())
    }
}

/// Creates or updates a school (matched by its 学校标识码).
#[tracing::instrument(skip_all)]
pub async fn save_school(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    rec: SchoolRecord,
) -> Result<Saved> {
    let target = Target {
        school_codes: vec![rec.code.to_string()],
        ..Target::default()
    };
    let mut i = SchoolImport::start(db, scope, actor, Options::edit(target)).await?;
    i.push(1, Ok(rec)).await?;
    Ok(outcome(i.finish().await?))
}

/// Creates a class, or updates class `id`.
#[tracing::instrument(skip_all)]
pub async fn save_class(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    rec: ClassRecord,
    id: Option<i64>,
) -> Result<Saved> {
    let target = Target {
        school_codes: vec![rec.school_code.to_string()],
        numbers: rec.head_teacher.iter().map(|h| h.to_string()).collect(),
        ids: id.into_iter().collect(),
    };
    let mut i = ClassImport::start(db, scope, actor, Options::edit(target)).await?;
    i.push_as(1, Ok(rec), id).await?;
    Ok(outcome(i.finish().await?))
}

/// Creates a staff member, or updates staff member `id`.
#[tracing::instrument(skip_all)]
pub async fn save_staff(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    rec: StaffRecord,
    id: Option<i64>,
) -> Result<Saved> {
    let target = Target {
        school_codes: vec![rec.school_code.to_string()],
        numbers: vec![rec.id_card.to_string()],
        ids: id.into_iter().collect(),
    };
    let mut i = StaffImport::start(db, scope, actor, Options::edit(target)).await?;
    i.push_as(1, Ok(rec), id).await?;
    Ok(outcome(i.finish().await?))
}

/// Creates a student, or updates student `id`. `reason` is recorded with a status change. The
/// class-size gate applies with its default limits.
#[tracing::instrument(skip_all)]
pub async fn save_student(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    rec: StudentRecord,
    id: Option<i64>,
    reason: Option<String>,
) -> Result<Saved> {
    Ok(
        save_student_gated(db, scope, actor, rec, id, reason, GateOptions::default())
            .await?
            .0,
    )
}

/// As [`save_student`] with the class-size gate `gate` (the configured limits and, for a county
/// bureau, a written reason to place beyond them); also returns the gate's warnings (above the
/// standard size of 45/50).
#[tracing::instrument(skip_all)]
pub async fn save_student_gated(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    rec: StudentRecord,
    id: Option<i64>,
    reason: Option<String>,
    gate: GateOptions,
) -> Result<(Saved, Vec<String>)> {
    let mut numbers = vec![rec.student_no.to_string()];
    numbers.extend(rec.id_card.iter().map(|c| c.to_string()));
    let target = Target {
        school_codes: vec![rec.school_code.to_string()],
        numbers,
        ids: id.into_iter().collect(),
    };
    let mut i = StudentImport::start_gated(db, scope, actor, Options::edit(target), gate).await?;
    if let Some(r) = reason {
        i.set_status_reason(r);
    }
    i.push_as(1, Ok(rec), id).await?;
    let report = i.finish().await?;
    let warnings = report.warnings.clone();
    Ok((outcome(report), warnings))
}
