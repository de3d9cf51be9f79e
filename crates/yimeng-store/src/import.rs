//! Bulk import of the registry: schools, classes, students and staff.
//!
//! Each importer loads what it needs to check a row in memory (schools and classes in scope, the
//! national number keys, the content hashes of existing records), then takes validated records one
//! by one. Every row is checked before it can be written; in the default all-or-nothing mode one bad
//! row means nothing is written (the transaction is rolled back) and every error is still reported.
//! With `Mode::Partial` good rows are written and bad ones reported. A re-import of the same file
//! changes nothing: rows are matched by their natural key and compared by content hash.

use crate::audit::{self, Entry};
use crate::bulk::{self, TableRow};
use crate::class::ClassRow;
use crate::db::{Db, Sql, Tx, Value, push_scope};
use crate::school::SchoolRow;
use crate::staff::StaffRow;
use crate::student::{StudentEventRow, StudentRow};
use crate::{Actor, Result};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use std::collections::HashMap;
use yimeng_domain::class::{ClassRecord, check_grade_in_school};
use yimeng_domain::school::SchoolRecord;
use yimeng_domain::staff::StaffRecord;
use yimeng_domain::student::{ClassRef, StudentRecord};
use yimeng_domain::{FieldError, Grade, Scope, StageSet, StudentStatus};

/// All-or-nothing (default) or partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// One bad row means nothing is written.
    AllOrNothing,
    /// Good rows are written; bad rows are reported.
    Partial,
}

/// How to run an import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Mode.
    pub mode: Mode,
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// File name, for the batch record.
    pub file_name: String,
    /// SHA-256 of the file, for the batch record.
    pub file_sha256: String,
    /// A save from a form or the API rather than a file: no batch record; every created or
    /// changed record gets its own audit entry; only what the records name is loaded.
    pub edit: Option<Target>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::AllOrNothing,
            dry_run: false,
            file_name: String::new(),
            file_sha256: String::new(),
            edit: None,
        }
    }
}

impl Options {
    /// A save of a few records named by `target` (a form or an API call).
    pub fn edit(target: Target) -> Options {
        Options {
            file_name: "form".into(),
            edit: Some(target),
            ..Options::default()
        }
    }
}

/// What a form or API save touches: the loaders read only these instead of the whole scope.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// 学校标识码 named by the records.
    pub school_codes: Vec<String>,
    /// ID numbers and 学籍号 named by the records.
    pub numbers: Vec<String>,
    /// Ids of the records being edited.
    pub ids: Vec<i64>,
}

/// One refused row's problem, naming the row (1-based, as the spreadsheet numbers it), the field
/// key, the value and the reason in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Row number in the file.
    pub row: u64,
    /// Field key (presentation maps it to the Chinese header).
    pub field: &'static str,
    /// The value.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// At most this many errors are kept in memory; the rest are counted.
pub const MAX_KEPT_ERRORS: usize = 200_000;

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Table imported.
    pub entity: &'static str,
    /// Data rows read.
    pub total: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Records already identical.
    pub unchanged: u64,
    /// Rows refused.
    pub rejected: u64,
    /// The problems (at most [`MAX_KEPT_ERRORS`]).
    pub errors: Vec<RowError>,
    /// Problems not kept.
    pub errors_dropped: u64,
    /// Whether anything was written.
    pub committed: bool,
    /// Validation only.
    pub dry_run: bool,
    /// The batch id when committed.
    pub batch_id: Option<i64>,
    /// The id of the last record accepted (the record a form save wrote).
    pub last_id: Option<i64>,
    /// Placements above the standard class size (45/50): allowed, shown to the user.
    pub warnings: Vec<String>,
}

/// A `person_key` row: one national number in use.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PersonKeyRow {
    pub kind: String,
    pub value: String,
    pub county_id: i32,
    pub owner: String,
    pub owner_id: i64,
}

crate::bulk::table_row!(
    PersonKeyRow,
    "person_key",
    "value, kind",
    [kind, value, county_id, owner, owner_id]
);

/// A `school_key` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SchoolKeyRow {
    pub code: String,
    pub county_id: i32,
    pub school_id: i64,
}

crate::bulk::table_row!(
    SchoolKeyRow,
    "school_key",
    "code",
    [code, county_id, school_id]
);

/// Who holds a national number.
#[derive(Debug, Clone, Copy)]
struct KeyOwner {
    county: i32,
    id: i64,
    staff: bool,
}

/// A national number to be written to `person_key` at the end of the import (sorted: a B-tree
/// filled in key order is written sequentially instead of at random).
#[derive(Debug, Clone, Copy)]
struct NewKey {
    key: u64,
    owner_id: i64,
    county: i32,
    staff: bool,
}

/// A map with integer keys: the maps here hold millions of them and SipHash would dominate, so
/// they use the workspace's hasher, foldhash (its fast variant, seeded per process).
pub type IntMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Rows buffered before a flush.
const FLUSH_ROWS: usize = 4000;
/// Ids reserved at a time.
const ID_BLOCK: i64 = 20_000;
/// Below this many rows in the target table an import is a bulk load: on PostgreSQL secondary
/// indexes and foreign keys are dropped and rebuilt after the rows are in, which is several times
/// faster than keeping them up to date row by row (see [`bulk::suspend`]).
pub const BULK_BELOW_ROWS: i64 = 100_000;

/// The import's transaction: free, or lent to a background task that is writing a batch while
/// the next rows are being checked.
enum TxSlot {
    Ready(Tx),
    Busy(tokio::task::JoinHandle<Result<Tx>>),
}

/// The part every importer shares: the transaction, the report, the id allocator, the new keys.
struct Core {
    db: Db,
    tx: Option<TxSlot>,
    bulk: bool,
    opts: Options,
    actor: Actor,
    report: Report,
    batch_id: Option<i64>,
    now: DateTime<Utc>,
    next_id: i64,
    id_limit: i64,
    seq: &'static str,
    scope_county: i32,
    keys: Vec<NewKey>,
    suspended: Vec<bulk::Suspended>,
    /// Audit entries of records created by a form or API save.
    created: Vec<Entry>,
    /// When the write transaction began: on SQLite the single writer is held from then until
    /// commit or rollback, and every other write waits (logged at the end).
    tx_since: Option<std::time::Instant>,
}

impl Core {
    /// Starts the transaction (none for a dry run). `bulk_table` names a table to load in bulk
    /// mode when it is small.
    async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
        entity: &'static str,
        seq: &'static str,
        bulk_table: Option<&'static str>,
    ) -> Result<Core> {
        let bulk = match bulk_table {
            Some(t) if !opts.dry_run && opts.edit.is_none() => {
                let q = Sql::new(&format!(
                    "/* multi-county: bulk_probe */ SELECT COUNT(*) FROM (SELECT 1 FROM {t} LIMIT {BULK_BELOW_ROWS}) x"
                ));
                db.scalar(q).await? < BULK_BELOW_ROWS
            }
            _ => false,
        };
        let mut tx: Option<Tx> = match (opts.dry_run, bulk) {
            (true, _) => None,
            (false, true) => Some(db.begin_bulk().await?),
            (false, false) => Some(db.begin().await?),
        };
        let tx_since = tx.as_ref().map(|_| std::time::Instant::now());
        let mut suspended = Vec::new();
        let batch_id = match tx.as_mut() {
            Some(tx) => {
                if let (true, Some(t)) = (bulk, bulk_table) {
                    suspended.push(bulk::suspend(tx, t).await?);
                    suspended.push(bulk::suspend_primary_key(tx, "person_key").await?);
                }
                Some(tx.alloc_ids("import_batch", 1).await?)
            }
            None => None,
        };
        let counties = scope.counties();
        let scope_county = if counties.len() == 1 {
            counties[0].get()
        } else {
            audit::CITY_COUNTY_ID
        };
        Ok(Core {
            db: db.clone(),
            tx: tx.map(TxSlot::Ready),
            bulk,
            report: Report {
                entity,
                dry_run: opts.dry_run,
                ..Report::default()
            },
            opts,
            actor: actor.clone(),
            batch_id,
            now: Utc::now().trunc_subsecs(0),
            next_id: 0,
            id_limit: 0,
            seq,
            scope_county,
            keys: Vec::new(),
            suspended,
            created: Vec::new(),
            tx_since,
        })
    }

    /// Reads inside the import's transaction when there is one, so what is checked is what is
    /// written against.
    async fn all<T: crate::db::Rowable>(&mut self, q: Sql) -> Result<Vec<T>> {
        if self.tx.is_some() {
            self.tx().await?.all(q).await
        } else {
            self.db.all(q).await
        }
    }

    /// The transaction, once any background write has finished.
    async fn tx(&mut self) -> Result<&mut Tx> {
        if let Some(TxSlot::Busy(_)) = &self.tx {
            let Some(TxSlot::Busy(h)) = self.tx.take() else {
                unreachable!()
            };
            let tx = h
                .await
                .map_err(|e| crate::StoreError::Invalid(format!("写入任务失败：{e}")))??;
            self.tx = Some(TxSlot::Ready(tx));
        }
        match self.tx.as_mut() {
            Some(TxSlot::Ready(tx)) => Ok(tx),
            _ => Err(crate::StoreError::Invalid("导入事务已结束".into())),
        }
    }

    /// Takes the transaction out, once any background write has finished.
    async fn take_tx(&mut self) -> Result<Option<Tx>> {
        if self.tx.is_none() {
            return Ok(None);
        }
        self.tx().await?;
        match self.tx.take() {
            Some(TxSlot::Ready(tx)) => Ok(Some(tx)),
            _ => Ok(None),
        }
    }

    /// Inserts new rows in the background: the next rows are checked while these are written.
    async fn insert_background<R: TableRow + 'static>(&mut self, rows: Vec<R>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let Some(mut tx) = self.take_tx().await? else {
            return Ok(());
        };
        self.tx = Some(TxSlot::Busy(tokio::spawn(async move {
            bulk::insert(&mut tx, rows).await?;
            Ok(tx)
        })));
        Ok(())
    }

    /// Whether rows are still being written (not in a dry run, and not after an error in
    /// all-or-nothing mode).
    fn writing(&self) -> bool {
        self.tx.is_some() && !(self.opts.mode == Mode::AllOrNothing && self.report.rejected > 0)
    }

    fn reject(&mut self, row: u64, errs: Vec<FieldError>) {
        self.report.rejected += 1;
        for e in errs {
            if self.report.errors.len() < MAX_KEPT_ERRORS {
                self.report.errors.push(RowError {
                    row,
                    field: e.field,
                    value: e.value,
                    reason: e.reason,
                });
            } else {
                self.report.errors_dropped += 1;
            }
        }
    }

    async fn new_id(&mut self) -> Result<i64> {
        if !self.writing() {
            return Ok(0);
        }
        if self.next_id >= self.id_limit {
            let block = if self.bulk { 10 * ID_BLOCK } else { ID_BLOCK };
            let seq = self.seq;
            self.next_id = self.tx().await?.alloc_ids(seq, block).await?;
            self.id_limit = self.next_id + block;
        }
        self.next_id += 1;
        Ok(self.next_id - 1)
    }

    /// Counts an accepted record and remembers its id.
    fn accepted(&mut self, id: i64) {
        self.report.last_id = Some(id);
    }

    /// In a form or API save, records the creation of a row for the audit log.
    fn note_created<R: TableRow>(
        &mut self,
        entity: &'static str,
        county_id: i32,
        id: i64,
        row: &R,
    ) {
        if self.opts.edit.is_some() {
            self.created.push(Entry {
                county_id,
                action: "create",
                entity,
                entity_id: Some(id),
                summary: format!("新增{}", entity_label(entity)),
                before: None,
                after: Some(audit::json_row(row)),
            });
        }
    }

    /// The target of a form or API save.
    fn target(&self) -> Option<&Target> {
        self.opts.edit.as_ref()
    }

    /// Buffers a national key to write at the end.
    fn add_key(&mut self, key: u64, owner_id: i64, county: i32, staff: bool) {
        if self.writing() {
            self.keys.push(NewKey {
                key,
                owner_id,
                county,
                staff,
            });
        }
    }

    /// Writes the buffered national keys in key order, which is the order of `person_key`'s
    /// primary key (value, kind): the compact key sorts ID numbers by their digits and check
    /// character, and puts 学籍号 (which start with a letter) after them. The B-tree is then
    /// filled from left to right instead of at random.
    async fn write_keys(&mut self) -> Result<()> {
        if !self.writing() {
            return Ok(());
        }
        let mut keys = std::mem::take(&mut self.keys);
        if keys.is_empty() {
            return Ok(());
        }
        keys.sort_unstable_by_key(|k| k.key);
        let tx = self.tx().await?;
        if tx.backend() == crate::Backend::Sqlite {
            use yimeng_sqlite_rows::Val;
            let sql = "INSERT INTO person_key (kind, value, county_id, owner, owner_id) VALUES (?, ?, ?, ?, ?)";
            return tx
                .with_sqlite_rows(sql, |stmt| {
                    let mut value = String::with_capacity(24);
                    for k in &keys {
                        value.clear();
                        let kind = key_text(k.key, &mut value);
                        stmt.execute(&[
                            Val::Text(kind),
                            Val::Text(&value),
                            Val::Int(k.county.into()),
                            Val::Text(if k.staff { "staff" } else { "student" }),
                            Val::Int(k.owner_id),
                        ])?;
                    }
                    Ok(())
                })
                .await;
        }
        for chunk in keys.chunks(20_000) {
            let rows: Vec<PersonKeyRow> = chunk
                .iter()
                .map(|k| {
                    let mut value = String::with_capacity(20);
                    let kind = key_text(k.key, &mut value);
                    PersonKeyRow {
                        kind: kind.into(),
                        value,
                        county_id: k.county,
                        owner: if k.staff { "staff" } else { "student" }.into(),
                        owner_id: k.owner_id,
                    }
                })
                .collect();
            bulk::insert(tx, rows).await?;
        }
        Ok(())
    }

    /// Milliseconds since the write transaction began (0 without one).
    fn tx_ms(&self) -> u64 {
        self.tx_since.map_or(0, |t| {
            u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
        })
    }

    async fn finish(mut self) -> Result<Report> {
        if self.tx.is_none() {
            return Ok(self.report);
        }
        if self.opts.mode == Mode::AllOrNothing && self.report.rejected > 0 {
            if let Some(tx) = self.take_tx().await? {
                tx.rollback().await?;
            }
            tracing::info!(
                entity = self.report.entity,
                rejected = self.report.rejected,
                write_tx_ms = self.tx_ms(),
                "import rolled back"
            );
            self.report.inserted = 0;
            self.report.updated = 0;
            return Ok(self.report);
        }
        let t = std::time::Instant::now();
        self.write_keys().await?;
        tracing::debug!(
            elapsed_ms = t.elapsed().as_millis() as u64,
            "import: national keys written"
        );
        let mut tx = self.take_tx().await?.expect("writing");
        if !self.suspended.is_empty() {
            let t = std::time::Instant::now();
            for s in std::mem::take(&mut self.suspended) {
                bulk::restore(&mut tx, s).await?;
            }
            tracing::debug!(
                elapsed_ms = t.elapsed().as_millis() as u64,
                "import: indexes rebuilt"
            );
        }
        if self.report.inserted + self.report.updated > 0 {
            // Readers' cached figures of these counties are stale from this commit on.
            let mut q = Sql::new("UPDATE data_version SET version = version + 1");
            if self.scope_county != audit::CITY_COUNTY_ID {
                q.push(" WHERE county_id = ").bind(self.scope_county);
            }
            tx.exec(q).await?;
        }
        if self.opts.edit.is_some() {
            let entries = std::mem::take(&mut self.created);
            audit::write(&mut tx, &self.actor, entries).await?;
            tx.commit().await?;
            self.report.committed = true;
            return Ok(self.report);
        }
        let r = &self.report;
        let batch = self.batch_id.expect("batch id when writing");
        let mut q = Sql::new(
            "INSERT INTO import_batch (id, entity, file_name, file_sha256, actor, mode, rows_total, rows_inserted, \
             rows_updated, rows_unchanged, rows_rejected, started_at, finished_at) VALUES ",
        );
        let mode = match self.opts.mode {
            Mode::AllOrNothing => "all_or_nothing",
            Mode::Partial => "partial",
        };
        q.bind_list([
            Value::from(batch),
            r.entity.into(),
            (&self.opts.file_name).into(),
            (&self.opts.file_sha256).into(),
            (&self.actor.name).into(),
            mode.into(),
            (r.total as i64).into(),
            (r.inserted as i64).into(),
            (r.updated as i64).into(),
            (r.unchanged as i64).into(),
            (r.rejected as i64).into(),
            self.now.into(),
            Utc::now().into(),
        ]);
        tx.exec(q).await?;
        let summary = format!(
            "导入{}：共 {} 行，新增 {}，更新 {}，未变 {}，拒绝 {}（文件 {}）",
            entity_label(r.entity),
            r.total,
            r.inserted,
            r.updated,
            r.unchanged,
            r.rejected,
            yimeng_domain::text::preview(&self.opts.file_name, 80)
        );
        let entry = Entry {
            county_id: self.scope_county,
            action: "import",
            entity: "import_batch",
            entity_id: Some(batch),
            summary,
            before: None,
            after: None,
        };
        audit::write(&mut tx, &self.actor, vec![entry]).await?;
        let t = std::time::Instant::now();
        tx.commit().await?;
        tracing::info!(
            batch,
            actor = %self.actor.name,
            inserted = self.report.inserted,
            updated = self.report.updated,
            unchanged = self.report.unchanged,
            rejected = self.report.rejected,
            commit_ms = t.elapsed().as_millis() as u64,
            write_tx_ms = self.tx_ms(),
            "import committed"
        );
        self.report.committed = true;
        self.report.batch_id = Some(batch);
        // A large load changes the tables' shape: refresh the planner's statistics.
        if self.bulk || self.report.inserted >= 10_000 {
            let t = std::time::Instant::now();
            self.db.analyze().await?;
            tracing::debug!(
                elapsed_ms = t.elapsed().as_millis() as u64,
                "import: statistics refreshed"
            );
        }
        Ok(self.report)
    }
}

/// Writes the national number of a compact key to `out` and returns its `person_key` kind.
fn key_text(key: u64, out: &mut String) -> &'static str {
    if yimeng_domain::StudentNo::is_student_no_key(key) {
        yimeng_domain::StudentNo::write_key(key, out);
        "student_no"
    } else {
        yimeng_domain::IdCardNo::write_key(key, out);
        "id_card"
    }
}

/// Chinese name of an importable table.
pub fn entity_label(entity: &str) -> &'static str {
    match entity {
        "school" => "学校",
        "class" => "班级",
        "student" => "学生",
        "staff" => "教职工",
        _ => "数据",
    }
}

const SCHOOL_UNKNOWN: &str = "学校标识码不存在或不在您的管辖范围内（请先导入学校）";

/// Every national number in use (ID numbers and 学籍号), keyed compactly.
async fn load_person_keys(core: &mut Core) -> Result<IntMap<u64, KeyOwner>> {
    const SELECT: &str = "/* multi-county: person_keys */ SELECT value, county_id, owner = 'staff', owner_id FROM person_key";
    let mut m = IntMap::default();
    if let Some(t) = core.target() {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE value IN ").bind_list(t.numbers.clone());
        let rows: Vec<(String, i32, bool, i64)> = core.all(q).await?;
        add_person_keys(&mut m, rows);
        return Ok(m);
    }
    // At city scale the table holds 3.5 million numbers: read them a page at a time in key
    // order (their text would take several times the map's memory all at once), into a map
    // sized once.
    let n = core
        .all::<(i64,)>(Sql::new(
            "/* multi-county: person_keys */ SELECT COUNT(*) FROM person_key",
        ))
        .await?
        .first()
        .map_or(0, |r| r.0);
    m.reserve(usize::try_from(n).unwrap_or(0));
    let mut after = String::new();
    loop {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE value > ").bind(after.clone());
        q.push(" ORDER BY value LIMIT 200000");
        let rows: Vec<(String, i32, bool, i64)> = core.all(q).await?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let full = rows.len() == 200_000;
        add_person_keys(&mut m, rows);
        if !full {
            break;
        }
    }
    Ok(m)
}

fn add_person_keys(m: &mut IntMap<u64, KeyOwner>, rows: Vec<(String, i32, bool, i64)>) {
    for (value, county, staff, id) in rows {
        // The two kinds never collide: 学籍号 start with a letter, ID numbers with a digit.
        let key = if value.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            yimeng_domain::IdCardNo::from_stored(value).key()
        } else {
            yimeng_domain::StudentNo::from_stored(value).key()
        };
        m.insert(key, KeyOwner { county, id, staff });
    }
}

/// (id → content hash) of a county table's rows in scope; for a form save, only the rows named
/// (`ids`, plus the owners of the numbers it uses).
async fn load_hashes(
    core: &mut Core,
    scope: &Scope,
    table: &str,
    school_col: &str,
    owners: &[i64],
) -> Result<IntMap<i64, i64>> {
    let mut q = Sql::new(&format!(
        "SELECT t.id, t.content_hash FROM {table} t WHERE "
    ));
    push_scope(&mut q, scope, "t", school_col);
    if let Some(t) = core.target() {
        let ids: Vec<i64> = t.ids.iter().chain(owners).copied().collect();
        q.push(" AND t.id IN ").bind_list(ids);
    }
    Ok(core.all::<(i64, i64)>(q).await?.into_iter().collect())
}

/// The stored statuses of the students in scope (for a form save, of those named) that only an
/// approved request gives or ends: 休学, 复学, 辍学.
async fn load_guarded(
    core: &mut Core,
    scope: &Scope,
    owners: &[i64],
) -> Result<IntMap<i64, StudentStatus>> {
    let guarded = [
        StudentStatus::Suspended,
        StudentStatus::Resumed,
        StudentStatus::DroppedOut,
    ];
    let mut q = Sql::new("SELECT t.id, t.status FROM student t WHERE ");
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" AND t.status IN ")
        .bind_list(guarded.iter().map(|s| s.code()).collect::<Vec<_>>());
    if let Some(t) = core.target() {
        let ids: Vec<i64> = t.ids.iter().chain(owners).copied().collect();
        q.push(" AND t.id IN ").bind_list(ids);
    }
    Ok(core
        .all::<(i64, String)>(q)
        .await?
        .into_iter()
        .filter_map(|(id, s)| StudentStatus::from_code(&s).map(|s| (id, s)))
        .collect())
}

/// The schools in scope by code (for a form save, only those named).
async fn load_schools(
    core: &mut Core,
    scope: &Scope,
) -> Result<HashMap<String, crate::school::SchoolBrief>> {
    let mut q = Sql::new(
        "SELECT s.county_id, s.id, s.code, s.name, s.school_type, s.stages FROM school s WHERE ",
    );
    push_scope(&mut q, scope, "s", "id");
    if let Some(t) = core.target() {
        q.push(" AND s.code IN ").bind_list(t.school_codes.clone());
    }
    Ok(core
        .all::<crate::school::SchoolBrief>(q)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect())
}

/// Owner ids of the loaded keys of one kind (staff or students).
fn owners(keys: &IntMap<u64, KeyOwner>, staff: bool) -> Vec<i64> {
    keys.values()
        .filter(|o| o.staff == staff)
        .map(|o| o.id)
        .collect()
}

/// Existing rows by id (grouped by county), to diff changed records.
async fn fetch_rows<R: TableRow + crate::db::Rowable>(
    tx: &mut Tx,
    rows: &[R],
    key: impl Fn(&R) -> (i32, i64),
) -> Result<HashMap<i64, R>> {
    let mut by_county: HashMap<i32, Vec<i64>> = HashMap::new();
    for r in rows {
        let (c, id) = key(r);
        by_county.entry(c).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (c, ids) in by_county {
        for chunk in ids.chunks(5000) {
            let mut q = Sql::new(&format!(
                "SELECT t.* FROM {} t WHERE t.county_id = ",
                R::TABLE
            ));
            q.bind(c)
                .push(" AND t.id IN ")
                .bind_list(chunk.iter().copied());
            for r in tx.all::<R>(q).await? {
                out.insert(key(&r).1, r);
            }
        }
    }
    Ok(out)
}

/// Writes changed rows with one audit entry each; returns the rows as they were.
async fn write_changed<R: TableRow + crate::db::Rowable + Clone>(
    core: &mut Core,
    rows: Vec<R>,
    entity: &'static str,
    key: impl Fn(&R) -> (i32, i64) + Copy,
) -> Result<HashMap<i64, R>> {
    let actor = core.actor.clone();
    let edit = core.opts.edit.is_some();
    let tx = core.tx().await?;
    let old = fetch_rows(tx, &rows, key).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let (c, id) = key(r);
        if let Some(o) = old.get(&id)
            && let Some((before, after)) = audit::diff(o, r)
        {
            entries.push(Entry {
                county_id: c,
                action: "update",
                entity,
                entity_id: Some(id),
                summary: if edit {
                    format!("修改{}信息", entity_label(entity))
                } else {
                    format!("批量导入更新{}", entity_label(entity))
                },
                before: Some(before),
                after: Some(after),
            });
        }
    }
    bulk::upsert(tx, rows).await?;
    audit::write(tx, &actor, entries).await?;
    Ok(old)
}

/// Removes national keys of one kind that records no longer hold.
async fn drop_keys(tx: &mut Tx, kind: &str, values: &[String]) -> Result<()> {
    for chunk in values.chunks(5000) {
        let mut q = Sql::new("DELETE FROM person_key WHERE kind = ");
        q.bind(kind)
            .push(" AND value IN ")
            .bind_list(chunk.iter().map(String::as_str));
        tx.exec(q).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Schools

/// Imports schools.
pub struct SchoolImport {
    core: Core,
    scope: Scope,
    keys: HashMap<String, (i32, i64)>,
    hashes: IntMap<i64, i64>,
    used_stages: IntMap<i64, StageSet>,
    seen: HashMap<String, u64>,
    new_rows: Vec<SchoolRow>,
    changed: Vec<SchoolRow>,
}

impl SchoolImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Starts the transaction and loads what checking needs.
    pub async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
    ) -> Result<SchoolImport> {
        let mut core = Core::start(db, scope, actor, opts, "school", "school", None).await?;
        let mut q = Sql::new(
            "/* multi-county: school_keys */ SELECT code, county_id, school_id FROM school_key",
        );
        if let Some(t) = core.target() {
            q.push(" WHERE code IN ").bind_list(t.school_codes.clone());
        }
        let keys: HashMap<String, (i32, i64)> = core
            .all::<SchoolKeyRow>(q)
            .await?
            .into_iter()
            .map(|k| (k.code, (k.county_id, k.school_id)))
            .collect();
        let known: Vec<i64> = keys.values().map(|(_, id)| *id).collect();
        let hashes = load_hashes(&mut core, scope, "school", "id", &known).await?;
        let mut q = Sql::new("SELECT DISTINCT c.school_id, c.grade FROM class c WHERE ");
        push_scope(&mut q, scope, "c", "school_id");
        if core.target().is_some() {
            q.push(" AND c.school_id IN ").bind_list(known);
        }
        let mut used_stages: IntMap<i64, StageSet> = IntMap::default();
        for (school, grade) in core.all::<(i64, String)>(q).await? {
            if let Some(g) = Grade::from_code(&grade) {
                let e = used_stages.entry(school).or_default();
                *e = StageSet::of(&e.iter().chain([g.stage()]).collect::<Vec<_>>());
            }
        }
        Ok(SchoolImport {
            core,
            scope: scope.clone(),
            keys,
            hashes,
            used_stages,
            seen: HashMap::new(),
            new_rows: vec![],
            changed: vec![],
        })
    }

    /// Takes one parsed row.
    pub async fn push(
        &mut self,
        row: u64,
        rec: std::result::Result<SchoolRecord, Vec<FieldError>>,
    ) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let mut errs = rec.check();
        let code = rec.code.as_str().to_string();
        if let Some(first) = self.seen.get(&code) {
            errs.push(FieldError::new(
                "code",
                &code,
                format!("与第 {first} 行的学校标识码重复"),
            ));
        } else {
            self.seen.insert(code.clone(), row);
        }
        let county = rec.county.get();
        let existing = self.keys.get(&code).copied();
        match existing {
            Some((c, _)) if c != county => errs.push(FieldError::new(
                "county",
                &rec.county.name(),
                format!(
                    "该学校标识码已在{}登记；学校的所属县区不能直接修改",
                    yimeng_domain::RegionCode::from_i32(c).name()
                ),
            )),
            Some((c, id))
                if !self
                    .scope
                    .covers_school(yimeng_domain::RegionCode::from_i32(c), id) =>
            {
                errs.push(FieldError::new("code", &code, "该学校不在您的管辖范围内"))
            }
            None if !self.scope.covers_whole_county(rec.county) => errs.push(FieldError::new(
                "county",
                &rec.county.name(),
                "只能登记本县区的学校",
            )),
            _ => {}
        }
        if let Some((_, id)) = existing
            && let Some(used) = self.used_stages.get(&id)
            && !used.is_subset(rec.stages)
        {
            errs.push(FieldError::new(
                "stages",
                &rec.stages.labels(),
                format!(
                    "该校已有{}班级，学段不能去掉",
                    used.iter()
                        .filter(|s| !rec.stages.contains(*s))
                        .map(|s| s.label())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            ));
        }
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        match existing {
            Some((_, id)) => {
                self.core.accepted(id);
                let new = SchoolRow::from_record(&rec, id, self.core.batch_id, self.core.now);
                if self.hashes.get(&id) == Some(&new.content_hash) {
                    self.core.report.unchanged += 1;
                } else {
                    self.core.report.updated += 1;
                    self.changed.push(new);
                }
            }
            None => {
                let id = self.core.new_id().await?;
                self.core.accepted(id);
                self.core.report.inserted += 1;
                let row = SchoolRow::from_record(&rec, id, self.core.batch_id, self.core.now);
                self.core.note_created("school", row.county_id, id, &row);
                self.new_rows.push(row);
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::replace(&mut self.new_rows, Vec::with_capacity(FLUSH_ROWS));
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        let tx = self.core.tx().await?;
        let keys: Vec<SchoolKeyRow> = new_rows
            .iter()
            .map(|r| SchoolKeyRow {
                code: r.code.clone(),
                county_id: r.county_id,
                school_id: r.id,
            })
            .collect();
        bulk::insert(tx, new_rows).await?;
        bulk::insert(tx, keys).await?;
        if !changed.is_empty() {
            write_changed(&mut self.core, changed, "school", |r: &SchoolRow| {
                (r.county_id, r.id)
            })
            .await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back. The lookup maps are dropped first: the
    /// key and index sorts that follow need the memory.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        let Self { core, .. } = self;
        core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Classes

type ClassKey = (i64, i32, Grade, i32);

/// Imports classes.
pub struct ClassImport {
    core: Core,
    schools: HashMap<String, crate::school::SchoolBrief>,
    existing: HashMap<ClassKey, (i64, i64)>,
    staff: HashMap<String, (i32, i64, i64)>,
    seen: HashMap<ClassKey, u64>,
    new_rows: Vec<ClassRow>,
    changed: Vec<ClassRow>,
}

impl ClassImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Starts the transaction and loads what checking needs.
    pub async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
    ) -> Result<ClassImport> {
        let mut core = Core::start(db, scope, actor, opts, "class", "class", None).await?;
        let schools = load_schools(&mut core, scope).await?;
        let mut q = Sql::new(
            "SELECT c.id, c.school_id, c.school_year, c.grade, c.class_no, c.content_hash FROM class c WHERE ",
        );
        push_scope(&mut q, scope, "c", "school_id");
        if core.target().is_some() {
            q.push(" AND c.school_id IN ")
                .bind_list(schools.values().map(|s| s.id).collect::<Vec<_>>());
        }
        let mut existing = HashMap::new();
        for (id, school, year, grade, no, hash) in
            core.all::<(i64, i64, i32, String, i32, i64)>(q).await?
        {
            if let Some(g) = Grade::from_code(&grade) {
                existing.insert((school, year, g, no), (id, hash));
            }
        }
        let mut q =
            Sql::new("SELECT t.id_card, t.county_id, t.id, t.school_id FROM staff t WHERE ");
        push_scope(&mut q, scope, "t", "school_id");
        if let Some(t) = core.target() {
            q.push(" AND t.id_card IN ").bind_list(t.numbers.clone());
        }
        let staff = core
            .all::<(String, i32, i64, i64)>(q)
            .await?
            .into_iter()
            .map(|(card, c, id, school)| (card, (c, id, school)))
            .collect();
        Ok(ClassImport {
            core,
            schools,
            existing,
            staff,
            seen: HashMap::new(),
            new_rows: vec![],
            changed: vec![],
        })
    }

    /// Takes one parsed row.
    pub async fn push(
        &mut self,
        row: u64,
        rec: std::result::Result<ClassRecord, Vec<FieldError>>,
    ) -> Result<()> {
        self.push_as(row, rec, None).await
    }

    /// Takes one record that must update the class `expected` (a form save; the class may be
    /// renumbered), or any row when `None`.
    pub async fn push_as(
        &mut self,
        row: u64,
        rec: std::result::Result<ClassRecord, Vec<FieldError>>,
        expected: Option<i64>,
    ) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(
                row,
                vec![FieldError::new(
                    "school_code",
                    rec.school_code.as_str(),
                    SCHOOL_UNKNOWN,
                )],
            );
            return Ok(());
        };
        let mut errs = Vec::new();
        if let Err(e) = check_grade_in_school(rec.grade, school.stage_set(), school.kind().label())
        {
            errs.push(e);
        }
        let key = (school.id, rec.year.start(), rec.grade, rec.class_no);
        if let Some(first) = self.seen.get(&key) {
            errs.push(FieldError::new(
                "class_no",
                &rec.class_no.to_string(),
                format!("与第 {first} 行是同一个班级（学年、年级、班号相同）"),
            ));
        } else {
            self.seen.insert(key, row);
        }
        let head = match &rec.head_teacher {
            None => None,
            Some(card) => match self.staff.get(card.as_str()) {
                Some((c, id, s)) if *c == school.county_id && *s == school.id => Some(*id),
                _ => {
                    errs.push(FieldError::new(
                        "head_teacher",
                        card.as_str(),
                        "班主任不是本校教职工（请先导入教职工）",
                    ));
                    None
                }
            },
        };
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let (county_id, school_id) = (school.county_id, school.id);
        let mut existing = self.existing.get(&key).copied();
        if let Some(eid) = expected {
            let current = self
                .existing
                .iter()
                .find(|(_, (id, _))| *id == eid)
                .map(|(k, v)| (*k, *v));
            match current {
                None => {
                    self.core.reject(
                        row,
                        vec![FieldError::new(
                            "class_no",
                            "",
                            "班级不存在或不在您的管辖范围内",
                        )],
                    );
                    return Ok(());
                }
                Some((k, _)) if k.0 != school_id => {
                    self.core.reject(
                        row,
                        vec![FieldError::new(
                            "school_code",
                            rec.school_code.as_str(),
                            "班级不能改到另一所学校",
                        )],
                    );
                    return Ok(());
                }
                Some(_) if existing.is_some_and(|(id, _)| id != eid) => {
                    self.core.reject(
                        row,
                        vec![FieldError::new(
                            "class_no",
                            &rec.class_no.to_string(),
                            "该校已有相同学年、年级、班号的班级",
                        )],
                    );
                    return Ok(());
                }
                Some((_, v)) => existing = Some(v),
            }
        }
        let id = match existing {
            Some((id, _)) => id,
            None => self.core.new_id().await?,
        };
        self.core.accepted(id);
        let mut r = ClassRow {
            county_id,
            id,
            school_id,
            school_year: rec.year.start(),
            grade: rec.grade.code().into(),
            class_no: rec.class_no,
            name: rec.name,
            head_teacher_id: head,
            content_hash: 0,
            created_batch: self.core.batch_id,
            created_at: self.core.now,
            updated_at: self.core.now,
        };
        r.content_hash = r.compute_hash();
        match existing {
            Some((_, h)) if h == r.content_hash => self.core.report.unchanged += 1,
            Some(_) => {
                self.core.report.updated += 1;
                self.changed.push(r);
            }
            None => {
                self.core.report.inserted += 1;
                self.core.note_created("class", county_id, id, &r);
                self.new_rows.push(r);
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::replace(&mut self.new_rows, Vec::with_capacity(FLUSH_ROWS));
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        self.core.insert_background(new_rows).await?;
        if !changed.is_empty() {
            write_changed(&mut self.core, changed, "class", |r: &ClassRow| {
                (r.county_id, r.id)
            })
            .await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back. The lookup maps are dropped first: the
    /// key and index sorts that follow need the memory.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        let Self { core, .. } = self;
        core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Staff

/// Imports staff.
pub struct StaffImport {
    core: Core,
    schools: HashMap<String, crate::school::SchoolBrief>,
    keys: IntMap<u64, KeyOwner>,
    hashes: IntMap<i64, i64>,
    seen: IntMap<u64, u64>,
    new_rows: Vec<StaffRow>,
    changed: Vec<StaffRow>,
}

impl StaffImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Starts the transaction and loads what checking needs.
    pub async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
    ) -> Result<StaffImport> {
        let mut core = Core::start(db, scope, actor, opts, "staff", "staff", Some("staff")).await?;
        let schools = load_schools(&mut core, scope).await?;
        let keys = load_person_keys(&mut core).await?;
        let own = if core.target().is_some() {
            owners(&keys, true)
        } else {
            Vec::new()
        };
        let hashes = load_hashes(&mut core, scope, "staff", "school_id", &own).await?;
        Ok(StaffImport {
            core,
            schools,
            keys,
            hashes,
            seen: IntMap::default(),
            new_rows: vec![],
            changed: vec![],
        })
    }

    /// Takes one parsed row.
    pub async fn push(
        &mut self,
        row: u64,
        rec: std::result::Result<StaffRecord, Vec<FieldError>>,
    ) -> Result<()> {
        self.push_as(row, rec, None).await
    }

    /// Takes one record that must update the staff member `expected` (a form save; the ID number
    /// may be corrected), or any row when `None`.
    pub async fn push_as(
        &mut self,
        row: u64,
        rec: std::result::Result<StaffRecord, Vec<FieldError>>,
        expected: Option<i64>,
    ) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(
                row,
                vec![FieldError::new(
                    "school_code",
                    rec.school_code.as_str(),
                    SCHOOL_UNKNOWN,
                )],
            );
            return Ok(());
        };
        let (county_id, school_id) = (school.county_id, school.id);
        let mut errs = Vec::new();
        let key = rec.id_card.key();
        if let Some(first) = self.seen.get(&key) {
            errs.push(FieldError::new(
                "id_card",
                rec.id_card.as_str(),
                format!("与第 {first} 行的身份证件号重复"),
            ));
        } else {
            self.seen.insert(key, row);
        }
        let mut existing = None;
        if let Some(eid) = expected {
            if !self.hashes.contains_key(&eid) {
                self.core.reject(
                    row,
                    vec![FieldError::new(
                        "id_card",
                        "",
                        "教职工不存在或不在您的管辖范围内",
                    )],
                );
                return Ok(());
            }
            existing = Some(eid);
        }
        match self.keys.get(&key) {
            None => {}
            Some(o) if expected.is_some_and(|eid| o.staff && o.id == eid) => {}
            Some(o) if expected.is_some() && o.staff => errs.push(FieldError::new(
                "id_card",
                rec.id_card.as_str(),
                "该身份证件号已被另一名教职工使用（一人一号）",
            )),
            Some(o) if !o.staff => errs.push(FieldError::new(
                "id_card",
                rec.id_card.as_str(),
                "该身份证件号已登记为学生，一人只能有一个身份",
            )),
            Some(o) if o.county != county_id => errs.push(FieldError::new(
                "id_card",
                rec.id_card.as_str(),
                "该教职工已在其他县区登记（跨县区调动请办理调动手续）",
            )),
            Some(o) if !self.hashes.contains_key(&o.id) => errs.push(FieldError::new(
                "id_card",
                rec.id_card.as_str(),
                "该教职工已在您管辖范围以外的学校登记",
            )),
            Some(o) => existing = Some(o.id),
        }
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let id = match existing {
            Some(id) => id,
            None => self.core.new_id().await?,
        };
        self.core.accepted(id);
        let r = StaffRow::from_record(
            rec,
            county_id,
            id,
            school_id,
            self.core.batch_id,
            self.core.now,
        );
        match existing {
            Some(id) if self.hashes.get(&id) == Some(&r.content_hash) => {
                self.core.report.unchanged += 1
            }
            Some(_) => {
                self.core.report.updated += 1;
                self.changed.push(r);
            }
            None => {
                self.core.report.inserted += 1;
                self.core.add_key(key, id, county_id, true);
                self.core.note_created("staff", county_id, id, &r);
                if self.core.writing() {
                    self.new_rows.push(r);
                }
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::replace(&mut self.new_rows, Vec::with_capacity(FLUSH_ROWS));
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        self.core.insert_background(new_rows).await?;
        if changed.is_empty() {
            return Ok(());
        }
        let old = write_changed(&mut self.core, changed.clone(), "staff", |r: &StaffRow| {
            (r.county_id, r.id)
        })
        .await?;
        // A corrected ID number moves the staff member's national key.
        let mut drop = Vec::new();
        for r in &changed {
            if let Some(o) = old.get(&r.id)
                && o.id_card != r.id_card
            {
                drop.push(o.id_card.clone());
                let key = yimeng_domain::IdCardNo::from_stored(r.id_card.clone()).key();
                self.core.add_key(key, r.id, r.county_id, true);
            }
        }
        drop_keys(self.core.tx().await?, "id_card", &drop).await
    }

    /// Writes what is left and commits, or rolls back. The lookup maps are dropped first: the
    /// key and index sorts that follow need the memory.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        let Self { core, .. } = self;
        core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Students

/// The class-size gate of a student import (domain-rules §5, [`yimeng_domain::grade::gate_placement`]):
/// every row that places a student into a class (new, moved from another class, or back into a
/// counted status) is checked against the class's size counted from the store plus the rows of
/// the file accepted before it, in file order; a refused row names the class and the limit.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// Whether to check at all. Off only for loading an existing registry as it is (the demo
    /// city's 大班额 are the state the plan measures, not new placements).
    pub enabled: bool,
    /// The limits.
    pub rules: yimeng_domain::Rules,
    /// A county bureau's written reason to place beyond the limits (form saves of a county
    /// account only; a file import never overrides).
    pub override_reason: Option<String>,
    /// Loading an existing registry as it stands (`yimeng import --as-is`, the demo city): the
    /// statuses are taken as they are, 休学 and 辍学 included, instead of being refused where
    /// only an approved 学籍异动 request may give them
    /// ([`yimeng_domain::status_change::check_direct_write`]).
    pub as_is: bool,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            enabled: true,
            rules: yimeng_domain::Rules::default(),
            override_reason: None,
            as_is: false,
        }
    }
}

impl GateOptions {
    /// The gate with the configured limits.
    pub fn with_rules(rules: &yimeng_domain::Rules) -> GateOptions {
        GateOptions {
            rules: rules.clone(),
            ..GateOptions::default()
        }
    }
    /// No gate.
    pub fn off() -> GateOptions {
        GateOptions {
            enabled: false,
            ..GateOptions::default()
        }
    }
    /// Loading an existing registry as it stands (first load, `--as-is`): no gate, and the
    /// statuses as they are.
    pub fn as_is() -> GateOptions {
        GateOptions {
            enabled: false,
            as_is: true,
            ..GateOptions::default()
        }
    }
}

/// A placement change: out of class `.0` and/or into class `.1`.
type Move = (Option<i64>, Option<i64>);

/// The gate's counts during an import.
struct GateState {
    opts: GateOptions,
    /// The county whose bureau is saving (overrides are only for its own classes).
    county_scope: Option<i32>,
    /// Counted students per class (store plus accepted rows).
    sizes: IntMap<i64, u32>,
    /// Class id → (school id, grade).
    classes: IntMap<i64, (i64, Grade)>,
    /// Student id → class id, for students counted in a class.
    placed: IntMap<i64, i64>,
    /// Overrides to record at the end.
    overrides: Vec<crate::gate::Override>,
}

/// Imports students.
pub struct StudentImport {
    core: Core,
    gate: Option<GateState>,
    /// The reason recorded with status changes of a form save (else the import's own).
    status_reason: Option<String>,
    schools: HashMap<String, crate::school::SchoolBrief>,
    classes: HashMap<ClassKey, i64>,
    keys: IntMap<u64, KeyOwner>,
    hashes: IntMap<i64, i64>,
    /// Stored statuses of the students in scope that are 休学, 复学 or 辍学 (the statuses only an
    /// approved request gives or ends; a few per thousand); `None` when loading as it stands.
    guarded: Option<IntMap<i64, StudentStatus>>,
    seen: IntMap<u64, u32>,
    new_rows: Vec<StudentRow>,
    changed: Vec<StudentRow>,
}

impl StudentImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Starts the transaction and loads what checking needs, with the class-size gate at its
    /// default limits.
    pub async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
    ) -> Result<StudentImport> {
        Self::start_gated(db, scope, actor, opts, GateOptions::default()).await
    }

    /// Starts the transaction and loads what checking needs, with the class-size gate `gate`.
    pub async fn start_gated(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
        gate: GateOptions,
    ) -> Result<StudentImport> {
        let as_is = gate.as_is;
        let mut core = Core::start(
            db,
            scope,
            actor,
            opts,
            "student",
            "student",
            Some("student"),
        )
        .await?;
        let schools = load_schools(&mut core, scope).await?;
        let mut q = Sql::new(
            "SELECT c.county_id, c.id, c.school_id, c.school_year, c.grade, c.class_no FROM class c WHERE ",
        );
        push_scope(&mut q, scope, "c", "school_id");
        if core.target().is_some() {
            q.push(" AND c.school_id IN ")
                .bind_list(schools.values().map(|s| s.id).collect::<Vec<_>>());
        }
        let mut classes = HashMap::new();
        let mut class_info = IntMap::default();
        for c in core.all::<crate::class::ClassBrief>(q).await? {
            if let Some(g) = Grade::from_code(&c.grade) {
                classes.insert((c.school_id, c.school_year, g, c.class_no), c.id);
                class_info.insert(c.id, (c.school_id, g));
            }
        }
        let gate = if gate.enabled {
            let mut q = Sql::new("SELECT s.id, s.class_id FROM student s WHERE ");
            push_scope(&mut q, scope, "s", "school_id");
            q.push(" AND s.class_id IS NOT NULL AND s.status IN ")
                .bind_list(crate::gate::counted_statuses(&gate.rules));
            if core.target().is_some() {
                q.push(" AND s.school_id IN ")
                    .bind_list(schools.values().map(|s| s.id).collect::<Vec<_>>());
            }
            let mut sizes: IntMap<i64, u32> = IntMap::default();
            let mut placed = IntMap::default();
            for (sid, cid) in core.all::<(i64, i64)>(q).await? {
                *sizes.entry(cid).or_default() += 1;
                placed.insert(sid, cid);
            }
            let counties = scope.counties();
            Some(GateState {
                county_scope: match scope {
                    Scope::County(c) => Some(c.get()),
                    _ => None,
                }
                .filter(|_| counties.len() == 1),
                opts: gate,
                sizes,
                classes: class_info,
                placed,
                overrides: Vec::new(),
            })
        } else {
            None
        };
        let keys = load_person_keys(&mut core).await?;
        let own = if core.target().is_some() {
            owners(&keys, false)
        } else {
            Vec::new()
        };
        let hashes = load_hashes(&mut core, scope, "student", "school_id", &own).await?;
        let guarded = if as_is {
            None
        } else {
            Some(load_guarded(&mut core, scope, &own).await?)
        };
        tracing::debug!(
            schools = schools.len(),
            classes = classes.len(),
            keys = keys.len(),
            "import: checks loaded"
        );
        Ok(StudentImport {
            core,
            gate,
            status_reason: None,
            schools,
            classes,
            keys,
            hashes,
            guarded,
            seen: IntMap::default(),
            new_rows: Vec::with_capacity(FLUSH_ROWS),
            changed: vec![],
        })
    }

    /// Sets the reason recorded with a status change made by this save.
    pub fn set_status_reason(&mut self, reason: String) {
        self.status_reason = Some(reason);
    }

    fn class_error(&self, school: &crate::school::SchoolBrief, c: &ClassRef) -> FieldError {
        if let Err(e) = check_grade_in_school(c.grade, school.stage_set(), school.kind().label()) {
            return FieldError {
                field: "grade",
                ..e
            };
        }
        FieldError::new(
            "class_no",
            &c.class_no.to_string(),
            format!(
                "该校 {} 学年没有{}（{}）班（请先导入班级）",
                c.year.label(),
                c.grade.label(),
                c.class_no
            ),
        )
    }

    /// Takes one parsed row.
    pub async fn push(
        &mut self,
        row: u64,
        rec: std::result::Result<StudentRecord, Vec<FieldError>>,
    ) -> Result<()> {
        self.push_as(row, rec, None).await
    }

    /// Takes one record that must update the student `expected` (a form save; the ID number and
    /// 学籍号 may be corrected), or any row when `None`.
    pub async fn push_as(
        &mut self,
        row: u64,
        rec: std::result::Result<StudentRecord, Vec<FieldError>>,
        expected: Option<i64>,
    ) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(
                row,
                vec![FieldError::new(
                    "school_code",
                    rec.school_code.as_str(),
                    SCHOOL_UNKNOWN,
                )],
            );
            return Ok(());
        };
        let (county_id, school_id) = (school.county_id, school.id);
        let mut errs = Vec::new();
        let class_id = match &rec.class {
            None => None,
            Some(c) => match self
                .classes
                .get(&(school_id, c.year.start(), c.grade, c.class_no))
            {
                Some(id) => Some(*id),
                None => {
                    errs.push(self.class_error(school, c));
                    None
                }
            },
        };
        let compulsory = match &rec.class {
            Some(c) => c.grade.stage().is_compulsory(),
            None => school.stage_set().iter().all(|s| s.is_compulsory()),
        };
        if compulsory && rec.status.forbidden_in_compulsory() {
            errs.push(FieldError::new(
                "status",
                rec.status.label(),
                "义务教育阶段不得开除或退学（义务教育法第二十七条）",
            ));
        }
        let row32 = u32::try_from(row).unwrap_or(u32::MAX);
        let no_key = rec.student_no.key();
        let id_key = rec.id_card.as_ref().map(|c| c.key());
        let mut id_repeated = false;
        if let (Some(k), Some(card)) = (id_key, &rec.id_card) {
            if let Some(first) = self.seen.get(&k) {
                errs.push(FieldError::new(
                    "id_card",
                    card.as_str(),
                    format!("与第 {first} 行的身份证件号重复"),
                ));
                id_repeated = true;
            } else {
                self.seen.insert(k, row32);
            }
        }
        // A 学籍号 made from a repeated ID number repeats too; one error says it.
        let derived = rec
            .id_card
            .as_ref()
            .is_some_and(|c| rec.student_no.is_from_id_card(c));
        if let Some(first) = self.seen.get(&no_key) {
            if !(id_repeated && derived) {
                errs.push(FieldError::new(
                    "student_no",
                    rec.student_no.as_str(),
                    format!("与第 {first} 行的学籍号重复"),
                ));
            }
        } else {
            self.seen.insert(no_key, row32);
        }
        let mut existing = None;
        if let Some(eid) = expected {
            if !self.hashes.contains_key(&eid) {
                self.core.reject(
                    row,
                    vec![FieldError::new(
                        "student_no",
                        "",
                        "学生不存在或不在您的管辖范围内",
                    )],
                );
                return Ok(());
            }
            existing = Some(eid);
        }
        match self.keys.get(&no_key) {
            None => {}
            Some(o) if expected.is_some_and(|eid| !o.staff && o.id == eid) => {}
            Some(_) if expected.is_some() => errs.push(FieldError::new(
                "student_no",
                rec.student_no.as_str(),
                "该学籍号已被另一名学生使用（一人一号）",
            )),
            Some(o) if o.county != county_id => errs.push(FieldError::new(
                "student_no",
                rec.student_no.as_str(),
                "该学籍号已在其他县区登记（跨县区转学请办理转学手续）",
            )),
            Some(o) if !self.hashes.contains_key(&o.id) => errs.push(FieldError::new(
                "student_no",
                rec.student_no.as_str(),
                "该学籍号已在您管辖范围以外的学校登记（转学请办理转学手续）",
            )),
            // A new student from a form or the API never overwrites the record that already has
            // the number (its class and the fields the form does not carry would be lost).
            Some(_) if self.core.opts.edit.is_some() => errs.push(FieldError::new(
                "student_no",
                rec.student_no.as_str(),
                "该学籍号已有学籍，不能重复新增；修改该学生的信息请在其学籍页面编辑",
            )),
            Some(o) => existing = Some(o.id),
        }
        if let (Some(k), Some(card)) = (id_key, &rec.id_card) {
            match self.keys.get(&k) {
                None => {}
                Some(o) if o.staff => errs.push(FieldError::new(
                    "id_card",
                    card.as_str(),
                    "该身份证件号已登记为教职工，一人只能有一个身份",
                )),
                Some(o) if Some(o.id) != existing || o.county != county_id => {
                    errs.push(FieldError::new(
                        "id_card",
                        card.as_str(),
                        "该身份证件号已被另一名学生使用（一人一号）",
                    ))
                }
                Some(_) => {}
            }
        }
        if let Some(guarded) = &self.guarded {
            // The rule for a status written directly: what needs the county's approval comes only
            // through an approved request. Without a class the school's stages decide: a school
            // with a compulsory stage is held to the rule.
            let compulsory = match &rec.class {
                Some(c) => c.grade.stage().is_compulsory(),
                None => school.stage_set().iter().any(|s| s.is_compulsory()),
            };
            // A stored status outside 休学/复学/辍学 is not told apart by the rule: 其他 stands for it.
            let from = existing.map(|id| guarded.get(&id).copied().unwrap_or(StudentStatus::Other));
            if let Err(e) =
                yimeng_domain::status_change::check_direct_write(from, rec.status, compulsory)
            {
                errs.push(FieldError::new("status", rec.status.label(), e.to_string()));
            }
        }
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let moved = match self.check_gate(row, &rec, county_id, class_id, existing) {
            Ok(m) => m,
            Err(e) => {
                self.core.reject(row, vec![e]);
                return Ok(());
            }
        };
        let id = match existing {
            Some(id) => id,
            None => self.core.new_id().await?,
        };
        if let (Some(g), Some((from, to))) = (self.gate.as_mut(), moved) {
            if let Some(f) = from {
                if let Some(n) = g.sizes.get_mut(&f) {
                    *n = n.saturating_sub(1);
                }
                g.placed.remove(&id);
            }
            if let Some(t) = to {
                *g.sizes.entry(t).or_default() += 1;
                g.placed.insert(id, t);
            }
        }
        self.core.accepted(id);
        let r = StudentRow::from_record(
            rec,
            county_id,
            id,
            school_id,
            class_id,
            self.core.batch_id,
            self.core.now,
        );
        match existing {
            Some(id) if self.hashes.get(&id) == Some(&r.content_hash) => {
                self.core.report.unchanged += 1
            }
            Some(_) => {
                self.core.report.updated += 1;
                self.changed.push(r);
            }
            None => {
                self.core.report.inserted += 1;
                self.core.add_key(no_key, id, county_id, false);
                if let Some(k) = id_key {
                    self.core.add_key(k, id, county_id, false);
                }
                self.core.note_created("student", county_id, id, &r);
                if self.core.writing() {
                    self.new_rows.push(r);
                }
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::replace(&mut self.new_rows, Vec::with_capacity(FLUSH_ROWS));
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        self.core.insert_background(new_rows).await?;
        if changed.is_empty() {
            return Ok(());
        }
        let old = write_changed(
            &mut self.core,
            changed.clone(),
            "student",
            |r: &StudentRow| (r.county_id, r.id),
        )
        .await?;
        // Keep the national keys and the status history in step with the changed rows.
        let mut events = Vec::new();
        let mut drop_cards = Vec::new();
        let mut drop_numbers = Vec::new();
        for r in &changed {
            let Some(o) = old.get(&r.id) else { continue };
            if o.id_card != r.id_card {
                if let Some(c) = &o.id_card {
                    drop_cards.push(c.clone());
                }
                if let Some(c) = &r.id_card {
                    let key = yimeng_domain::IdCardNo::from_stored(c.clone()).key();
                    self.core.add_key(key, r.id, r.county_id, false);
                }
            }
            if o.student_no != r.student_no {
                drop_numbers.push(o.student_no.clone());
                let key = yimeng_domain::StudentNo::from_stored(r.student_no.clone()).key();
                self.core.add_key(key, r.id, r.county_id, false);
            }
            if o.status != r.status {
                let to = StudentStatus::from_code(&r.status).unwrap_or(StudentStatus::Other);
                events.push(StudentEventRow {
                    county_id: r.county_id,
                    id: 0,
                    student_id: r.id,
                    school_id: r.school_id,
                    change_type: to.change_type().code().into(),
                    from_status: Some(o.status.clone()),
                    to_status: r.status.clone(),
                    reason: self
                        .status_reason
                        .clone()
                        .unwrap_or_else(|| "批量导入更新学籍状态".into()),
                    occurred_on: self.core.now.date_naive(),
                    actor: self.core.actor.name.clone(),
                    source: if self.core.opts.edit.is_some() {
                        "form"
                    } else {
                        "import"
                    }
                    .into(),
                    batch_id: self.core.batch_id,
                    recorded_at: self.core.now,
                });
            }
        }
        let tx = self.core.tx().await?;
        drop_keys(tx, "id_card", &drop_cards).await?;
        drop_keys(tx, "student_no", &drop_numbers).await?;
        if !events.is_empty() {
            let first = tx.alloc_ids("student_event", events.len() as i64).await?;
            for (i, e) in events.iter_mut().enumerate() {
                e.id = first + i as i64;
            }
            bulk::insert(tx, events).await?;
        }
        Ok(())
    }

    /// The class-size gate for one accepted row: `Ok(Some((from, to)))` when the row moves the
    /// student out of class `from` and/or into class `to` (counted), `Ok(None)` when nothing
    /// changes; `Err` with the refusal naming the class.
    fn check_gate(
        &mut self,
        row: u64,
        rec: &StudentRecord,
        county_id: i32,
        class_id: Option<i64>,
        existing: Option<i64>,
    ) -> std::result::Result<Option<Move>, FieldError> {
        let Some(g) = self.gate.as_mut() else {
            return Ok(None);
        };
        let to = class_id.filter(|_| rec.status.counts_in_class(&g.opts.rules));
        let from = existing.and_then(|id| g.placed.get(&id).copied());
        if to == from {
            return Ok(None);
        }
        let Some(t) = to else {
            return Ok(Some((from, None)));
        };
        let Some(&(school_id, grade)) = g.classes.get(&t) else {
            return Ok(Some((from, to)));
        };
        let size = g.sizes.get(&t).copied().unwrap_or(0);
        let class_label = rec
            .class
            .as_ref()
            .map(|c| format!("{}（{}）班", c.grade.label(), c.class_no))
            .unwrap_or_default();
        let reason = g
            .opts
            .override_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let may_override = self.core.opts.edit.is_some() && g.county_scope == Some(county_id);
        let ov = match reason {
            Some(r) if may_override => Some(yimeng_domain::grade::CountyOverride {
                county: yimeng_domain::RegionCode::from_i32(county_id),
                reason: r.to_string(),
            }),
            _ => None,
        };
        let value = rec
            .class
            .as_ref()
            .map(|c| c.class_no.to_string())
            .unwrap_or_default();
        match yimeng_domain::grade::gate_placement(grade, size, 1, &g.opts.rules, ov.as_ref()) {
            yimeng_domain::grade::Gate::Allowed => {}
            yimeng_domain::grade::Gate::Warn { message } => {
                let w = if self.core.opts.edit.is_some() {
                    format!("{class_label}：{message}")
                } else {
                    format!("第 {row} 行 {class_label}：{message}")
                };
                if self.core.report.warnings.len() < 1000 {
                    self.core.report.warnings.push(w);
                }
            }
            yimeng_domain::grade::Gate::Refused { message } => {
                let hint = if self.core.opts.edit.is_none() {
                    "（导入不能突破班额限制；确需编入的，由县区教育局在学籍编辑页面填写书面理由）"
                } else if reason.is_some() {
                    "（只有该班所在县区教育局可以书面说明理由后突破班额限制）"
                } else if may_override {
                    "（如确需编入，请填写突破班额的书面理由）"
                } else {
                    ""
                };
                return Err(FieldError::new(
                    "class_no",
                    &value,
                    format!("{class_label}：{message}{hint}"),
                ));
            }
            yimeng_domain::grade::Gate::Overridden { message, reason } => {
                g.overrides.push(crate::gate::Override {
                    county: county_id,
                    school_id,
                    class_id: t,
                    grade: grade.code().to_string(),
                    size_after: size.saturating_add(1) as i32,
                    message,
                    reason,
                    context: if existing.is_some() {
                        "学籍编辑调班".into()
                    } else {
                        "新增学籍".into()
                    },
                });
            }
        }
        Ok(Some((from, to)))
    }

    /// Writes what is left and commits, or rolls back. The lookup maps are dropped first: the
    /// key and index sorts that follow need the memory.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        let overrides = self.gate.take().map(|g| g.overrides).unwrap_or_default();
        let Self { mut core, .. } = self;
        if !overrides.is_empty() && core.writing() {
            let actor = core.actor.clone();
            let tx = core.tx().await?;
            for o in &overrides {
                crate::gate::record_override(tx, &actor, o).await?;
            }
        }
        core.finish().await
    }
}
