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
    /// The file's size in bytes, when known. A file of at most [`LOOKUP_KEYS_MAX_BYTES`] has
    /// its national numbers looked up as its rows arrive ([`StudentImport::look_up_keys`])
    /// instead of loading every number of the city first (3.5 million at city scale).
    pub size_hint: Option<u64>,
}

/// Files up to this size look their numbers up (a few tens of thousands of rows); larger ones load
/// the whole key table, which is faster when a file names a large part of it.
pub const LOOKUP_KEYS_MAX_BYTES: u64 = 8 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::AllOrNothing,
            dry_run: false,
            file_name: String::new(),
            file_sha256: String::new(),
            edit: None,
            size_hint: None,
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
    /// The row of the file that brought it (0 for a form save), to name it if the number was
    /// taken between the check and the write.
    row: u32,
}

/// A map with integer keys: the maps here hold millions of them and SipHash would dominate, so
/// they use the workspace's hasher, foldhash (its fast variant, seeded per process).
pub type IntMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// A set of integers, hashed as [`IntMap`]'s keys.
pub type IntSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

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
///
/// No write transaction is open while a file is read and checked: the checks are loaded through
/// the readers, ids come from the allocator in statements of their own, and the transaction
/// (SQLite's single writer) is begun at the first write. A form or API save is the exception: it
/// names a few records and checks them inside its transaction, so that what is checked is what is
/// written against. A student file import goes further and writes only after the whole file is
/// checked, in short transactions (see [`StudentImport::finish`]).
struct Core {
    db: Db,
    tx: Option<TxSlot>,
    /// Not a dry run: something may be written.
    writes: bool,
    bulk: bool,
    /// The table whose secondary indexes a PostgreSQL bulk load suspends.
    bulk_table: Option<&'static str>,
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
    /// When the current write transaction began: on SQLite the single writer is held from then
    /// until commit or rollback, and every other write waits.
    tx_since: Option<std::time::Instant>,
    /// Write transactions so far: how many, their total and their longest time (logged).
    tx_count: u32,
    tx_total: std::time::Duration,
    tx_longest: std::time::Duration,
    /// How long the last write transaction held the writer.
    last_tx: std::time::Duration,
    /// The batch row is written already, as `pending` (a file import's write pass on SQLite).
    pending: bool,
}

impl Core {
    /// Loads nothing and begins no transaction (except for a form or API save). `bulk_table`
    /// names a table to load in bulk mode when it is small.
    async fn start(
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
        entity: &'static str,
        seq: &'static str,
        bulk_table: Option<&'static str>,
    ) -> Result<Core> {
        let writes = !opts.dry_run;
        let bulk = match bulk_table {
            Some(t) if writes && opts.edit.is_none() => {
                let q = Sql::new(&format!(
                    "/* multi-county: bulk_probe */ SELECT COUNT(*) FROM (SELECT 1 FROM {t} LIMIT {BULK_BELOW_ROWS}) x"
                ));
                db.scalar(q).await? < BULK_BELOW_ROWS
            }
            _ => false,
        };
        // The batch id is allocated in a statement of its own (gaps are harmless).
        let batch_id = if writes {
            Some(db.alloc_ids("import_batch", 1).await?)
        } else {
            None
        };
        let counties = scope.counties();
        let scope_county = if counties.len() == 1 {
            counties[0].get()
        } else {
            audit::CITY_COUNTY_ID
        };
        let edit = opts.edit.is_some();
        let mut core = Core {
            db: db.clone(),
            tx: None,
            writes,
            bulk,
            bulk_table,
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
            suspended: Vec::new(),
            created: Vec::new(),
            tx_since: None,
            tx_count: 0,
            tx_total: std::time::Duration::ZERO,
            tx_longest: std::time::Duration::ZERO,
            last_tx: std::time::Duration::ZERO,
            pending: false,
        };
        if edit && writes {
            core.begin().await?;
        }
        Ok(core)
    }

    /// Begins the write transaction. A PostgreSQL bulk load suspends the target table's secondary
    /// indexes and the key table's primary key in it (once: there is one transaction there).
    async fn begin(&mut self) -> Result<()> {
        let mut tx = if self.bulk {
            self.db.begin_bulk().await?
        } else {
            self.db.begin().await?
        };
        if let (true, Some(t), crate::Backend::Postgres) =
            (self.bulk, self.bulk_table, tx.backend())
            && self.suspended.is_empty()
        {
            self.suspended.push(bulk::suspend(&mut tx, t).await?);
            self.suspended
                .push(bulk::suspend_primary_key(&mut tx, "person_key").await?);
        }
        self.tx_since = Some(std::time::Instant::now());
        self.tx = Some(TxSlot::Ready(tx));
        Ok(())
    }

    /// Counts the time of the write transaction that just ended.
    fn tx_ended(&mut self) {
        if let Some(t) = self.tx_since.take() {
            let d = t.elapsed();
            self.tx_count += 1;
            self.tx_total += d;
            self.tx_longest = self.tx_longest.max(d);
            self.last_tx = d;
        }
    }

    /// Commits the current write transaction, if there is one.
    async fn commit(&mut self) -> Result<()> {
        if let Some(tx) = self.take_tx().await? {
            tx.commit().await?;
            self.tx_ended();
        }
        Ok(())
    }

    /// Rolls the current write transaction back, if there is one.
    async fn rollback(&mut self) -> Result<()> {
        if let Some(tx) = self.take_tx().await? {
            tx.rollback().await?;
            self.tx_ended();
        }
        Ok(())
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

    /// The transaction (begun now if none is open), once any background write has finished.
    async fn tx(&mut self) -> Result<&mut Tx> {
        if self.tx.is_none() {
            if !self.writes {
                return Err(crate::StoreError::Invalid("试运行不写入数据".into()));
            }
            self.begin().await?;
        }
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
        self.tx().await?;
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
        self.writes && !(self.opts.mode == Mode::AllOrNothing && self.report.rejected > 0)
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
            // Inside the open transaction if there is one (on SQLite it holds the writer), else
            // in a statement of its own.
            self.next_id = if self.tx.is_some() {
                self.tx().await?.alloc_ids(seq, block).await?
            } else {
                self.db.alloc_ids(seq, block).await?
            };
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

    /// A small file: its national numbers are looked up as its rows arrive.
    fn looks_up_keys(&self) -> bool {
        self.opts.edit.is_none()
            && self
                .opts
                .size_hint
                .is_some_and(|b| b <= LOOKUP_KEYS_MAX_BYTES)
    }

    /// Buffers a national key to write at the end.
    fn add_key(&mut self, key: u64, owner_id: i64, county: i32, staff: bool, row: u32) {
        if self.writing() {
            self.keys.push(NewKey {
                key,
                owner_id,
                county,
                staff,
                row,
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
        insert_keys(tx, &keys).await
    }

    /// The `import_batch` row of this import, in `state` (`pending` or `done`).
    fn batch_row(&self, state: &str) -> Sql {
        let r = &self.report;
        let batch = self.batch_id.expect("batch id when writing");
        let mut q = Sql::new(
            "INSERT INTO import_batch (id, entity, file_name, file_sha256, actor, mode, rows_total, rows_inserted, \
             rows_updated, rows_unchanged, rows_rejected, started_at, finished_at, state) VALUES ",
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
            state.into(),
        ]);
        q
    }

    /// Milliseconds the write transactions were open so far (the current one included), and
    /// the longest of them.
    fn tx_ms(&self) -> (u64, u64) {
        let current = self
            .tx_since
            .map_or(std::time::Duration::ZERO, |t| t.elapsed());
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        (
            ms(self.tx_total + current),
            ms(self.tx_longest.max(current)),
        )
    }

    async fn finish(mut self) -> Result<Report> {
        if !self.writes {
            return Ok(self.report);
        }
        if self.opts.mode == Mode::AllOrNothing && self.report.rejected > 0 {
            self.rollback().await?;
            let (write_tx_ms, longest_tx_ms) = self.tx_ms();
            tracing::info!(
                entity = self.report.entity,
                rejected = self.report.rejected,
                write_tx_ms,
                longest_tx_ms,
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
        self.tx().await?;
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
        let batch = self.batch_id.expect("batch id when writing");
        if self.pending {
            let mut q = Sql::new("DELETE FROM import_batch WHERE id = ");
            q.bind(batch);
            tx.exec(q).await?;
        }
        tx.exec(self.batch_row("done")).await?;
        let r = &self.report;
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
        self.tx_ended();
        let (write_tx_ms, longest_tx_ms) = self.tx_ms();
        tracing::info!(
            batch,
            actor = %self.actor.name,
            inserted = self.report.inserted,
            updated = self.report.updated,
            unchanged = self.report.unchanged,
            rejected = self.report.rejected,
            commit_ms = t.elapsed().as_millis() as u64,
            write_tx_ms,
            longest_tx_ms,
            write_tx_count = self.tx_count,
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

/// Inserts national keys (in the order given).
async fn insert_keys(tx: &mut Tx, keys: &[NewKey]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    if tx.backend() == crate::Backend::Sqlite {
        use yimeng_sqlite_rows::Val;
        let sql = "INSERT INTO person_key (kind, value, county_id, owner, owner_id) VALUES (?, ?, ?, ?, ?)";
        return tx
            .with_sqlite_rows(sql, |stmt| {
                let mut value = String::with_capacity(24);
                for k in keys {
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

/// The write-time re-check of national keys: those of `keys` that are already in `person_key`
/// (someone registered the number after the file was checked), as row errors.
async fn taken_keys(tx: &mut Tx, keys: &[NewKey]) -> Result<Vec<RowError>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(5000) {
        let mut by_value: HashMap<String, &NewKey> = HashMap::with_capacity(chunk.len());
        for k in chunk {
            let mut value = String::with_capacity(20);
            key_text(k.key, &mut value);
            by_value.insert(value, k);
        }
        let mut q = Sql::new(
            "/* multi-county: person_keys */ SELECT value FROM person_key WHERE value IN ",
        );
        q.bind_list(by_value.keys().cloned().collect::<Vec<_>>());
        for (value,) in tx.all::<(String,)>(q).await? {
            let Some(k) = by_value.get(&value) else {
                continue;
            };
            let (field, what) = if yimeng_domain::StudentNo::is_student_no_key(k.key) {
                ("student_no", "学籍号")
            } else {
                ("id_card", "身份证件号")
            };
            out.push(RowError {
                row: u64::from(k.row),
                field,
                value,
                reason: format!(
                    "该{what}在本次导入检查之后已被登记（导入期间有人新增或修改了记录）；导入已撤销，请重新导入"
                ),
            });
        }
    }
    out.sort_by_key(|e| e.row);
    Ok(out)
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
    if core.looks_up_keys() {
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

/// Adds to `m` the stored owners of the national numbers `keys` (compact keys) not in it yet, a
/// chunk of statements at a time.
async fn look_up_person_keys(
    core: &mut Core,
    m: &mut IntMap<u64, KeyOwner>,
    looked_up: &mut IntSet<u64>,
    keys: impl Iterator<Item = u64>,
) -> Result<()> {
    let mut values = Vec::new();
    for k in keys {
        if looked_up.insert(k) {
            let mut v = String::with_capacity(20);
            key_text(k, &mut v);
            values.push(v);
        }
    }
    for chunk in values.chunks(2000) {
        let mut q = Sql::new(
            "/* multi-county: person_keys */ SELECT value, county_id, owner = 'staff', owner_id FROM person_key WHERE value IN ",
        );
        q.bind_list(chunk.to_vec());
        let rows: Vec<(String, i32, bool, i64)> = core.all(q).await?;
        add_person_keys(m, rows);
    }
    Ok(())
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
    /// The numbers looked up so far (a small file's, [`Options::size_hint`]).
    looked_up: IntSet<u64>,
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

    /// Looks up the stored owners of the ID numbers of the records about to be pushed, when the
    /// import checks a small file ([`Options::size_hint`]); does nothing otherwise (every number
    /// is loaded at the start).
    pub async fn look_up_keys<'a>(
        &mut self,
        recs: impl Iterator<Item = &'a StaffRecord>,
    ) -> Result<()> {
        if !self.core.looks_up_keys() {
            return Ok(());
        }
        let keys: Vec<u64> = recs.map(|r| r.id_card.key()).collect();
        look_up_person_keys(
            &mut self.core,
            &mut self.keys,
            &mut self.looked_up,
            keys.into_iter(),
        )
        .await
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
            looked_up: IntSet::default(),
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
                self.core
                    .add_key(key, id, county_id, true, u32::try_from(row).unwrap_or(0));
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
                self.core.add_key(key, r.id, r.county_id, true, 0);
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

/// Where a checked row's student goes.
struct Place {
    county_id: i32,
    school_id: i64,
    class_id: Option<i64>,
    /// Held to the compulsory-stage status rule.
    compulsory: bool,
}

/// A row's national numbers as compact keys.
#[derive(Clone, Copy)]
struct RowKeys {
    no_key: u64,
    id_key: Option<u64>,
}

/// A student file import's accepted rows between the check and the write: new records, and
/// changed ones with their row and the content hash the check saw.
struct Stage {
    new_rows: Spool<StudentRow>,
    changed: Spool<(u32, i64, StudentRow)>,
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
    /// The numbers looked up so far (a small file's, [`Options::size_hint`]).
    looked_up: IntSet<u64>,
    hashes: IntMap<i64, i64>,
    /// Stored statuses of the students in scope that are 休学, 复学 or 辍学 (the statuses only an
    /// approved request gives or ends; a few per thousand); `None` when loading as it stands.
    guarded: Option<IntMap<i64, StudentStatus>>,
    seen: IntMap<u64, u32>,
    new_rows: Vec<StudentRow>,
    changed: Vec<StudentRow>,
    /// A file import that writes: accepted rows are spooled, and written once the whole file
    /// has been checked.
    stage: Option<Stage>,
}

impl StudentImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Looks up the stored owners of the ID numbers and 学籍号 of the records about to be
    /// pushed, when the import checks a small file ([`Options::size_hint`]); does nothing
    /// otherwise (every number is loaded at the start).
    pub async fn look_up_keys<'a>(
        &mut self,
        recs: impl Iterator<Item = &'a StudentRecord>,
    ) -> Result<()> {
        if !self.core.looks_up_keys() {
            return Ok(());
        }
        let keys: Vec<u64> = recs
            .flat_map(|r| {
                std::iter::once(r.student_no.key()).chain(r.id_card.as_ref().map(|c| c.key()))
            })
            .collect();
        look_up_person_keys(
            &mut self.core,
            &mut self.keys,
            &mut self.looked_up,
            keys.into_iter(),
        )
        .await
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
        if !opts.dry_run && opts.edit.is_none() {
            recover_interrupted(db).await?;
        }
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
            gate,
            status_reason: None,
            schools,
            classes,
            keys,
            looked_up: IntSet::default(),
            hashes,
            guarded,
            seen: IntMap::default(),
            new_rows: Vec::with_capacity(FLUSH_ROWS),
            changed: vec![],
            stage: if core_stages(&core) {
                Some(Stage {
                    new_rows: Spool::new()?,
                    changed: Spool::new()?,
                })
            } else {
                None
            },
            core,
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
    /// 学籍号 may be corrected), or any row when `None`. The row is checked in named steps: where
    /// the student goes, repeats within the file, which stored student it is, the status rule and
    /// the class-size gate; a row that passes them all is accepted.
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
        let mut errs = Vec::new();
        let place = match self.place(&rec, &mut errs) {
            Ok(p) => p,
            Err(e) => {
                self.core.reject(row, vec![e]);
                return Ok(());
            }
        };
        let keys = self.check_in_file(row, &rec, &mut errs);
        let existing = match self.match_existing(&rec, &place, keys, expected, &mut errs) {
            Ok(e) => e,
            Err(e) => {
                self.core.reject(row, vec![e]);
                return Ok(());
            }
        };
        self.check_status_rule(&rec, &place, existing, &mut errs);
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let moved = match self.check_gate(row, &rec, place.county_id, place.class_id, existing) {
            Ok(m) => m,
            Err(e) => {
                self.core.reject(row, vec![e]);
                return Ok(());
            }
        };
        self.accept(row, rec, &place, keys, existing, moved).await
    }

    /// Step 1: the school (in scope) and the class the row names, and whether the status is
    /// allowed at that stage. `Err` when the school is unknown (nothing else can be checked).
    fn place(
        &self,
        rec: &StudentRecord,
        errs: &mut Vec<FieldError>,
    ) -> std::result::Result<Place, FieldError> {
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            return Err(FieldError::new(
                "school_code",
                rec.school_code.as_str(),
                SCHOOL_UNKNOWN,
            ));
        };
        let class_id = match &rec.class {
            None => None,
            Some(c) => match self
                .classes
                .get(&(school.id, c.year.start(), c.grade, c.class_no))
            {
                Some(id) => Some(*id),
                None => {
                    errs.push(self.class_error(school, c));
                    None
                }
            },
        };
        let stages = school.stage_set();
        let only_compulsory = match &rec.class {
            Some(c) => c.grade.stage().is_compulsory(),
            None => stages.iter().all(|s| s.is_compulsory()),
        };
        if only_compulsory && rec.status.forbidden_in_compulsory() {
            errs.push(FieldError::new(
                "status",
                rec.status.label(),
                "义务教育阶段不得开除或退学（义务教育法第二十七条）",
            ));
        }
        Ok(Place {
            county_id: school.county_id,
            school_id: school.id,
            class_id,
            // Without a class the school's stages decide the status rule: a school with a
            // compulsory stage is held to it.
            compulsory: match &rec.class {
                Some(c) => c.grade.stage().is_compulsory(),
                None => stages.iter().any(|s| s.is_compulsory()),
            },
        })
    }

    /// Step 2: the row's national numbers (compact keys) and their repeats within the file.
    fn check_in_file(
        &mut self,
        row: u64,
        rec: &StudentRecord,
        errs: &mut Vec<FieldError>,
    ) -> RowKeys {
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
        RowKeys { no_key, id_key }
    }

    /// Step 3: the stored student the row updates (by 学籍号, or `expected` for a form save),
    /// and whether its numbers are free for it. `Err` when `expected` is not in scope.
    fn match_existing(
        &self,
        rec: &StudentRecord,
        place: &Place,
        keys: RowKeys,
        expected: Option<i64>,
        errs: &mut Vec<FieldError>,
    ) -> std::result::Result<Option<i64>, FieldError> {
        let mut existing = None;
        if let Some(eid) = expected {
            if !self.hashes.contains_key(&eid) {
                return Err(FieldError::new(
                    "student_no",
                    "",
                    "学生不存在或不在您的管辖范围内",
                ));
            }
            existing = Some(eid);
        }
        match self.keys.get(&keys.no_key) {
            None => {}
            Some(o) if expected.is_some_and(|eid| !o.staff && o.id == eid) => {}
            Some(_) if expected.is_some() => errs.push(FieldError::new(
                "student_no",
                rec.student_no.as_str(),
                "该学籍号已被另一名学生使用（一人一号）",
            )),
            Some(o) if o.county != place.county_id => errs.push(FieldError::new(
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
        if let (Some(k), Some(card)) = (keys.id_key, &rec.id_card) {
            match self.keys.get(&k) {
                None => {}
                Some(o) if o.staff => errs.push(FieldError::new(
                    "id_card",
                    card.as_str(),
                    "该身份证件号已登记为教职工，一人只能有一个身份",
                )),
                Some(o) if Some(o.id) != existing || o.county != place.county_id => {
                    errs.push(FieldError::new(
                        "id_card",
                        card.as_str(),
                        "该身份证件号已被另一名学生使用（一人一号）",
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(existing)
    }

    /// Step 4: the rule for a status written directly: what needs the county's approval comes
    /// only through an approved request (not checked when loading a registry as it stands).
    fn check_status_rule(
        &self,
        rec: &StudentRecord,
        place: &Place,
        existing: Option<i64>,
        errs: &mut Vec<FieldError>,
    ) {
        let Some(guarded) = &self.guarded else {
            return;
        };
        // A stored status outside 休学/复学/辍学 is not told apart by the rule: 其他 stands for it.
        let from = existing.map(|id| guarded.get(&id).copied().unwrap_or(StudentStatus::Other));
        if let Err(e) =
            yimeng_domain::status_change::check_direct_write(from, rec.status, place.compulsory)
        {
            errs.push(FieldError::new("status", rec.status.label(), e.to_string()));
        }
    }

    /// Step 5: an accepted row: its id, the gate's counts, the report, and the row buffered
    /// (or spooled, for a file import) as new, changed or unchanged.
    async fn accept(
        &mut self,
        row: u64,
        rec: StudentRecord,
        place: &Place,
        keys: RowKeys,
        existing: Option<i64>,
        moved: Option<Move>,
    ) -> Result<()> {
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
        let county_id = place.county_id;
        let r = StudentRow::from_record(
            rec,
            county_id,
            id,
            place.school_id,
            place.class_id,
            self.core.batch_id,
            self.core.now,
        );
        let row32 = u32::try_from(row).unwrap_or(u32::MAX);
        match existing {
            Some(id) if self.hashes.get(&id) == Some(&r.content_hash) => {
                self.core.report.unchanged += 1
            }
            Some(id) => {
                self.core.report.updated += 1;
                if let Some(stage) = self.stage.as_mut() {
                    if self.core.writing() {
                        let seen = self.hashes.get(&id).copied().unwrap_or(0);
                        stage.changed.push(&(row32, seen, r))?;
                    }
                } else {
                    self.changed.push(r);
                }
            }
            None => {
                self.core.report.inserted += 1;
                self.core.add_key(keys.no_key, id, county_id, false, row32);
                if let Some(k) = keys.id_key {
                    self.core.add_key(k, id, county_id, false, row32);
                }
                self.core.note_created("student", county_id, id, &r);
                if self.core.writing() {
                    match self.stage.as_mut() {
                        Some(stage) => stage.new_rows.push(&r)?,
                        None => self.new_rows.push(r),
                    }
                }
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the buffered rows (a form save; a file import spools them instead).
    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::replace(&mut self.new_rows, Vec::with_capacity(FLUSH_ROWS));
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        self.core.insert_background(new_rows).await?;
        write_changed_students(
            &mut self.core,
            changed,
            self.status_reason.as_deref(),
            |_| 0,
        )
        .await?;
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
    /// key and index sorts that follow need the memory. A file import writes here, after the
    /// whole file has been checked: see [`write_staged`].
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        let overrides = self.gate.take().map(|g| g.overrides).unwrap_or_default();
        let Self {
            mut core,
            stage,
            status_reason,
            ..
        } = self;
        if let Some(stage) = stage
            && core.writing()
        {
            return write_staged(core, stage, overrides, status_reason).await;
        }
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

// ---------------------------------------------------------------------------------------------
// The write pass of a student file import
//
// Reading and checking a city's file takes most of an import; on SQLite, a transaction open
// through it would hold the single writer, and every login, session refresh or status request of
// the running server would wait for it (or fail after the busy timeout). So a file import checks
// every row first, with no write transaction open (the checks are loaded through the readers),
// spooling the accepted rows to an unnamed temporary file; only then does it write, and on SQLite
// in short transactions with a pause between them in which other writers take their turn:
//
// 1. the batch is recorded as `pending` (`import_batch.state`);
// 2. the new records, `WRITE_CHUNK` a transaction (each also marks the batch as alive);
// 3. their national keys, in key order, `KEY_CHUNK` a transaction, each chunk re-checked first:
//    a number registered by someone else since the check fails the import, naming the row;
// 4. one last transaction: the changed records (each re-checked against the content hash the
//    check saw), their history and keys, the class-size overrides, and the batch made `done`.
//
// All-or-nothing holds for the user: if any step fails, what steps 2–3 committed is removed again
// (by the ids and keys the import wrote) and the batch row with it; if the process dies during
// the write pass, the next student file import removes what a batch left that is still `pending`
// and has not been marked alive for ten minutes ([`recover_interrupted`]). While the write pass
// runs, readers see the new records appear; they belong to a batch that is not yet done.
// Changed records are written in the last transaction only, so that undoing never has to restore
// an old version (its length is that of the changes, which re-imports keep small).
//
// On PostgreSQL a long transaction that inserts rows does not block the server's other writes
// (row locks, not a database lock), and the bulk path (indexes suspended and rebuilt) needs one
// transaction: steps 2–4 run in one transaction there, after the same check without one.

/// New records per write transaction of a file import on SQLite (tens of milliseconds each).
const WRITE_CHUNK: usize = 5000;
/// National keys per write transaction.
const KEY_CHUNK: usize = 20_000;
/// A `pending` batch not marked alive for this long belongs to an import that was stopped.
const PENDING_STALE_MINUTES: i64 = 10;

/// Whether an import writes through the check-then-write pass (a file import that writes).
fn core_stages(core: &Core) -> bool {
    core.writes && core.opts.edit.is_none()
}

/// Rows between the check and the write: JSON lines in an unnamed temporary file (readable by
/// this process only, gone when it is closed or the process ends), so that memory stays flat
/// whatever the size of the file.
struct Spool<R> {
    out: Option<std::io::BufWriter<std::fs::File>>,
    _rows: std::marker::PhantomData<R>,
}

/// Reads a [`Spool`] back, a chunk at a time.
struct SpoolReader<R> {
    input: std::io::BufReader<std::fs::File>,
    line: String,
    _rows: std::marker::PhantomData<R>,
}

fn spool_error(e: impl std::fmt::Display) -> crate::StoreError {
    crate::StoreError::Invalid(format!("导入暂存文件读写失败：{e}"))
}

impl<R: Serialize + serde::de::DeserializeOwned> Spool<R> {
    fn new() -> Result<Spool<R>> {
        let file = tempfile::tempfile().map_err(spool_error)?;
        Ok(Spool {
            out: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
            _rows: std::marker::PhantomData,
        })
    }

    fn push(&mut self, row: &R) -> Result<()> {
        use std::io::Write;
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| spool_error("already read"))?;
        serde_json::to_writer(&mut *out, row).map_err(spool_error)?;
        out.write_all(b"\n").map_err(spool_error)
    }

    /// Ends the writing and reads the rows back from the first.
    fn read(&mut self) -> Result<SpoolReader<R>> {
        use std::io::Seek;
        let out = self.out.take().ok_or_else(|| spool_error("already read"))?;
        let mut file = out.into_inner().map_err(spool_error)?;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(spool_error)?;
        Ok(SpoolReader {
            input: std::io::BufReader::with_capacity(1 << 20, file),
            line: String::new(),
            _rows: std::marker::PhantomData,
        })
    }
}

impl<R: serde::de::DeserializeOwned> SpoolReader<R> {
    /// The next `n` rows at most (none at the end).
    fn chunk(&mut self, n: usize) -> Result<Vec<R>> {
        use std::io::BufRead;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            self.line.clear();
            if self.input.read_line(&mut self.line).map_err(spool_error)? == 0 {
                break;
            }
            out.push(serde_json::from_str(&self.line).map_err(spool_error)?);
        }
        Ok(out)
    }
}

/// What the write pass has committed so far (SQLite), to remove if the import fails.
#[derive(Default)]
struct Done {
    /// New records written, (county, id).
    students: Vec<(i32, i64)>,
    /// How many of the sorted new keys are written.
    keys: usize,
}

/// After one short write transaction of a file import on SQLite: a pause a quarter as long as
/// the writer was held (2–50 ms) in which other writers take their turn. Requests of this server
/// are queued for the writer connection and get it first; another process polls with SQLite's
/// busy handler and needs the writer to be free for a moment.
async fn let_others_write(held: std::time::Duration) {
    let pause = (held / 4).clamp(
        std::time::Duration::from_millis(2),
        std::time::Duration::from_millis(50),
    );
    tokio::time::sleep(pause).await;
}

/// Marks the batch as alive (its `finished_at` moves on while it is `pending`).
async fn touch_batch(tx: &mut Tx, batch: i64) -> Result<()> {
    let mut q = Sql::new("UPDATE import_batch SET finished_at = ");
    q.bind(Utc::now()).push(" WHERE id = ").bind(batch);
    tx.exec(q).await?;
    Ok(())
}

/// The write pass of a checked student file (see the comment above [`WRITE_CHUNK`]).
async fn write_staged(
    mut core: Core,
    mut stage: Stage,
    overrides: Vec<crate::gate::Override>,
    reason: Option<String>,
) -> Result<Report> {
    let chunked = core.db.backend() == crate::Backend::Sqlite;
    let batch = core.batch_id.expect("batch id when writing");
    let db = core.db.clone();
    let t = std::time::Instant::now();
    let mut keys = std::mem::take(&mut core.keys);
    keys.sort_unstable_by_key(|k| k.key);
    let mut done = Done::default();
    if chunked {
        let q = core.batch_row("pending");
        let tx = core.tx().await?;
        tx.exec(q).await?;
        core.commit().await?;
        core.pending = true;
    }
    let outcome = write_stages(
        &mut core,
        &mut stage,
        &keys,
        &mut done,
        chunked,
        &overrides,
        reason.as_deref(),
    )
    .await;
    let refused = match outcome {
        Ok(None) => None,
        Ok(Some(errors)) => Some(errors),
        Err(e) => {
            let _ = core.rollback().await;
            if chunked {
                undo_staged(&db, &core.actor, batch, &done, &keys).await?;
            }
            return match taken_after_all(&db, &e, &keys).await? {
                Some(errors) => Ok(refused_report(core.report, errors)),
                None => Err(e),
            };
        }
    };
    if let Some(errors) = refused {
        core.rollback().await?;
        if chunked {
            undo_staged(&db, &core.actor, batch, &done, &keys).await?;
        }
        tracing::info!(
            batch,
            taken = errors.len(),
            "import undone: numbers or records changed between the check and the write"
        );
        return Ok(refused_report(core.report, errors));
    }
    tracing::debug!(
        elapsed_ms = t.elapsed().as_millis() as u64,
        "import: new records and keys written"
    );
    let report = core.report.clone();
    let actor = core.actor.clone();
    match core.finish().await {
        Ok(r) => Ok(r),
        Err(e) => {
            if chunked {
                undo_staged(&db, &actor, batch, &done, &keys).await?;
            }
            match taken_after_all(&db, &e, &keys).await? {
                Some(errors) => Ok(refused_report(report, errors)),
                None => Err(e),
            }
        }
    }
}

/// The report of an import refused at write time: nothing written, the rows named.
fn refused_report(mut report: Report, errors: Vec<RowError>) -> Report {
    report.rejected += errors.len() as u64;
    report.errors.extend(errors);
    report.inserted = 0;
    report.updated = 0;
    report.committed = false;
    report
}

/// After a write pass failed on a unique key (PostgreSQL's bulk path re-checks the national keys
/// only when it rebuilds their primary key, at the end): which rows' numbers were taken since
/// the check, looked up now that the key table's index is back. `None` for any other failure.
async fn taken_after_all(
    db: &Db,
    e: &crate::StoreError,
    keys: &[NewKey],
) -> Result<Option<Vec<RowError>>> {
    let unique = matches!(e, crate::StoreError::Db(sqlx::Error::Database(d))
        if d.code().as_deref() == Some("23505"));
    if !unique {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let taken = taken_keys(&mut tx, keys).await?;
    tx.rollback().await?;
    Ok(Some(taken).filter(|t| !t.is_empty()))
}

/// Steps 2–4 of the write pass; `Ok(Some(errors))` when the re-check at write time refuses.
async fn write_stages(
    core: &mut Core,
    stage: &mut Stage,
    keys: &[NewKey],
    done: &mut Done,
    chunked: bool,
    overrides: &[crate::gate::Override],
    reason: Option<&str>,
) -> Result<Option<Vec<RowError>>> {
    let batch = core.batch_id.expect("batch id when writing");
    // 2. New records.
    let mut new_rows = stage.new_rows.read()?;
    loop {
        let rows: Vec<StudentRow> = new_rows.chunk(WRITE_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        let ids: Vec<(i32, i64)> = rows.iter().map(|r| (r.county_id, r.id)).collect();
        let tx = core.tx().await?;
        if chunked {
            touch_batch(tx, batch).await?;
        }
        bulk::insert(tx, rows).await?;
        if chunked {
            core.commit().await?;
            done.students.extend(ids);
            let_others_write(core.last_tx).await;
        }
    }
    // 3. Their national keys, re-checked by the key table's primary key: a number registered by
    // someone else since the check makes the insert fail, and only then are the chunk's numbers
    // looked up, to name every row that lost its number. (Looking every number up before its
    // insert cost 3.4 million index searches at city scale.) The PostgreSQL bulk path has
    // suspended that key; rebuilding it at the end refuses a number taken twice.
    let recheck = chunked || !core.bulk;
    for chunk in keys.chunks(KEY_CHUNK) {
        let tx = core.tx().await?;
        if let Err(e) = insert_keys(tx, chunk).await {
            if !(recheck && e.is_unique_violation()) {
                return Err(e);
            }
            core.rollback().await?;
            let mut tx = core.db.begin().await?;
            let taken = taken_keys(&mut tx, chunk).await?;
            tx.rollback().await?;
            if taken.is_empty() {
                return Err(e);
            }
            return Ok(Some(taken));
        }
        if chunked {
            touch_batch(tx, batch).await?;
            core.commit().await?;
            done.keys += chunk.len();
            let_others_write(core.last_tx).await;
        }
    }
    // 4. Changed records, in the last transaction.
    let mut changed = stage.changed.read()?;
    let mut refused = Vec::new();
    loop {
        let rows: Vec<(u32, i64, StudentRow)> = changed.chunk(WRITE_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        let seen: IntMap<i64, (u32, i64)> = rows
            .iter()
            .map(|(row, hash, r)| (r.id, (*row, *hash)))
            .collect();
        let rows: Vec<StudentRow> = rows.into_iter().map(|(_, _, r)| r).collect();
        let old = write_changed_students(core, rows, reason, |id| seen.get(&id).map_or(0, |s| s.0))
            .await?;
        for (id, (row, hash)) in &seen {
            match old.get(id) {
                Some(o) if o.content_hash == *hash => {}
                o => refused.push(RowError {
                    row: u64::from(*row),
                    field: "student_no",
                    value: o.map(|o| o.student_no.clone()).unwrap_or_default(),
                    reason: "该学生的记录在本次导入检查之后已被修改或删除；导入已撤销，请重新导入"
                        .into(),
                }),
            }
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|e| e.row);
        return Ok(Some(refused));
    }
    if !core.keys.is_empty() && recheck {
        let moved = std::mem::take(&mut core.keys);
        let tx = core.tx().await?;
        let taken = taken_keys(tx, &moved).await?;
        if !taken.is_empty() {
            return Ok(Some(taken));
        }
        core.keys = moved;
    }
    if !overrides.is_empty() {
        let actor = core.actor.clone();
        let tx = core.tx().await?;
        for o in overrides {
            crate::gate::record_override(tx, &actor, o).await?;
        }
    }
    Ok(None)
}

/// Writes changed students with their audit entries, and keeps the national keys and the status
/// history in step; returns the rows as they were.
async fn write_changed_students(
    core: &mut Core,
    changed: Vec<StudentRow>,
    reason: Option<&str>,
    row_of: impl Fn(i64) -> u32,
) -> Result<HashMap<i64, StudentRow>> {
    if changed.is_empty() {
        return Ok(HashMap::new());
    }
    let old = write_changed(core, changed.clone(), "student", |r: &StudentRow| {
        (r.county_id, r.id)
    })
    .await?;
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
                core.add_key(key, r.id, r.county_id, false, row_of(r.id));
            }
        }
        if o.student_no != r.student_no {
            drop_numbers.push(o.student_no.clone());
            let key = yimeng_domain::StudentNo::from_stored(r.student_no.clone()).key();
            core.add_key(key, r.id, r.county_id, false, row_of(r.id));
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
                reason: reason.unwrap_or("批量导入更新学籍状态").to_string(),
                occurred_on: core.now.date_naive(),
                actor: core.actor.name.clone(),
                source: if core.opts.edit.is_some() {
                    "form"
                } else {
                    "import"
                }
                .into(),
                batch_id: core.batch_id,
                recorded_at: core.now,
            });
        }
    }
    let tx = core.tx().await?;
    drop_keys(tx, "id_card", &drop_cards).await?;
    drop_keys(tx, "student_no", &drop_numbers).await?;
    if !events.is_empty() {
        let first = tx.alloc_ids("student_event", events.len() as i64).await?;
        for (i, e) in events.iter_mut().enumerate() {
            e.id = first + i as i64;
        }
        bulk::insert(tx, events).await?;
    }
    Ok(old)
}

/// Removes what a failed write pass committed (SQLite): the keys, the new records, the batch.
async fn undo_staged(
    db: &Db,
    actor: &Actor,
    batch: i64,
    done: &Done,
    keys: &[NewKey],
) -> Result<()> {
    for chunk in keys[..done.keys].chunks(5000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|k| {
                let mut v = String::with_capacity(20);
                key_text(k.key, &mut v);
                v
            })
            .collect();
        let mut tx = db.begin().await?;
        let mut q =
            Sql::new("/* multi-county: person_keys */ DELETE FROM person_key WHERE value IN ");
        q.bind_list(values);
        tx.exec(q).await?;
        tx.commit().await?;
    }
    let mut by_county: std::collections::BTreeMap<i32, Vec<i64>> = Default::default();
    for (c, id) in &done.students {
        by_county.entry(*c).or_default().push(*id);
    }
    for (c, ids) in by_county {
        for chunk in ids.chunks(5000) {
            let mut tx = db.begin().await?;
            let mut q = Sql::new("DELETE FROM student WHERE county_id = ");
            q.bind(c)
                .push(" AND id IN ")
                .bind_list(chunk.iter().copied());
            tx.exec(q).await?;
            tx.commit().await?;
        }
    }
    let mut tx = db.begin().await?;
    finish_undo(&mut tx, actor, batch, done.students.len()).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the batch row of an undone import and writes the audit entry.
async fn finish_undo(tx: &mut Tx, actor: &Actor, batch: i64, records: usize) -> Result<()> {
    // Readers may have counted the undone records while they were visible.
    tx.exec(Sql::new(
        "/* multi-county: data_versions */ UPDATE data_version SET version = version + 1",
    ))
    .await?;
    let mut q = Sql::new("DELETE FROM import_batch WHERE id = ");
    q.bind(batch);
    tx.exec(q).await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: audit::CITY_COUNTY_ID,
            action: "import_undone",
            entity: "import_batch",
            entity_id: Some(batch),
            summary: format!("导入未完成，已撤销已写入的 {records} 条新记录"),
            before: None,
            after: None,
        }],
    )
    .await
}

/// Removes what student file imports stopped during their write pass left behind: batches still
/// `pending` whose import has not marked them alive for [`PENDING_STALE_MINUTES`] (their new
/// records and those records' keys; changed records are written only when a batch completes).
#[tracing::instrument(skip_all)]
pub async fn recover_interrupted(db: &Db) -> Result<u64> {
    let cutoff = Utc::now() - chrono::Duration::minutes(PENDING_STALE_MINUTES);
    let mut q = Sql::new("SELECT id FROM import_batch WHERE state = 'pending' AND finished_at < ");
    q.bind(cutoff);
    let stale: Vec<(i64,)> = db.all(q).await?;
    for (batch,) in &stale {
        let mut q = Sql::new(
            "/* multi-county: undo_batch */ SELECT s.student_no, s.id_card FROM student s WHERE s.created_batch = ",
        );
        q.bind(*batch);
        let numbers: Vec<(String, Option<String>)> = db.all(q).await?;
        let values: Vec<String> = numbers
            .into_iter()
            .flat_map(|(no, card)| std::iter::once(no).chain(card))
            .collect();
        let mut tx = db.begin().await?;
        for chunk in values.chunks(5000) {
            let mut q = Sql::new(
                "/* multi-county: person_keys */ DELETE FROM person_key WHERE owner = 'student' AND value IN ",
            );
            q.bind_list(chunk.iter().map(String::as_str));
            tx.exec(q).await?;
        }
        let mut q =
            Sql::new("/* multi-county: undo_batch */ DELETE FROM student WHERE created_batch = ");
        q.bind(*batch);
        let n = tx.exec(q).await?;
        finish_undo(
            &mut tx,
            &Actor::system(),
            *batch,
            usize::try_from(n).unwrap_or(0),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(batch, records = n, "interrupted import undone");
    }
    Ok(stale.len() as u64)
}
