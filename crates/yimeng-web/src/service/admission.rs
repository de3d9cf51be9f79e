//! 中考统一招生 (senior-high unified admission, issue 6): the work behind the pages and the API.
//! Each workflow step is one function here — create a round, store an uploaded file, validate,
//! dry run, publish, explain a candidate, write the result and cut-off files — with the rules both
//! surfaces share: only the city roles, nothing changes once a round is published (409), and the
//! engine (`yimeng_engine::admission`) runs on a blocking thread.
//!
//! Files: the exchange files are read by the engine's parser; `candidate_ids.csv` (the ID numbers
//! for the public lookup) by the `csv` crate here; `admissions.csv` and `cutoffs.csv` are written
//! by the `csv` crate in the exact exchange format, the results table for people through
//! yimeng-io's `TableWriter` (xlsx or csv).
//!
//! Stored formats: a round keeps its validation problems (`issues_json`: [`StoredIssues`]) and
//! the counts of its dry run (`summary_json`: [`Summary`]) as JSON; both are read and written only
//! through the types here.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use serde::{Deserialize, Serialize};
use yimeng_domain::{IdCardNo, Role};
use yimeng_engine::admission::{self as engine, Instance, Outcome, Policy, PoolKind, exchange};
use yimeng_store::admission::{
    self as store, CutoffRow, FileMeta, ResultFilter, ResultRow, RoundRow,
};
use yimeng_store::{Actor, Db};

pub use exchange::InputIssue;

/// Validation problems kept with a round and shown.
pub const MAX_ISSUES: usize = 2000;

/// Refuses everyone but the city administrator and the city departments.
pub fn require_city(u: &User) -> Result<(), Failure> {
    if matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        Ok(())
    } else {
        Err(Failure::Forbidden(
            "只有市局管理员和市局科室可以办理中考招生".into(),
        ))
    }
}

/// 409 for any change to a published round (the store refuses as well).
pub fn refuse_published(r: &RoundRow) -> Result<(), Failure> {
    if r.is_published() {
        Err(Failure::Conflict(format!(
            "{}年“{}”已发布，录取结果不能再修改",
            r.year, r.name
        )))
    } else {
        Ok(())
    }
}

/// A file kind named in a path (`candidates`, `schools`, `quotas`, `policy`, `candidate_ids`).
pub fn file_kind(kind: &str) -> Result<&'static str, Failure> {
    store::FILE_KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or(Failure::NotFound)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::Internal(format!("admission task: {e}")))
}

fn whole_file_issue(file: &str, reason: String) -> InputIssue {
    InputIssue {
        file: file.to_string(),
        row: None,
        column: None,
        value: None,
        reason,
    }
}

// ---------------------------------------------------------------------------------------------
// Stored formats

/// One validation problem as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Issue {
    /// File name as uploaded.
    pub file: String,
    /// Row, 1-based (the header is row 1); absent for the whole file.
    pub row: Option<u64>,
    /// Column header, or the policy setting.
    pub column: Option<String>,
    /// The offending value.
    pub value: Option<String>,
    /// 原因 (reason), in Chinese.
    pub reason: String,
}

impl From<&InputIssue> for Issue {
    fn from(i: &InputIssue) -> Self {
        Issue {
            file: i.file.clone(),
            row: i.row,
            column: i.column.clone(),
            value: i.value.clone(),
            reason: i.reason.clone(),
        }
    }
}

/// The problems of the last validation: their number and the first [`MAX_ISSUES`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredIssues {
    /// Problems in all.
    pub count: u64,
    /// The first of them.
    pub items: Vec<Issue>,
}

impl StoredIssues {
    /// From the engine's list.
    pub fn of(issues: &[InputIssue]) -> StoredIssues {
        StoredIssues {
            count: issues.len() as u64,
            items: issues.iter().take(MAX_ISSUES).map(Issue::from).collect(),
        }
    }
    /// The round's stored problems (none when it has none or they cannot be read).
    pub fn of_round(r: &RoundRow) -> StoredIssues {
        r.issues_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }
}

/// The counts of a dry run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    /// Candidates in the file.
    pub candidates: u64,
    /// Placed.
    pub placed: u64,
    /// Placed on quota (指标生) seats.
    pub quota: u64,
    /// Senior schools.
    pub schools: u64,
    /// Pools (general and quota).
    pub pools: u64,
    /// Per batch.
    pub batches: Vec<BatchCount>,
}

impl Summary {
    /// The round's dry-run counts, when it has been run.
    pub fn of_round(r: &RoundRow) -> Option<Summary> {
        r.summary_json
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
}

/// Placed in a batch, and still unplaced after it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchCount {
    /// Batch name.
    pub name: String,
    /// Placed in it.
    pub placed: u64,
    /// Still unplaced after it.
    pub unplaced_after: u64,
}

// ---------------------------------------------------------------------------------------------
// Running the engine (CPU work: inside `spawn_blocking`)

/// The uploaded inputs of a round.
struct Inputs {
    files: Vec<(String, String, Vec<u8>)>,
}

impl Inputs {
    async fn load(db: &Db, id: i64) -> Result<Inputs, Failure> {
        let mut files = Vec::new();
        for kind in ["candidates", "schools", "quotas", "policy"] {
            if let Some((name, bytes)) = store::file_content(db, id, kind).await? {
                files.push((kind.to_string(), name, bytes));
            }
        }
        Ok(Inputs { files })
    }
    fn get(&self, kind: &str) -> Option<exchange::Source<'_>> {
        self.files
            .iter()
            .find(|(k, _, _)| k == kind)
            .map(|(_, name, bytes)| exchange::Source { name, bytes })
    }
    /// Parses and validates: every problem, or the instance and policy.
    fn parse(&self) -> Result<(Instance, Policy), Vec<InputIssue>> {
        let (Some(candidates), Some(schools)) = (self.get("candidates"), self.get("schools"))
        else {
            return Err(["candidates", "schools"]
                .into_iter()
                .filter(|k| self.get(k).is_none())
                .map(|k| whole_file_issue(store::file_label(k), "尚未上传".into()))
                .collect());
        };
        let src = exchange::Sources {
            candidates,
            schools,
            quotas: self.get("quotas"),
            policy: self.get("policy"),
        };
        match exchange::load(&src) {
            Ok(x) => Ok(x),
            Err(yimeng_engine::EngineError::AdmissionInput(issues)) => Err(issues),
            Err(e) => Err(vec![whole_file_issue("录取", e.to_string())]),
        }
    }
}

fn batch_name(policy: &Policy, b: u32) -> String {
    policy
        .batches
        .get(b as usize)
        .map_or_else(|| "录取批次".to_string(), |x| x.name.clone())
}

/// Results, cut-offs and counts of one run.
fn rows_of(
    inst: &Instance,
    policy: &Policy,
    outcome: &Outcome,
) -> (Vec<ResultRow>, Vec<CutoffRow>, Summary) {
    let results: Vec<ResultRow> = inst
        .candidates
        .iter()
        .zip(&outcome.placements)
        .enumerate()
        .map(|(i, (c, p))| ResultRow {
            candidate_id: c.id.clone(),
            seq: i as i32,
            junior_school: inst.juniors[c.junior as usize].clone(),
            total: c.total.to_string(),
            school_code: p.map(|p| inst.schools[p.school as usize].code.clone()),
            pool: p.map(|p| outcome.pools[p.pool as usize].kind.as_str().to_string()),
            batch: p.map(|p| batch_name(policy, p.batch)),
            choice: p.map(|p| p.choice as i32),
        })
        .collect();
    // Same order as `exchange::write_cutoffs`: each school's general pool, then its quota pools.
    let n = inst.schools.len();
    let mut quotas_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, q) in inst.quotas.iter().enumerate() {
        quotas_of[q.school as usize].push(n + k);
    }
    let mut cutoffs = Vec::new();
    for (s, school) in inst.schools.iter().enumerate() {
        for p in std::iter::once(s).chain(quotas_of[s].iter().copied()) {
            let r = &outcome.pools[p];
            cutoffs.push(CutoffRow {
                seq: cutoffs.len() as i32,
                school_code: school.code.clone(),
                pool: r.kind.as_str().to_string(),
                junior_school: match r.kind {
                    PoolKind::General => String::new(),
                    PoolKind::Quota(j) => inst.juniors[j as usize].clone(),
                },
                planned: r.planned as i32,
                capacity: r.capacity as i32,
                admitted: r.admitted as i32,
                min_total: r.min_total.map(|m| m.to_string()),
            });
        }
    }
    let nb = policy.batches.len().max(1);
    let mut per_batch = vec![0u64; nb];
    for p in outcome.placements.iter().flatten() {
        if let Some(x) = per_batch.get_mut(p.batch as usize) {
            *x += 1;
        }
    }
    let total = inst.candidates.len() as u64;
    let mut left = total;
    let batches = per_batch
        .iter()
        .enumerate()
        .map(|(b, &placed)| {
            left -= placed.min(left);
            BatchCount {
                name: batch_name(policy, b as u32),
                placed,
                unplaced_after: left,
            }
        })
        .collect();
    let summary = Summary {
        candidates: total,
        placed: outcome.placements.iter().flatten().count() as u64,
        quota: outcome
            .placements
            .iter()
            .flatten()
            .filter(|p| p.pool as usize >= n)
            .count() as u64,
        schools: n as u64,
        pools: outcome.pools.len() as u64,
        batches,
    };
    (results, cutoffs, summary)
}

// ---------------------------------------------------------------------------------------------
// Workflow steps

/// Creates a round; the year as typed (a bad year or a duplicate name is refused, 422/409).
pub async fn create_round(
    db: &Db,
    actor: &Actor,
    year: &str,
    name: &str,
) -> Result<RoundRow, Failure> {
    let year = year.trim().parse::<i32>().map_err(|_| {
        Failure::BadRequest(format!(
            "年份“{}”不是数字",
            yimeng_domain::text::preview(year, 10)
        ))
    })?;
    Ok(store::create(db, actor, year, name, &crate::auth::random_token()).await?)
}

/// What an upload stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// File kind.
    pub kind: &'static str,
    /// File name as uploaded.
    pub name: String,
    /// For `candidate_ids`: how many ID numbers were stored (as salted hashes; the file is not
    /// kept).
    pub identities: Option<usize>,
}

impl Uploaded {
    /// The confirmation shown after the upload.
    pub fn message(&self) -> String {
        match self.identities {
            Some(n) => format!("已保存 {n} 名考生的身份证件号摘要（原文件不保存）"),
            None => format!(
                "已上传{}：{}；请重新校验",
                store::file_label(self.kind),
                self.name
            ),
        }
    }
}

/// Stores an uploaded file of a round (replacing the one of that kind). `Ok(Err(problems))` when
/// `candidate_ids.csv` has problems: nothing is stored then.
pub async fn upload(
    db: &Db,
    actor: &Actor,
    round: &RoundRow,
    kind: &'static str,
    name: &str,
    bytes: &[u8],
) -> Result<Result<Uploaded, Vec<InputIssue>>, Failure> {
    refuse_published(round)?;
    if bytes.is_empty() {
        return Err(Failure::BadRequest("没有选择文件，或文件是空的".into()));
    }
    if kind == "candidate_ids" {
        let (pairs, problems) = parse_candidate_ids(name, bytes);
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let sha = yimeng_store::attachment::sha256_hex(bytes);
        store::put_identities(db, actor, round.id, name, &sha, bytes.len() as i64, &pairs).await?;
        return Ok(Ok(Uploaded {
            kind,
            name: name.to_string(),
            identities: Some(pairs.len()),
        }));
    }
    store::put_file(db, actor, round.id, kind, name, bytes).await?;
    Ok(Ok(Uploaded {
        kind,
        name: name.to_string(),
        identities: None,
    }))
}

/// The message for a refused `candidate_ids.csv` (the first 200 problems).
pub fn upload_problems_message(name: &str, problems: &[InputIssue]) -> String {
    let shown: Vec<String> = problems.iter().take(200).map(|p| p.to_string()).collect();
    let more = if problems.len() > 200 {
        format!("；……另有 {} 处", problems.len() - 200)
    } else {
        String::new()
    };
    format!(
        "{} 有 {} 处错误，未保存：{}{more}",
        name,
        problems.len(),
        shown.join("；")
    )
}

/// Removes an uploaded file.
pub async fn delete_file(
    db: &Db,
    actor: &Actor,
    id: i64,
    kind: &'static str,
) -> Result<(), Failure> {
    let round = store::get(db, id).await?;
    refuse_published(&round)?;
    Ok(store::remove_file(db, actor, id, kind).await?)
}

/// Parses `candidate_ids.csv` (`candidate_id,id_card`; 考生号 and 身份证件号 accepted as headers)
/// with the `csv` crate: every row's problem, with its row number (header = row 1). An ID number
/// is never echoed back in a problem.
fn parse_candidate_ids(name: &str, bytes: &[u8]) -> (Vec<(String, IdCardNo)>, Vec<InputIssue>) {
    let text = exchange::decode(bytes);
    let issue = |row: u64, column: Option<&str>, value: Option<&str>, reason: String| InputIssue {
        file: name.to_string(),
        row: Some(row),
        column: column.map(str::to_string),
        value: value.map(str::to_string),
        reason,
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    let header: Vec<String> = match rdr.read_record(&mut rec) {
        Ok(true) => rec.iter().map(str::to_string).collect(),
        Ok(false) => Vec::new(),
        Err(e) => {
            problems.push(issue(1, None, None, format!("无法读取表头：{e}")));
            return (out, problems);
        }
    };
    let ok_header = header.len() == 2
        && matches!(header[0].as_str(), "candidate_id" | "考生号")
        && matches!(header[1].as_str(), "id_card" | "身份证件号");
    if !ok_header {
        problems.push(issue(
            1,
            None,
            Some(&header.join(",")),
            "表头应为 candidate_id,id_card（或 考生号,身份证件号）".into(),
        ));
        return (out, problems);
    }
    let mut seen = foldhash::HashSet::default();
    // The reader's own line count skips blank lines; rows are counted as an editor shows them.
    let (mut at_byte, mut at_row) = (0usize, 1u64);
    let bytes = text.as_bytes();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                problems.push(issue(row, None, None, format!("无法读取：{e}")));
                break;
            }
        }
        // The record's position is where the reader stood, before the blank lines it skipped.
        let mut start = rec.position().map_or(at_byte, |p| p.byte() as usize);
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        at_row += bytes[at_byte..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        at_byte = start;
        let row = at_row;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if rec.len() != 2 {
            problems.push(issue(
                row,
                None,
                None,
                format!("应有 2 列，实际 {} 列", rec.len()),
            ));
            continue;
        }
        let (cand, card) = (&rec[0], &rec[1]);
        if cand.is_empty() {
            problems.push(issue(row, Some("candidate_id"), None, "考生号为空".into()));
            continue;
        }
        if !seen.insert(cand.to_string()) {
            problems.push(issue(
                row,
                Some("candidate_id"),
                Some(cand),
                "考生号重复".into(),
            ));
            continue;
        }
        match IdCardNo::parse(card) {
            Ok(c) => out.push((cand.to_string(), c)),
            Err(e) => problems.push(issue(row, Some("id_card"), None, e)),
        }
    }
    (out, problems)
}

/// Validates every uploaded file and records the outcome: `Ok(Err(problems))` when any file has
/// a problem (each with its file, row, column and reason).
pub async fn validate(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> Result<Result<(), Vec<InputIssue>>, Failure> {
    let round = store::get(db, id).await?;
    refuse_published(&round)?;
    let inputs = Inputs::load(db, id).await?;
    let parsed = blocking(move || inputs.parse().map(|_| ())).await?;
    record(db, actor, id, parsed.as_ref().err()).await?;
    Ok(parsed)
}

async fn record(
    db: &Db,
    actor: &Actor,
    id: i64,
    issues: Option<&Vec<InputIssue>>,
) -> Result<(), Failure> {
    match issues {
        None => {
            store::record_validation(db, actor, id, None, 0).await?;
        }
        Some(issues) => {
            let stored = serde_json::to_value(StoredIssues::of(issues))
                .map_err(|e| Failure::Internal(e.to_string()))?;
            store::record_validation(db, actor, id, Some(&stored), issues.len()).await?;
        }
    }
    Ok(())
}

/// The dry run: validates again, matches, stores results and cut-offs. 409 before a passing
/// validation; `Ok(Err(problems))` when the files no longer pass.
pub async fn dry_run(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> Result<Result<Summary, Vec<InputIssue>>, Failure> {
    let round = store::get(db, id).await?;
    refuse_published(&round)?;
    if round.status == store::DRAFT {
        return Err(Failure::Conflict(
            "请先校验全部文件并通过，再进行模拟录取".into(),
        ));
    }
    let inputs = Inputs::load(db, id).await?;
    let run = blocking(move || {
        let (inst, policy) = inputs.parse()?;
        engine::admit(&inst, &policy)
            .map(|outcome| rows_of(&inst, &policy, &outcome))
            .map_err(|e| vec![whole_file_issue("录取", e.to_string())])
    })
    .await?;
    match run {
        Ok((results, cutoffs, summary)) => {
            let stored =
                serde_json::to_value(&summary).map_err(|e| Failure::Internal(e.to_string()))?;
            store::save_dry_run(db, actor, id, results, cutoffs, &stored).await?;
            Ok(Ok(summary))
        }
        Err(issues) => {
            record(db, actor, id, Some(&issues)).await?;
            Ok(Err(issues))
        }
    }
}

/// Publishes a dry-run round (confirmed): from then on it is frozen and public.
pub async fn publish(
    db: &Db,
    actor: &Actor,
    id: i64,
    confirmed: bool,
) -> Result<RoundRow, Failure> {
    let round = store::get(db, id).await?;
    refuse_published(&round)?;
    if !confirmed {
        return Err(Failure::BadRequest(
            "请勾选“确认发布”：发布后录取结果不可修改".into(),
        ));
    }
    Ok(store::publish(db, actor, id).await?)
}

/// Why each higher choice did not admit the candidate; `None` when the 考生号 is not in the file.
/// 409 before the dry run.
pub async fn explain(db: &Db, id: i64, candidate: &str) -> Result<Option<String>, Failure> {
    let round = store::get(db, id).await?;
    if round.summary_json.is_none() {
        return Err(Failure::Conflict("请先进行模拟录取".into()));
    }
    let inputs = Inputs::load(db, id).await?;
    let wanted = candidate.to_string();
    blocking(move || -> Result<Option<String>, String> {
        let (inst, policy) = inputs.parse().map_err(|i| exchange::join_issues(&i))?;
        let Some(c) = inst.candidates.iter().position(|c| c.id == wanted) else {
            return Ok(None);
        };
        let outcome = engine::admit(&inst, &policy).map_err(|e| e.to_string())?;
        Ok(Some(
            engine::explain(&inst, &policy, &outcome, c as u32).to_string(),
        ))
    })
    .await?
    .map_err(Failure::Conflict)
}

// ---------------------------------------------------------------------------------------------
// Files out

/// A round with results: 409 before its dry run (or, with `published`, before publication).
pub async fn round_with_results(db: &Db, id: i64, published: bool) -> Result<RoundRow, Failure> {
    let round = store::get(db, id).await?;
    if published && !round.is_published() {
        return Err(Failure::Conflict("录取结果尚未发布".into()));
    }
    if round.summary_json.is_none() {
        return Err(Failure::Conflict("请先进行模拟录取".into()));
    }
    Ok(round)
}

fn exchange_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, Failure> {
    w.into_inner()
        .map_err(|e| Failure::Internal(format!("csv: {e}")))
}

fn csv_failure(e: csv::Error) -> Failure {
    Failure::Internal(format!("csv: {e}"))
}

/// `admissions.csv` exactly as the exchange format: `candidate_id,school_code,pool`, input order.
pub fn admissions_csv(rows: &[ResultRow]) -> Result<Vec<u8>, Failure> {
    let mut w = exchange_writer();
    w.write_record(["candidate_id", "school_code", "pool"])
        .map_err(csv_failure)?;
    for r in rows {
        w.write_record([
            r.candidate_id.as_str(),
            r.school_code.as_deref().unwrap_or(""),
            r.pool.as_deref().unwrap_or(""),
        ])
        .map_err(csv_failure)?;
    }
    finish(w)
}

/// `cutoffs.csv` exactly as the exchange format:
/// `school_code,pool,junior_school,admitted,min_total`.
pub fn cutoffs_csv(rows: &[CutoffRow]) -> Result<Vec<u8>, Failure> {
    let mut w = exchange_writer();
    w.write_record([
        "school_code",
        "pool",
        "junior_school",
        "admitted",
        "min_total",
    ])
    .map_err(csv_failure)?;
    for c in rows {
        w.write_record([
            c.school_code.as_str(),
            c.pool.as_str(),
            c.junior_school.as_str(),
            &c.admitted.to_string(),
            c.min_total.as_deref().unwrap_or(""),
        ])
        .map_err(csv_failure)?;
    }
    finish(w)
}

/// The results table for people (Chinese headers) as xlsx or csv, through yimeng-io's writer.
pub async fn results_table(
    db: &Db,
    round: &RoundRow,
    filter: &ResultFilter,
    format: yimeng_io::FileFormat,
) -> Result<Vec<u8>, Failure> {
    let rows = store::results(db, round.id, filter).await?;
    let title = format!("{}年{}录取结果", round.year, round.name);
    blocking(move || write_results(&rows, format, &title))
        .await?
        .map_err(Failure::Internal)
}

fn write_results(
    rows: &[ResultRow],
    format: yimeng_io::FileFormat,
    title: &str,
) -> Result<Vec<u8>, String> {
    use yimeng_io::{Cell, TableWriter};
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(format!("out.{}", format.ext()));
    let mut w = TableWriter::create(
        &path,
        format,
        title,
        &[
            "考生号",
            "毕业初中",
            "总分",
            "录取学校",
            "录取类别",
            "录取批次",
            "志愿序号",
        ],
    )
    .map_err(|e| e.to_string())?;
    for r in rows {
        w.write_row(&[
            Cell::text(&r.candidate_id),
            Cell::text(&r.junior_school),
            Cell::text(&r.total),
            Cell::text(r.school_code.as_deref().unwrap_or("")),
            Cell::text(r.pool_label()),
            Cell::text(r.batch.as_deref().unwrap_or("")),
            r.choice.map_or(Cell::Empty, |c| Cell::Int(i64::from(c))),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.finish().map_err(|e| e.to_string())?;
    std::fs::read(&path).map_err(|e| e.to_string())
}

/// The export format named in a query (`xlsx` or `csv`).
pub fn export_format(fmt: &str) -> Result<yimeng_io::FileFormat, Failure> {
    match fmt {
        "xlsx" => Ok(yimeng_io::FileFormat::Xlsx),
        "csv" => Ok(yimeng_io::FileFormat::Csv),
        _ => Err(Failure::BadRequest(format!(
            "未知的导出格式“{}”",
            yimeng_domain::text::preview(fmt, 10)
        ))),
    }
}

/// The files of a round, for listing.
pub async fn files(db: &Db, id: i64) -> Result<Vec<FileMeta>, Failure> {
    Ok(store::files(db, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_ids_are_read_as_csv_with_quotes_and_row_numbers() {
        let file = "考生号,身份证件号\n\
                    \"2637130201000001\",11010519491231002X\n\
                    \n\
                    2637130201000002,123\n\
                    2637130201000001,11010519491231002X\n\
                    \"a,b\",11010519491231002X,x\n";
        let (pairs, problems) = parse_candidate_ids("ids.csv", file.as_bytes());
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "2637130201000001");
        let rows: Vec<(Option<u64>, Option<&str>)> = problems
            .iter()
            .map(|p| (p.row, p.column.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                (Some(4), Some("id_card")),
                (Some(5), Some("candidate_id")),
                (Some(6), None)
            ]
        );
        // The ID number itself is never echoed.
        assert!(problems.iter().all(|p| p.value.as_deref() != Some("123")));
    }

    #[test]
    fn exchange_files_quote_only_what_needs_it() {
        let rows = vec![ResultRow {
            candidate_id: "C,1".into(),
            seq: 0,
            junior_school: "J".into(),
            total: "600".into(),
            school_code: Some("S\"1".into()),
            pool: Some("general".into()),
            batch: None,
            choice: Some(1),
        }];
        assert_eq!(
            String::from_utf8(admissions_csv(&rows).unwrap()).unwrap(),
            "candidate_id,school_code,pool\n\"C,1\",\"S\"\"1\",general\n"
        );
    }
}

/// Query of the public cut-offs.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct CutoffQuery {
    /// Round id (default: the latest published).
    pub round: Option<i64>,
    /// Page.
    #[param(ignore)]
    pub page: Option<i64>,
    /// `csv` for the file.
    #[param(ignore)]
    pub format: Option<String>,
}

/// The published rounds, newest first, and the one asked for (default: the latest).
pub async fn published_round(
    state: &AppState,
    round: Option<i64>,
) -> Result<(Vec<RoundRow>, Option<RoundRow>), Failure> {
    let rounds = yimeng_store::admission::published(&state.db).await?;
    let chosen = match round {
        Some(id) => Some(
            rounds
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or(Failure::NotFound)?,
        ),
        None => rounds.first().cloned(),
    };
    Ok((rounds, chosen))
}

/// School names by school code, so that admission pages show a school's name where the exchange
/// files carry its code (a code not in the registry shows as itself).
#[derive(Debug, Clone, Default)]
pub struct SchoolNames(std::collections::HashMap<String, String>);

impl SchoolNames {
    /// Every school of the city (names are public).
    pub async fn load(db: &Db) -> Result<SchoolNames, Failure> {
        Ok(SchoolNames(
            yimeng_store::school::public_briefs(db)
                .await?
                .into_iter()
                .map(|s| (s.code, s.name))
                .collect(),
        ))
    }
    /// The school's name with its code, or the code alone when it is unknown.
    pub fn of(&self, code: &str) -> String {
        match self.0.get(code) {
            Some(name) => format!("{name}（{code}）"),
            None => code.to_string(),
        }
    }
}

#[cfg(test)]
mod names_tests {
    use super::SchoolNames;

    #[test]
    fn a_known_code_shows_the_schools_name_and_an_unknown_one_itself() {
        let n = SchoolNames(
            [("2137000107".to_string(), "临沂第一中学".to_string())]
                .into_iter()
                .collect(),
        );
        assert_eq!(n.of("2137000107"), "临沂第一中学（2137000107）");
        assert_eq!(n.of("S2"), "S2");
    }
}
