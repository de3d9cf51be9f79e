//! The class-size gate on every placement into a class (domain-rules §5): the rule is
//! [`yimeng_domain::grade::gate_placement`]; this module counts the class from the roster, in the
//! caller's transaction, and records a county bureau's written override (audited and counted for
//! the plan dashboard).

use crate::audit::{self, Entry};
use crate::class::ClassRow;
use crate::db::{Db, Sql, Tx, push_scope};
use crate::{Actor, Result, StoreError};
use chrono::Utc;
use yimeng_domain::grade::{CountyOverride, Gate, gate_placement};
use yimeng_domain::{RegionCode, Rules, Scope, StudentStatus};

/// The status codes counted in a class's size under `rules` (在读, 复学; 休学 when configured).
pub fn counted_statuses(rules: &Rules) -> Vec<&'static str> {
    StudentStatus::ALL
        .iter()
        .filter(|s| s.counts_in_class(rules))
        .map(|s| s.code())
        .collect()
}

/// Students counted in a class now, inside the transaction.
#[tracing::instrument(skip_all)]
pub async fn class_size(tx: &mut Tx, rules: &Rules, county: i32, class_id: i64) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM student s WHERE s.county_id = ");
    q.bind(county)
        .push(" AND s.class_id = ")
        .bind(class_id)
        .push(" AND s.status IN ")
        .bind_list(counted_statuses(rules));
    tx.scalar(q).await
}

/// What a placement passed with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passed {
    /// A warning above the standard size (shown to the user; the placement goes ahead).
    pub warning: Option<String>,
    /// The id of the override written, when a refusal was overridden.
    pub override_id: Option<i64>,
}

/// A placement to check: `adding` students into class `class_id` of `county` (not counting
/// students already in it), with the county's written reason when it overrides a refusal, and
/// what places them (recorded with an override).
#[derive(Debug, Clone, Copy)]
pub struct Placing<'a> {
    pub county: i32,
    pub class_id: i64,
    pub adding: u32,
    pub override_reason: Option<&'a str>,
    pub context: &'a str,
}

/// Checks a placement inside the transaction that places the students. A refusal is an error with
/// the gate's Chinese message; a county account (only the class's own county) may override it with
/// a written reason, which is recorded here with the placement's context and audited.
#[tracing::instrument(skip_all)]
pub async fn enforce(
    tx: &mut Tx,
    actor: &Actor,
    actor_scope: &Scope,
    rules: &Rules,
    placing: &Placing<'_>,
) -> Result<Passed> {
    let Placing {
        county,
        class_id,
        adding,
        override_reason,
        context,
    } = *placing;
    let mut q = Sql::new("SELECT c.* FROM class c WHERE c.county_id = ");
    q.bind(county).push(" AND c.id = ").bind(class_id);
    let class: ClassRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let size = class_size(tx, rules, county, class_id).await?;
    let region = RegionCode::from_i32(county);
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    let may_override = *actor_scope == Scope::County(region);
    let ov = match reason {
        Some(r) if may_override => Some(CountyOverride {
            county: region,
            reason: r.to_string(),
        }),
        _ => None,
    };
    let current = u32::try_from(size).unwrap_or(u32::MAX);
    match gate_placement(class.grade(), current, adding, rules, ov.as_ref()) {
        Gate::Allowed => Ok(Passed::default()),
        Gate::Warn { message } => Ok(Passed {
            warning: Some(message),
            override_id: None,
        }),
        Gate::Refused { message } => Err(StoreError::Conflict(if reason.is_some() {
            format!("{message}（只有该班所在县区教育局可以书面说明理由后突破班额限制）")
        } else if may_override {
            format!("{message}（如确需编入，请填写突破班额的书面理由）")
        } else {
            message
        })),
        Gate::Overridden { message, reason } => {
            let size_after = current.saturating_add(adding) as i32;
            let id = record_override(
                tx,
                actor,
                &Override {
                    county,
                    school_id: class.school_id,
                    class_id,
                    grade: class.grade.clone(),
                    size_after,
                    message,
                    reason,
                    context: context.to_string(),
                },
            )
            .await?;
            Ok(Passed {
                warning: None,
                override_id: Some(id),
            })
        }
    }
}

/// A county bureau's override of a refused placement, to record.
#[derive(Debug, Clone)]
pub(crate) struct Override {
    pub county: i32,
    pub school_id: i64,
    pub class_id: i64,
    /// Grade code of the class.
    pub grade: String,
    pub size_after: i32,
    /// The refusal that was overridden.
    pub message: String,
    /// The bureau's written reason.
    pub reason: String,
    /// What placed the students.
    pub context: String,
}

/// Writes an override row and its audit entry in the placing transaction; returns its id.
pub(crate) async fn record_override(tx: &mut Tx, actor: &Actor, o: &Override) -> Result<i64> {
    let id = tx.alloc_ids("gate_override", 1).await?;
    let mut q = Sql::new(
        "INSERT INTO gate_override (county_id, id, school_id, class_id, grade, size_after, message, reason, context, actor, at) VALUES ",
    );
    q.bind_list([
        crate::Value::from(o.county),
        id.into(),
        o.school_id.into(),
        o.class_id.into(),
        o.grade.as_str().into(),
        o.size_after.into(),
        o.message.as_str().into(),
        o.reason.as_str().into(),
        o.context.as_str().into(),
        actor.name.as_str().into(),
        Utc::now().into(),
    ]);
    tx.exec(q).await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: o.county,
            action: "gate_override",
            entity: "class",
            entity_id: Some(o.class_id),
            summary: format!("突破班额限制（{}）：{}", o.context, o.message),
            before: None,
            after: Some(
                serde_json::json!({ "reason": o.reason, "size_after": o.size_after }).to_string(),
            ),
        }],
    )
    .await?;
    Ok(id)
}

/// How many placements beyond the class-size limits county bureaus have overridden, in scope.
#[tracing::instrument(skip_all)]
pub async fn gate_overrides(db: &Db, scope: &Scope) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM gate_override g WHERE ");
    push_scope(&mut q, scope, "g", "school_id");
    db.scalar(q).await
}

/// Students counted in a class (outside a transaction; for forms that show the size).
#[tracing::instrument(skip_all)]
pub async fn class_size_now(db: &Db, rules: &Rules, county: i32, class_id: i64) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM student s WHERE s.county_id = ");
    q.bind(county)
        .push(" AND s.class_id = ")
        .bind(class_id)
        .push(" AND s.status IN ")
        .bind_list(counted_statuses(rules));
    db.scalar(q).await
}
