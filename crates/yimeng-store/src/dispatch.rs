//! 月调度 (monthly dispatch): each responsible unit — a city department or a county bureau — files
//! a report per task and month with its progress, the values of reported indicators, a narrative
//! and evidence files. The item's lead department approves or returns it; an approved report is
//! locked (its values feed the indicators and may not change), as in DHIS2's data approval. Every
//! change is audited in the same transaction.
//!
//! Who may file for which unit and who may review is decided by the caller from the plan (the
//! store does not parse plans); the store enforces the life cycle. 月调度 is the first user of the
//! periodic-report cycle ([`crate::report`]): a report's review runs on the one approval flow
//! (one step, decided by the city; a return names its reason and the unit resubmits), with its
//! history in `approval_action` (request kind `dispatch`), and its late and missing flags come
//! from [`expected`].

pub use crate::attachment::Accepted;
use crate::attachment::{self, Owner};
use crate::audit::{self, Entry};
use crate::db::{Db, Sql};
use crate::report::{CycleTable, Expected, Owed, ReportingUnit};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yimeng_domain::approval::{Action, Approver};
use yimeng_domain::calendar::shanghai_date;
use yimeng_domain::report::{Period, PeriodKind, ReportState, check_editable};
use yimeng_domain::{RegionCode, Rules, Scope};

/// The monthly dispatch's report table in the periodic-report cycle.
pub const CYCLE: CycleTable = CycleTable {
    table: "dispatch_report",
    kind: "dispatch",
    key_col: "plan_code",
    subject_col: "task_code",
};

/// The `approval_action.request_kind` of a report's decisions.
pub const REQUEST_KIND: &str = "dispatch";

/// Report statuses.
pub mod status {
    /// 草稿 (saved, not submitted).
    pub const DRAFT: &str = "draft";
    /// 已报送 (waiting for review).
    pub const SUBMITTED: &str = "submitted";
    /// 已通过 (approved: locked).
    pub const APPROVED: &str = "approved";
    /// 已退回 (returned for correction).
    pub const RETURNED: &str = "returned";

    /// Chinese label of a status code.
    pub fn label(code: &str) -> &'static str {
        match code {
            DRAFT => "草稿",
            SUBMITTED => "已报送",
            APPROVED => "已通过",
            RETURNED => "已退回",
            _ => "未知",
        }
    }
}

/// A `dispatch_report` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ReportRow {
    pub county_id: i32,
    pub id: i64,
    pub plan_code: String,
    pub task_code: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Department code, or the county code as text.
    pub unit: String,
    pub progress: i32,
    pub narrative: String,
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<String>,
    pub review_note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The review flow's state code (empty before the first submission).
    pub state: String,
    pub step: i32,
    pub approver_county: Option<i32>,
    pub approver_school: Option<i64>,
    pub step_opened_on: Option<NaiveDate>,
    /// The reviewer's deadline (working days on the stored calendar).
    pub step_deadline: Option<NaiveDate>,
    pub refusal_reason: String,
    pub completed_at: Option<DateTime<Utc>>,
    /// Returns so far.
    pub round: i32,
}

impl ReportRow {
    /// Chinese label of the status.
    pub fn status_label(&self) -> &'static str {
        status::label(&self.status)
    }
    /// Approved reports are locked.
    pub fn is_locked(&self) -> bool {
        self.state() == ReportState::Approved
    }
    /// The report's state in the cycle.
    pub fn state(&self) -> ReportState {
        state_of(&self.status)
    }
    /// The unit that filed it.
    pub fn reporting_unit(&self) -> ReportingUnit {
        unit_of(self.county_id, &self.unit)
    }
    /// Whether the reviewer's step is past its deadline on `today`.
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        self.state() == ReportState::Submitted && self.step_deadline.is_some_and(|d| today > d)
    }
}

fn state_of(code: &str) -> ReportState {
    match code {
        status::SUBMITTED => ReportState::Submitted,
        status::RETURNED => ReportState::Returned,
        status::APPROVED => ReportState::Approved,
        _ => ReportState::NotSubmitted,
    }
}

/// The unit of a report owned by `county_id`: a department's under the city region, else the
/// county's.
pub fn unit_of(county_id: i32, unit: &str) -> ReportingUnit {
    if county_id == crate::audit::CITY_COUNTY_ID {
        ReportingUnit::Department(unit.to_string())
    } else {
        ReportingUnit::County(RegionCode::from_i32(county_id))
    }
}

/// An evidence file's description (without its bytes).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct FileMeta {
    pub county_id: i32,
    pub id: i64,
    pub report_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

/// A report as a unit fills it in.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInput {
    /// The owning region: the county, or 371300 for a city department.
    pub county_id: i32,
    pub plan_code: String,
    pub task_code: String,
    pub period: String,
    pub unit: String,
    /// 0–100.
    pub progress: i32,
    pub narrative: String,
    /// Reported indicator values (indicator code, value).
    pub values: Vec<(String, f64)>,
    /// Submit for review (else keep as a draft).
    pub submit: bool,
}

/// A report with its values and files.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub row: ReportRow,
    pub values: Vec<(String, f64)>,
    pub files: Vec<FileMeta>,
}

/// Checks a period string `YYYY-MM` (a month of the periodic-report cycle).
pub fn check_period(p: &str) -> std::result::Result<(), String> {
    Period::parse_as(PeriodKind::Month, p)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Saves a report (creating it or updating the unit's report for that task and month) and
/// optionally submits it. An approved report is locked; a report waiting for review may still be
/// corrected by its unit; a returned report submitted again is resubmitted on its flow. `scope`
/// is the filer's: it must cover the unit (else not found).
#[tracing::instrument(skip_all)]
pub async fn save(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    rules: &Rules,
    input: ReportInput,
) -> Result<i64> {
    check_period(&input.period).map_err(StoreError::Invalid)?;
    let unit = unit_of(input.county_id, &input.unit);
    if !unit.visible_to(scope) {
        return Err(StoreError::NotFound);
    }
    if !(0..=100).contains(&input.progress) {
        return Err(StoreError::Invalid(format!(
            "进度“{}”应在 0 到 100 之间",
            input.progress
        )));
    }
    if input.narrative.chars().count() > 20_000 {
        return Err(StoreError::Invalid("进展说明不能超过 20000 字".into()));
    }
    for (code, v) in &input.values {
        if !v.is_finite() {
            return Err(StoreError::Invalid(format!("指标 {code} 的数值无效")));
        }
    }
    let calendar = crate::calendar::load(db).await?;
    let today = shanghai_date(Utc::now());
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM dispatch_report WHERE county_id = ");
    q.bind(input.county_id)
        .push(" AND plan_code = ")
        .bind(input.plan_code.as_str())
        .push(" AND task_code = ")
        .bind(input.task_code.as_str())
        .push(" AND period = ")
        .bind(input.period.as_str())
        .push(" AND unit = ")
        .bind(input.unit.as_str());
    let before: Option<ReportRow> = tx.opt(q).await?;
    if let Some(b) = &before {
        check_editable(
            b.state(),
            &format!("任务 {} {} 的月报", b.task_code, b.period),
        )
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    }
    let now = Utc::now();
    let was = before
        .as_ref()
        .map_or(ReportState::NotSubmitted, ReportRow::state);
    // The flow moves after the values are written: a first submission opens the review, a
    // returned report's submission is a resubmission on its flow.
    let new_status = match was {
        ReportState::Submitted => status::SUBMITTED,
        ReportState::Returned => status::RETURNED,
        _ => status::DRAFT,
    };
    let (submitted_at, submitted_by) = if input.submit && was != ReportState::Returned {
        (Some(now), Some(actor.name.clone()))
    } else {
        before
            .as_ref()
            .map_or((None, None), |b| (b.submitted_at, b.submitted_by.clone()))
    };
    let id = match &before {
        Some(b) => {
            let mut q = Sql::new("UPDATE dispatch_report SET progress = ");
            q.bind(input.progress)
                .push(", narrative = ")
                .bind(input.narrative.as_str())
                .push(", status = ")
                .bind(new_status)
                .push(", submitted_at = ")
                .bind(submitted_at)
                .push(", submitted_by = ")
                .bind(submitted_by.clone())
                .push(", updated_at = ")
                .bind(now)
                .push(" WHERE county_id = ")
                .bind(b.county_id)
                .push(" AND id = ")
                .bind(b.id);
            tx.exec(q).await?;
            let mut q = Sql::new("DELETE FROM dispatch_value WHERE county_id = ");
            q.bind(b.county_id).push(" AND report_id = ").bind(b.id);
            tx.exec(q).await?;
            b.id
        }
        None => {
            let id = tx.alloc_ids("dispatch_report", 1).await?;
            let mut q = Sql::new(
                "INSERT INTO dispatch_report (county_id, id, plan_code, task_code, period, unit, progress, narrative, \
                 status, submitted_at, submitted_by, review_note, created_at, updated_at) VALUES ",
            );
            q.bind_list([
                crate::Value::from(input.county_id),
                id.into(),
                input.plan_code.as_str().into(),
                input.task_code.as_str().into(),
                input.period.as_str().into(),
                input.unit.as_str().into(),
                input.progress.into(),
                input.narrative.as_str().into(),
                new_status.into(),
                submitted_at.into(),
                submitted_by.clone().into(),
                "".into(),
                now.into(),
                now.into(),
            ]);
            tx.exec(q).await?;
            id
        }
    };
    for (code, v) in &input.values {
        let mut q =
            Sql::new("INSERT INTO dispatch_value (county_id, report_id, indicator, value) VALUES ");
        q.bind_list([
            crate::Value::from(input.county_id),
            id.into(),
            code.as_str().into(),
            (*v).into(),
        ]);
        tx.exec(q).await?;
    }
    let final_status = match (input.submit, was) {
        (false, _) => new_status,
        (true, ReportState::Returned) => {
            let cols = crate::report::flow_cols(&mut tx, &CYCLE, input.county_id, id).await?;
            let flow = cols
                .flow(&unit, Approver::City, rules.report_review_working_days)
                .ok_or_else(|| StoreError::Invalid("月报审核流程数据无效".into()))?;
            let summary = |a: &Action, _: usize| {
                format!(
                    "{} 月调度：任务 {}（{}）{}",
                    input.period,
                    input.task_code,
                    input.unit,
                    a.label()
                )
            };
            crate::report::decide(
                &mut tx,
                &crate::Acting::new(actor, scope, rules, &calendar, today),
                &CYCLE,
                &cols,
                &flow,
                &Action::Resubmit,
                &summary,
            )
            .await?
            .code()
        }
        (true, ReportState::Submitted) => status::SUBMITTED,
        (true, _) => {
            let flow = yimeng_domain::report::review_flow(
                unit.applicant(),
                Approver::City,
                rules.report_review_working_days,
            );
            crate::report::start_review(
                &mut tx,
                &CYCLE,
                input.county_id,
                id,
                &flow,
                &crate::Acting::new(actor, scope, rules, &calendar, today),
            )
            .await?;
            status::SUBMITTED
        }
    };
    let new_status = final_status;
    let after = serde_json::json!({
        "task": input.task_code, "period": input.period, "unit": input.unit,
        "progress": input.progress, "status": new_status,
        "values": input.values.iter().map(|(c, v)| serde_json::json!({"indicator": c, "value": v})).collect::<Vec<_>>(),
    });
    let entry = Entry {
        county_id: input.county_id,
        action: if input.submit {
            "submit"
        } else if before.is_some() {
            "update"
        } else {
            "create"
        },
        entity: "dispatch_report",
        entity_id: Some(id),
        summary: format!(
            "{} 月调度：任务 {}（{}）{}",
            input.period,
            input.task_code,
            input.unit,
            if input.submit { "报送" } else { "保存" }
        ),
        before: before.map(|b| {
            serde_json::json!({"progress": b.progress, "status": b.status, "narrative_chars": b.narrative.chars().count()})
                .to_string()
        }),
        after: Some(after.to_string()),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await?;
    Ok(id)
}

/// Approves (locking its values) or returns (with a reason) a submitted report, on its review
/// flow: the history row, the guarded update and the audit row in one transaction. Only a report
/// waiting for review can be decided, so a second click on the same decision is refused. The
/// caller has checked that the actor reviews this report's task (the plan's lead department or the
/// city administrator); the flow checks that the actor is the city.
#[tracing::instrument(skip_all)]
pub async fn review(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    rules: &Rules,
    parent: &VisibleReport,
    approve: bool,
    note: &str,
) -> Result<ReportState> {
    let (county_id, id) = (parent.0.county_id, parent.0.id);
    let calendar = crate::calendar::load(db).await?;
    let today = shanghai_date(Utc::now());
    let mut tx = db.begin().await?;
    let row = get_row(&mut tx, county_id, id).await?;
    if row.state() != ReportState::Submitted {
        return Err(StoreError::Conflict(format!(
            "该月报当前状态为“{}”，只有已报送的月报可以审核",
            row.status_label()
        )));
    }
    let cols = crate::report::flow_cols(&mut tx, &CYCLE, county_id, id).await?;
    let flow = cols
        .flow(
            &row.reporting_unit(),
            Approver::City,
            rules.report_review_working_days,
        )
        .ok_or_else(|| StoreError::Invalid("月报审核流程数据无效".into()))?;
    let action = if approve {
        Action::Approve
    } else {
        Action::Return {
            reason: note.to_string(),
        }
    };
    let summary = |a: &Action, _: usize| {
        format!(
            "{} 月调度：任务 {}（{}）{}",
            row.period,
            row.task_code,
            row.unit,
            if matches!(a, Action::Approve) {
                "审核通过"
            } else {
                "退回"
            }
        )
    };
    let state = crate::report::decide(
        &mut tx,
        &crate::Acting::new(actor, scope, rules, &calendar, today),
        &CYCLE,
        &cols,
        &flow,
        &action,
        &summary,
    )
    .await?;
    tx.commit().await?;
    Ok(state)
}

/// The decisions taken on a visible report (approve, return, resubmit), in order.
#[tracing::instrument(skip_all)]
pub async fn history(db: &Db, parent: &VisibleReport) -> Result<Vec<crate::approval::ActionRow>> {
    crate::approval::history(db, parent.0.county_id, REQUEST_KIND, parent.0.id).await
}

/// The reports `owed` for a plan (listed by the caller from the plan's tasks and units), with
/// what was filed and the late and missing flags at `now`; units outside `scope` are left out.
#[tracing::instrument(skip_all)]
pub async fn expected(
    db: &Db,
    scope: &Scope,
    plan_code: &str,
    owed: Vec<Owed>,
    now: DateTime<Utc>,
) -> Result<Vec<Expected>> {
    crate::report::expected(db, scope, &CYCLE, plan_code, owed, now).await
}

async fn get_row(tx: &mut crate::Tx, county_id: i32, id: i64) -> Result<ReportRow> {
    let mut q = Sql::new("SELECT * FROM dispatch_report WHERE county_id = ");
    q.bind(county_id).push(" AND id = ").bind(id);
    tx.opt(q).await?.ok_or(StoreError::NotFound)
}

/// Whether a scope may read the reports owned by a region (a county bureau's, or the city
/// departments' under 371300). A report is a county-level record: only a scope that covers the
/// whole county sees it; a school's or an inspector's assigned schools never do.
pub fn scope_reads(scope: &Scope, county_id: i32) -> bool {
    scope.covers_whole_county(RegionCode::from_i32(county_id))
}

/// The owning regions among `counties` whose reports a scope may read.
pub fn readable_counties(scope: &Scope, counties: &[i32]) -> Vec<i32> {
    counties
        .iter()
        .copied()
        .filter(|c| scope_reads(scope, *c))
        .collect()
}

/// Proof that a report is visible to the caller: made only by [`visible`] (and
/// [`visible_by_file`]), which read the row through the caller's scope. The report's values and
/// files are read with it, never with a bare county number.
#[derive(Debug, Clone, PartialEq)]
pub struct VisibleReport(ReportRow);

impl VisibleReport {
    /// The report row.
    pub fn row(&self) -> &ReportRow {
        &self.0
    }
}

/// A report read through the caller's scope; outside it, [`StoreError::NotFound`].
#[tracing::instrument(skip_all)]
pub async fn visible(db: &Db, scope: &Scope, county_id: i32, id: i64) -> Result<VisibleReport> {
    if !scope_reads(scope, county_id) {
        return Err(StoreError::NotFound);
    }
    let mut q = Sql::new("SELECT * FROM dispatch_report WHERE county_id = ");
    q.bind(county_id).push(" AND id = ").bind(id);
    let row: ReportRow = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    Ok(VisibleReport(row))
}

/// The report an evidence file belongs to, read through the caller's scope.
#[tracing::instrument(skip_all)]
pub async fn visible_by_file(
    db: &Db,
    scope: &Scope,
    county_id: i32,
    file_id: i64,
) -> Result<VisibleReport> {
    if !scope_reads(scope, county_id) {
        return Err(StoreError::NotFound);
    }
    let mut q = Sql::new("SELECT report_id FROM dispatch_file WHERE county_id = ");
    q.bind(county_id).push(" AND id = ").bind(file_id);
    let (report_id,): (i64,) = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    visible(db, scope, county_id, report_id).await
}

/// One visible report with its values and files.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, parent: &VisibleReport) -> Result<Report> {
    let row = parent.0.clone();
    let (county_id, id) = (row.county_id, row.id);
    let mut q = Sql::new("SELECT indicator, value FROM dispatch_value WHERE county_id = ");
    q.bind(county_id)
        .push(" AND report_id = ")
        .bind(id)
        .push(" ORDER BY indicator");
    let values = db.all(q).await?;
    let mut q = Sql::new(
        "SELECT county_id, id, report_id, file_name, content_type, size, sha256, uploaded_at, uploaded_by \
         FROM dispatch_file WHERE county_id = ",
    );
    q.bind(county_id)
        .push(" AND report_id = ")
        .bind(id)
        .push(" ORDER BY id");
    let files = db.all(q).await?;
    Ok(Report { row, values, files })
}

/// Filters of the report list.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Owning regions to read (the city 371300 for departments, counties).
    pub counties: Vec<i32>,
    pub plan_code: String,
    pub period: Option<String>,
    pub unit: Option<String>,
    pub task_code: Option<String>,
    pub status: Option<String>,
}

/// Reports matching a filter, newest month first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, f: &ReportFilter) -> Result<Vec<ReportRow>> {
    let mut q = Sql::new(
        "/* multi-county: dispatch_list */ SELECT * FROM dispatch_report WHERE county_id IN ",
    );
    q.bind_list(f.counties.iter().copied())
        .push(" AND plan_code = ")
        .bind(f.plan_code.as_str());
    if let Some(p) = &f.period {
        q.push(" AND period = ").bind(p.as_str());
    }
    if let Some(u) = &f.unit {
        q.push(" AND unit = ").bind(u.as_str());
    }
    if let Some(t) = &f.task_code {
        q.push(" AND task_code = ").bind(t.as_str());
    }
    if let Some(s) = &f.status {
        q.push(" AND status = ").bind(s.as_str());
    }
    q.push(" ORDER BY period DESC, task_code, unit");
    db.all(q).await
}

/// Approved values of reported indicators up to a month (inclusive): for each unit and indicator,
/// the value of the latest approved report. Rows: (unit, indicator, value, period).
#[tracing::instrument(skip_all)]
pub async fn approved_values(
    db: &Db,
    counties: &[i32],
    plan_code: &str,
    until_period: &str,
) -> Result<Vec<(String, String, f64, String)>> {
    let mut q = Sql::new(
        "/* multi-county: dispatch_values */ SELECT r.unit, v.indicator, v.value, r.period FROM dispatch_report r \
         JOIN dispatch_value v ON v.county_id = r.county_id AND v.report_id = r.id WHERE r.county_id IN ",
    );
    q.bind_list(counties.iter().copied())
        .push(" AND r.plan_code = ")
        .bind(plan_code)
        .push(" AND r.status = ")
        .bind(status::APPROVED)
        .push(" AND r.period <= ")
        .bind(until_period)
        .push(" ORDER BY r.unit, v.indicator, r.period");
    let rows: Vec<(String, String, f64, String)> = db.all(q).await?;
    // Keep the latest period per (unit, indicator): rows are ordered, so the last one wins.
    let mut out: Vec<(String, String, f64, String)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last.0 == r.0 && last.1 == r.1 => *last = r,
            _ => out.push(r),
        }
    }
    Ok(out)
}

/// Largest evidence file accepted.
pub const MAX_FILE_BYTES: usize = yimeng_domain::attachment::EVIDENCE_MAX_BYTES;

/// Checks an evidence file (PDF, image or Word/Excel document whose bytes agree with its
/// extension, at most [`MAX_FILE_BYTES`]); the refusal names the file and the reason.
pub fn accept_file(file_name: &str, content: Vec<u8>) -> Result<Accepted> {
    attachment::accept(
        &yimeng_domain::attachment::DISPATCH_EVIDENCE,
        "附件",
        file_name,
        content,
    )
}

/// Attaches an accepted evidence file to a report that is not locked.
pub async fn add_file(
    db: &Db,
    actor: &Actor,
    county_id: i32,
    report_id: i64,
    file: &Accepted,
) -> Result<i64> {
    let mut tx = db.begin().await?;
    let row = get_row(&mut tx, county_id, report_id).await?;
    if row.is_locked() {
        return Err(StoreError::Conflict(
            "月报已审核通过并锁定，不能再添加附件".into(),
        ));
    }
    let owner = Owner::Dispatch {
        county_id,
        report_id,
        uploaded_by: &actor.name,
    };
    let id = attachment::write(&mut tx, owner, file, Utc::now()).await?;
    let entry = Entry {
        county_id,
        action: "attach",
        entity: "dispatch_report",
        entity_id: Some(report_id),
        summary: format!("月调度附件（{} 字节）", file.size()),
        before: None,
        after: Some(serde_json::json!({"file_id": id, "sha256": file.sha256}).to_string()),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await?;
    Ok(id)
}

/// One evidence file of a visible report, with its bytes.
#[tracing::instrument(skip_all)]
pub async fn file(db: &Db, parent: &VisibleReport, id: i64) -> Result<(FileMeta, Vec<u8>)> {
    let (county_id, report_id) = (parent.0.county_id, parent.0.id);
    let mut q = Sql::new(
        "SELECT county_id, id, report_id, file_name, content_type, size, sha256, uploaded_at, uploaded_by \
         FROM dispatch_file WHERE county_id = ",
    );
    q.bind(county_id)
        .push(" AND report_id = ")
        .bind(report_id)
        .push(" AND id = ")
        .bind(id);
    let meta: FileMeta = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    let d = attachment::download(db, parent, id).await?;
    Ok((meta, d.content))
}
