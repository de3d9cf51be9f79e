//! 中考统一招生 (senior-high unified admission) rounds: the city department's uploaded exchange
//! files, the validation outcome, the dry run's results and cut-off lines, and publication.
//!
//! City-level data: one admission for the whole city, so these are reference tables keyed by the
//! round (design.md scale-out rule 4), read and written only by city roles (the caller checks
//! the role) and, once published, by the public lookup. The store does not run the engine: the
//! web layer parses and matches (`yimeng-engine::admission`) and hands the rows over.
//!
//! Publication freezes a round: every later write is refused with [`StoreError::Conflict`], and
//! every write is audited. ID numbers are never stored: only a salted SHA-256 of the normalised
//! number (per-round salt), compared at lookup.

use crate::audit::{self, Entry};
use crate::browse::Page;
use crate::db::{Db, Sql, Tx, Value};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use yimeng_domain::IdCardNo;

/// 草稿 (files being uploaded).
pub const DRAFT: &str = "draft";
/// 已校验 (every file passed validation).
pub const VALIDATED: &str = "validated";
/// 已模拟录取 (dry run done; results reviewable, not public).
pub const DRY_RUN: &str = "dry_run";
/// 已发布 (results public and frozen).
pub const PUBLISHED: &str = "published";

/// The input files of a round. `candidate_ids` (考生号 → 身份证件号) is kept as hashes only.
pub const FILE_KINDS: &[&str] = &["candidates", "schools", "quotas", "policy", "candidate_ids"];

/// Chinese label of a file kind.
pub fn file_label(kind: &str) -> &'static str {
    match kind {
        "candidates" => "考生文件 candidates.csv",
        "schools" => "招生计划 schools.csv",
        "quotas" => "指标到校 quotas.csv",
        "policy" => "录取规则 policy.toml",
        "candidate_ids" => "考生身份证件号 candidate_ids.csv",
        _ => "未知文件",
    }
}

/// Chinese label of a status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        DRAFT => "草稿",
        VALIDATED => "已校验",
        DRY_RUN => "已模拟录取",
        PUBLISHED => "已发布",
        _ => "未知",
    }
}

/// An `admission_round` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct RoundRow {
    pub id: i64,
    pub year: i32,
    pub name: String,
    pub status: String,
    #[serde(skip)]
    pub id_salt: String,
    pub issues_json: Option<String>,
    pub summary_json: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
}

impl RoundRow {
    /// 已发布.
    pub fn is_published(&self) -> bool {
        self.status == PUBLISHED
    }
    /// Chinese label of the status.
    pub fn status_label(&self) -> &'static str {
        status_label(&self.status)
    }
}

/// An uploaded file without its content.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct FileMeta {
    pub kind: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

impl FileMeta {
    /// Chinese label of its kind.
    pub fn label(&self) -> &'static str {
        file_label(&self.kind)
    }
}

/// An `admission_result` row: one candidate's result.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ResultRow {
    pub candidate_id: String,
    /// Input order (0-based).
    pub seq: i32,
    pub junior_school: String,
    /// 总分 as written in the input.
    pub total: String,
    /// Admitting school, `None` when not placed.
    pub school_code: Option<String>,
    /// `general` or `quota`.
    pub pool: Option<String>,
    /// Batch name.
    pub batch: Option<String>,
    /// 1-based choice number that admitted.
    pub choice: Option<i32>,
}

impl ResultRow {
    /// 统招 / 指标生 / 未录取.
    pub fn pool_label(&self) -> &'static str {
        match self.pool.as_deref() {
            Some("general") => "统招",
            Some("quota") => "指标生",
            _ => "未录取",
        }
    }
}

/// An `admission_cutoff` row: one pool's outcome.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct CutoffRow {
    pub seq: i32,
    pub school_code: String,
    /// `general` or `quota`.
    pub pool: String,
    /// The junior school of a quota pool, empty for the general pool.
    pub junior_school: String,
    pub planned: i32,
    pub capacity: i32,
    pub admitted: i32,
    /// 最低录取分, `None` when nobody was admitted.
    pub min_total: Option<String>,
}

impl CutoffRow {
    /// 统招 / 指标生.
    pub fn pool_label(&self) -> &'static str {
        if self.pool == "quota" {
            "指标生"
        } else {
            "统招"
        }
    }
}

/// The salted hash of an ID number (hex SHA-256 of `salt:number`, the number normalised by
/// [`IdCardNo::parse`]: 15 digits upgraded to 18, `x` upper-cased).
pub fn id_hash(salt: &str, id: &IdCardNo) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(id.as_str().as_bytes());
    let d = h.finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn published_refusal(r: &RoundRow) -> StoreError {
    StoreError::Conflict(format!(
        "{}年“{}”已发布，录取结果不能再修改（上传、校验、模拟录取均不可用）",
        r.year, r.name
    ))
}

/// Every round, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<RoundRow>> {
    db.all(Sql::new(
        "SELECT * FROM admission_round ORDER BY year DESC, id DESC",
    ))
    .await
}

/// The published rounds, newest first (public).
#[tracing::instrument(skip_all)]
pub async fn published(db: &Db) -> Result<Vec<RoundRow>> {
    let mut q = Sql::new("SELECT * FROM admission_round WHERE status = ");
    q.bind(PUBLISHED).push(" ORDER BY year DESC, id DESC");
    db.all(q).await
}

/// One round.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, id: i64) -> Result<RoundRow> {
    let mut q = Sql::new("SELECT * FROM admission_round WHERE id = ");
    q.bind(id);
    db.one(q).await
}

/// Creates a round in draft. `salt` is a fresh random string (the web layer makes it).
#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, actor: &Actor, year: i32, name: &str, salt: &str) -> Result<RoundRow> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::Invalid("请填写名称（不超过 100 字）".into()));
    }
    if !(2000..=2100).contains(&year) {
        return Err(StoreError::Invalid(format!(
            "年份“{year}”不在 2000–2100 之间"
        )));
    }
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT COUNT(*) FROM admission_round WHERE year = ");
    q.bind(year).push(" AND name = ").bind(name);
    if tx.scalar(q).await? > 0 {
        return Err(StoreError::Conflict(format!(
            "{year}年已有名为“{name}”的招生"
        )));
    }
    let id = tx.alloc_ids("admission_round", 1).await?;
    let now = Utc::now();
    let mut q = Sql::new(
        "INSERT INTO admission_round (id, year, name, status, id_salt, created_at, created_by, updated_at) VALUES ",
    );
    let vals: [Value; 8] = [
        id.into(),
        year.into(),
        name.to_string().into(),
        DRAFT.to_string().into(),
        salt.to_string().into(),
        now.into(),
        actor.name.clone().into(),
        now.into(),
    ];
    q.bind_list(vals);
    tx.exec(q).await?;
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "create",
            id,
            format!("新建中考招生：{year}年 {name}"),
            None,
        )],
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

fn entry(action: &'static str, id: i64, summary: String, after: Option<String>) -> Entry {
    Entry {
        county_id: audit::CITY_COUNTY_ID,
        action,
        entity: "admission_round",
        entity_id: Some(id),
        summary,
        before: None,
        after,
    }
}

/// Locks the round for a write inside `tx` and refuses a published one. The guarded UPDATE is
/// the lock: a concurrent publish either lands first (then this refuses) or waits for us.
async fn lock_unpublished(tx: &mut Tx, id: i64, status: Option<&str>) -> Result<RoundRow> {
    let mut q = Sql::new("UPDATE admission_round SET updated_at = ");
    q.bind(Utc::now());
    if let Some(s) = status {
        q.push(", status = ").bind(s);
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND status <> ")
        .bind(PUBLISHED);
    let n = tx.exec(q).await?;
    let mut g = Sql::new("SELECT * FROM admission_round WHERE id = ");
    g.bind(id);
    let r: RoundRow = tx.opt(g).await?.ok_or(StoreError::NotFound)?;
    if n == 0 {
        return Err(published_refusal(&r));
    }
    Ok(r)
}

/// Removes the dry run's results (a changed input makes them stale).
async fn clear_results(tx: &mut Tx, id: i64) -> Result<()> {
    for t in ["admission_result", "admission_cutoff"] {
        let mut q = Sql::new(&format!("DELETE FROM {t} WHERE round_id = "));
        q.bind(id);
        tx.exec(q).await?;
    }
    let mut q =
        Sql::new("UPDATE admission_round SET summary_json = NULL, issues_json = NULL WHERE id = ");
    q.bind(id);
    tx.exec(q).await?;
    Ok(())
}

/// Stores (or replaces) one exchange file; the round goes back to draft and any dry run is
/// dropped. Refused on a published round.
#[tracing::instrument(skip_all)]
pub async fn put_file(
    db: &Db,
    actor: &Actor,
    id: i64,
    kind: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<()> {
    if !FILE_KINDS.contains(&kind) || kind == "candidate_ids" {
        return Err(StoreError::Invalid(format!("未知的文件类别“{kind}”")));
    }
    let mut tx = db.begin().await?;
    let r = lock_unpublished(&mut tx, id, Some(DRAFT)).await?;
    clear_results(&mut tx, id).await?;
    write_file(
        &mut tx,
        actor,
        id,
        &RoundFile {
            kind,
            name: file_name,
            size: bytes.len() as i64,
            sha256: &crate::attachment::sha256_hex(bytes),
            content: bytes,
        },
    )
    .await?;
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "upload",
            id,
            format!(
                "{}年“{}”上传{}（{} 字节）",
                r.year,
                r.name,
                file_label(kind),
                bytes.len()
            ),
            Some(
                serde_json::json!({"kind": kind, "file": file_name, "sha256": crate::attachment::sha256_hex(bytes)})
                    .to_string(),
            ),
        )],
    )
    .await?;
    tx.commit().await
}

/// An exchange file of a round, to store: its kind, name, size and SHA-256, and its content (empty
/// for the candidate ID file, which is kept only as salted hashes).
struct RoundFile<'a> {
    kind: &'a str,
    name: &'a str,
    size: i64,
    sha256: &'a str,
    content: &'a [u8],
}

/// Stores (or replaces) a round's file of its kind.
async fn write_file(tx: &mut Tx, actor: &Actor, id: i64, f: &RoundFile<'_>) -> Result<()> {
    let RoundFile {
        kind,
        name: file_name,
        size,
        sha256: sha,
        content,
    } = *f;
    let mut q = Sql::new("DELETE FROM admission_file WHERE round_id = ");
    q.bind(id).push(" AND kind = ").bind(kind);
    tx.exec(q).await?;
    let mut q = Sql::new(
        "INSERT INTO admission_file (round_id, kind, file_name, size, sha256, content, uploaded_at, uploaded_by) VALUES ",
    );
    let vals: [Value; 8] = [
        id.into(),
        kind.to_string().into(),
        file_name.to_string().into(),
        size.into(),
        sha.to_string().into(),
        Value::Bytes(Some(content.to_vec())),
        Utc::now().into(),
        actor.name.clone().into(),
    ];
    q.bind_list(vals);
    tx.exec(q).await?;
    Ok(())
}

/// Removes an uploaded file (the optional ones: quotas, policy, candidate_ids).
#[tracing::instrument(skip_all)]
pub async fn remove_file(db: &Db, actor: &Actor, id: i64, kind: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = lock_unpublished(&mut tx, id, Some(DRAFT)).await?;
    clear_results(&mut tx, id).await?;
    let mut q = Sql::new("DELETE FROM admission_file WHERE round_id = ");
    q.bind(id).push(" AND kind = ").bind(kind);
    if tx.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    if kind == "candidate_ids" {
        let mut q = Sql::new("DELETE FROM admission_identity WHERE round_id = ");
        q.bind(id);
        tx.exec(q).await?;
    }
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "delete",
            id,
            format!("{}年“{}”删除{}", r.year, r.name, file_label(kind)),
            None,
        )],
    )
    .await?;
    tx.commit().await
}

/// Stores the 考生号 → ID number mapping as salted hashes (replacing an earlier one). The file
/// itself is recorded by name, size and digest only.
#[tracing::instrument(skip_all)]
pub async fn put_identities(
    db: &Db,
    actor: &Actor,
    id: i64,
    file_name: &str,
    file_sha256: &str,
    size: i64,
    pairs: &[(String, IdCardNo)],
) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = lock_unpublished(&mut tx, id, None).await?;
    let mut q = Sql::new("DELETE FROM admission_identity WHERE round_id = ");
    q.bind(id);
    tx.exec(q).await?;
    for chunk in pairs.chunks(3000) {
        let mut q =
            Sql::new("INSERT INTO admission_identity (round_id, candidate_id, id_hash) VALUES ");
        for (i, (cand, card)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            let vals: [Value; 3] = [
                id.into(),
                cand.clone().into(),
                id_hash(&r.id_salt, card).into(),
            ];
            q.bind_list(vals);
        }
        tx.exec(q).await?;
    }
    write_file(
        &mut tx,
        actor,
        id,
        &RoundFile {
            kind: "candidate_ids",
            name: file_name,
            size,
            sha256: file_sha256,
            content: &[],
        },
    )
    .await?;
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "upload",
            id,
            format!(
                "{}年“{}”上传考生身份证件号对照（{} 人，只保存加盐摘要）",
                r.year,
                r.name,
                pairs.len()
            ),
            None,
        )],
    )
    .await?;
    tx.commit().await
}

/// The uploaded files, without content.
#[tracing::instrument(skip_all)]
pub async fn files(db: &Db, id: i64) -> Result<Vec<FileMeta>> {
    let mut q = Sql::new(
        "SELECT kind, file_name, size, sha256, uploaded_at, uploaded_by FROM admission_file WHERE round_id = ",
    );
    q.bind(id).push(" ORDER BY kind");
    db.all(q).await
}

/// The content of one file (`None` when not uploaded) with its name.
#[tracing::instrument(skip_all)]
pub async fn file_content(db: &Db, id: i64, kind: &str) -> Result<Option<(String, Vec<u8>)>> {
    let mut q = Sql::new("SELECT file_name, content FROM admission_file WHERE round_id = ");
    q.bind(id).push(" AND kind = ").bind(kind);
    db.opt(q).await
}

/// Records a validation: with problems the round stays (or goes back to) draft and keeps them;
/// without, it becomes validated. Refused on a published round.
#[tracing::instrument(skip_all)]
pub async fn record_validation(
    db: &Db,
    actor: &Actor,
    id: i64,
    issues: Option<&serde_json::Value>,
    issue_count: usize,
) -> Result<RoundRow> {
    let mut tx = db.begin().await?;
    let status = if issues.is_some() { DRAFT } else { VALIDATED };
    let r = lock_unpublished(&mut tx, id, Some(status)).await?;
    clear_results(&mut tx, id).await?;
    let mut q = Sql::new("UPDATE admission_round SET issues_json = ");
    q.bind(Value::Text(issues.map(|v| v.to_string())))
        .push(" WHERE id = ")
        .bind(id);
    tx.exec(q).await?;
    let summary = if issue_count > 0 {
        format!("{}年“{}”校验未通过：{issue_count} 处错误", r.year, r.name)
    } else {
        format!("{}年“{}”校验通过", r.year, r.name)
    };
    audit::write(&mut tx, actor, vec![entry("validate", id, summary, None)]).await?;
    tx.commit().await?;
    get(db, id).await
}

/// Stores a dry run's results and cut-offs (replacing earlier ones). The round must have passed
/// validation; refused on a published round.
#[tracing::instrument(skip_all)]
pub async fn save_dry_run(
    db: &Db,
    actor: &Actor,
    id: i64,
    results: Vec<ResultRow>,
    cutoffs: Vec<CutoffRow>,
    summary: &serde_json::Value,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = lock_unpublished(&mut tx, id, None).await?;
    if before.status != VALIDATED && before.status != DRY_RUN {
        return Err(StoreError::Conflict(
            "请先校验全部文件并通过，再进行模拟录取".into(),
        ));
    }
    clear_results(&mut tx, id).await?;
    let placed = results.iter().filter(|r| r.school_code.is_some()).count();
    let total = results.len();
    for chunk in results.chunks(3000) {
        let mut q = Sql::new(
            "INSERT INTO admission_result (round_id, candidate_id, seq, junior_school, total, school_code, pool, batch, choice) VALUES ",
        );
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            let vals: [Value; 9] = [
                id.into(),
                r.candidate_id.clone().into(),
                r.seq.into(),
                r.junior_school.clone().into(),
                r.total.clone().into(),
                Value::Text(r.school_code.clone()),
                Value::Text(r.pool.clone()),
                Value::Text(r.batch.clone()),
                Value::I32(r.choice),
            ];
            q.bind_list(vals);
        }
        tx.exec(q).await?;
    }
    for chunk in cutoffs.chunks(3000) {
        let mut q = Sql::new(
            "INSERT INTO admission_cutoff (round_id, seq, school_code, pool, junior_school, planned, capacity, admitted, min_total) VALUES ",
        );
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            let vals: [Value; 9] = [
                id.into(),
                c.seq.into(),
                c.school_code.clone().into(),
                c.pool.clone().into(),
                c.junior_school.clone().into(),
                c.planned.into(),
                c.capacity.into(),
                c.admitted.into(),
                Value::Text(c.min_total.clone()),
            ];
            q.bind_list(vals);
        }
        tx.exec(q).await?;
    }
    let mut q = Sql::new("UPDATE admission_round SET status = ");
    q.bind(DRY_RUN)
        .push(", summary_json = ")
        .bind(summary.to_string())
        .push(" WHERE id = ")
        .bind(id);
    tx.exec(q).await?;
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "dry_run",
            id,
            format!(
                "{}年“{}”模拟录取：录取 {placed} / {total} 人",
                before.year, before.name
            ),
            Some(summary.to_string()),
        )],
    )
    .await?;
    tx.commit().await
}

/// Publishes a dry-run round: its results become public and frozen.
#[tracing::instrument(skip_all)]
pub async fn publish(db: &Db, actor: &Actor, id: i64) -> Result<RoundRow> {
    let mut tx = db.begin().await?;
    let mut q = Sql::new("UPDATE admission_round SET status = ");
    let now = Utc::now();
    q.bind(PUBLISHED)
        .push(", published_at = ")
        .bind(now)
        .push(", published_by = ")
        .bind(actor.name.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND status = ")
        .bind(DRY_RUN);
    let n = tx.exec(q).await?;
    let mut g = Sql::new("SELECT * FROM admission_round WHERE id = ");
    g.bind(id);
    let r: RoundRow = tx.opt(g).await?.ok_or(StoreError::NotFound)?;
    if n == 0 {
        return Err(if r.is_published() {
            published_refusal(&r)
        } else {
            StoreError::Conflict("只有完成模拟录取的招生才能发布".into())
        });
    }
    audit::write(
        &mut tx,
        actor,
        vec![entry(
            "publish",
            id,
            format!("发布{}年“{}”录取结果", r.year, r.name),
            r.summary_json.clone(),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Filter of the results list.
#[derive(Debug, Clone, Default)]
pub struct ResultFilter {
    /// 考生号 exactly.
    pub candidate: Option<String>,
    /// Admitting school code; `-` = not placed.
    pub school: Option<String>,
}

fn push_filter(q: &mut Sql, f: &ResultFilter) {
    if let Some(c) = &f.candidate {
        q.push(" AND candidate_id = ").bind(c.as_str());
    }
    match f.school.as_deref() {
        Some("-") => {
            q.push(" AND school_code IS NULL");
        }
        Some(s) => {
            q.push(" AND school_code = ").bind(s);
        }
        None => {}
    }
}

/// A page of results in input order.
#[tracing::instrument(skip_all)]
pub async fn results_page(
    db: &Db,
    id: i64,
    f: &ResultFilter,
    page: i64,
    per_page: i64,
) -> Result<Page<ResultRow>> {
    let mut c = Sql::new("SELECT COUNT(*) FROM admission_result WHERE round_id = ");
    c.bind(id);
    push_filter(&mut c, f);
    let total = db.scalar(c).await?;
    let mut q = Sql::new(
        "SELECT candidate_id, seq, junior_school, total, school_code, pool, batch, choice FROM admission_result WHERE round_id = ",
    );
    q.bind(id);
    push_filter(&mut q, f);
    q.push(" ORDER BY seq LIMIT ")
        .bind(per_page)
        .push(" OFFSET ")
        .bind(crate::browse::offset(page, per_page));
    let items = db.all(q).await?;
    Ok(Page {
        items,
        page,
        per_page,
        total: Some(total),
        has_next: page.saturating_mul(per_page) < total,
    })
}

/// Every result in input order (exports).
#[tracing::instrument(skip_all)]
pub async fn results(db: &Db, id: i64, f: &ResultFilter) -> Result<Vec<ResultRow>> {
    let mut q = Sql::new(
        "SELECT candidate_id, seq, junior_school, total, school_code, pool, batch, choice FROM admission_result WHERE round_id = ",
    );
    q.bind(id);
    push_filter(&mut q, f);
    q.push(" ORDER BY seq");
    db.all(q).await
}

/// The cut-off lines in file order (each school's general pool, then its quota pools).
#[tracing::instrument(skip_all)]
pub async fn cutoffs(db: &Db, id: i64) -> Result<Vec<CutoffRow>> {
    let mut q = Sql::new(
        "SELECT seq, school_code, pool, junior_school, planned, capacity, admitted, min_total FROM admission_cutoff WHERE round_id = ",
    );
    q.bind(id).push(" ORDER BY seq");
    db.all(q).await
}

/// A candidate's own result in a published round, by 考生号 and ID number; `NotFound` when the
/// round is not published, the candidate is unknown or the ID number does not match (the
/// three are not told apart).
#[tracing::instrument(skip_all)]
pub async fn lookup(db: &Db, id: i64, candidate_id: &str, card: &IdCardNo) -> Result<ResultRow> {
    let r = get(db, id).await?;
    if !r.is_published() {
        return Err(StoreError::NotFound);
    }
    let mut q = Sql::new(
        "SELECT r.candidate_id, r.seq, r.junior_school, r.total, r.school_code, r.pool, r.batch, r.choice \
         FROM admission_result r JOIN admission_identity i ON i.round_id = r.round_id AND i.candidate_id = r.candidate_id \
         WHERE r.round_id = ",
    );
    q.bind(id)
        .push(" AND r.candidate_id = ")
        .bind(candidate_id.trim())
        .push(" AND i.id_hash = ")
        .bind(id_hash(&r.id_salt, card));
    db.one(q).await
}
