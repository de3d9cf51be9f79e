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
use chrono::{DateTime, Utc};
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

impl TableRow for PersonKeyRow {
    const TABLE: &'static str = "person_key";
    const COLUMNS: &'static [&'static str] = &["kind", "value", "county_id", "owner", "owner_id"];
    const KEY: &'static str = "value, kind";
    fn values(&self) -> Vec<Value> {
        vec![(&self.kind).into(), (&self.value).into(), self.county_id.into(), (&self.owner).into(), self.owner_id.into()]
    }
}

/// A `school_key` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SchoolKeyRow {
    pub code: String,
    pub county_id: i32,
    pub school_id: i64,
}

impl TableRow for SchoolKeyRow {
    const TABLE: &'static str = "school_key";
    const COLUMNS: &'static [&'static str] = &["code", "county_id", "school_id"];
    const KEY: &'static str = "code";
    fn values(&self) -> Vec<Value> {
        vec![(&self.code).into(), self.county_id.into(), self.school_id.into()]
    }
}

/// Who holds a national number.
#[derive(Debug, Clone, Copy)]
struct KeyOwner {
    county: i32,
    id: i64,
    staff: bool,
}

/// Rows buffered before a flush.
const FLUSH_ROWS: usize = 4000;
/// Ids reserved at a time.
const ID_BLOCK: i64 = 20_000;

/// The part every importer shares: the transaction, the report, the id allocator.
struct Core {
    tx: Option<Tx>,
    opts: Options,
    actor: Actor,
    report: Report,
    batch_id: Option<i64>,
    now: DateTime<Utc>,
    next_id: i64,
    id_limit: i64,
    seq: &'static str,
    scope_county: i32,
}

impl Core {
    async fn start(db: &Db, scope: &Scope, actor: &Actor, opts: Options, entity: &'static str, seq: &'static str) -> Result<Core> {
        let mut tx = if opts.dry_run { None } else { Some(db.begin().await?) };
        let batch_id = match tx.as_mut() {
            Some(tx) => Some(tx.alloc_ids("import_batch", 1).await?),
            None => None,
        };
        let counties = scope.counties();
        let scope_county = if counties.len() == 1 { counties[0].get() } else { audit::CITY_COUNTY_ID };
        Ok(Core {
            tx,
            report: Report { entity, dry_run: opts.dry_run, ..Report::default() },
            opts,
            actor: actor.clone(),
            batch_id,
            now: Utc::now(),
            next_id: 0,
            id_limit: 0,
            seq,
            scope_county,
        })
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
                self.report.errors.push(RowError { row, field: e.field, value: e.value, reason: e.reason });
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
            let tx = self.tx.as_mut().expect("writing");
            self.next_id = tx.alloc_ids(self.seq, ID_BLOCK).await?;
            self.id_limit = self.next_id + ID_BLOCK;
        }
        self.next_id += 1;
        Ok(self.next_id - 1)
    }

    async fn finish(mut self) -> Result<Report> {
        let Some(mut tx) = self.tx.take() else {
            return Ok(self.report);
        };
        if self.opts.mode == Mode::AllOrNothing && self.report.rejected > 0 {
            tx.rollback().await?;
            self.report.inserted = 0;
            self.report.updated = 0;
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
        tx.commit().await?;
        self.report.committed = true;
        self.report.batch_id = Some(batch);
        Ok(self.report)
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
async fn load_person_keys(db: &Db) -> Result<HashMap<u64, KeyOwner>> {
    let rows: Vec<(String, String, i32, String, i64)> =
        db.all(Sql::new("/* multi-county: person_keys */ SELECT kind, value, county_id, owner, owner_id FROM person_key")).await?;
    let mut m = HashMap::with_capacity(rows.len());
    for (kind, value, county, owner, id) in rows {
        let key = match kind.as_str() {
            "id_card" => yimeng_domain::IdCardNo::from_stored(value).key(),
            _ => yimeng_domain::StudentNo::from_stored(value).key(),
        };
        m.insert(key, KeyOwner { county, id, staff: owner == "staff" });
    }
    Ok(m)
}

/// (id → content hash) of a county table's rows in scope.
async fn load_hashes(db: &Db, scope: &Scope, table: &str, school_col: &str) -> Result<HashMap<i64, i64>> {
    let mut q = Sql::new(&format!("SELECT t.id, t.content_hash FROM {table} t WHERE "));
    push_scope(&mut q, scope, "t", school_col);
    Ok(db.all::<(i64, i64)>(q).await?.into_iter().collect())
}

/// Existing rows by id (grouped by county), to diff changed records.
async fn fetch_rows<R: TableRow + crate::db::Rowable>(tx: &mut Tx, rows: &[R], key: impl Fn(&R) -> (i32, i64)) -> Result<HashMap<i64, R>> {
    let mut by_county: HashMap<i32, Vec<i64>> = HashMap::new();
    for r in rows {
        let (c, id) = key(r);
        by_county.entry(c).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (c, ids) in by_county {
        for chunk in ids.chunks(5000) {
            let mut q = Sql::new(&format!("SELECT t.* FROM {} t WHERE t.county_id = ", R::TABLE));
            q.bind(c).push(" AND t.id IN ").bind_list(chunk.iter().copied());
            for r in tx.all::<R>(q).await? {
                out.insert(key(&r).1, r);
            }
        }
    }
    Ok(out)
}

/// Writes changed rows with one audit entry each.
async fn write_changed<R: TableRow + crate::db::Rowable + Clone>(
    core: &mut Core,
    rows: Vec<R>,
    entity: &'static str,
    key: impl Fn(&R) -> (i32, i64) + Copy,
) -> Result<HashMap<i64, R>> {
    let tx = core.tx.as_mut().expect("writing");
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
                summary: format!("批量导入更新{}", entity_label(entity)),
                before: Some(before),
                after: Some(after),
            });
        }
    }
    bulk::upsert(tx, &rows).await?;
    audit::write(tx, &core.actor, entries).await?;
    Ok(old)
}

// ---------------------------------------------------------------------------------------------
// Schools

/// Imports schools.
pub struct SchoolImport {
    core: Core,
    scope: Scope,
    keys: HashMap<String, (i32, i64)>,
    hashes: HashMap<i64, i64>,
    used_stages: HashMap<i64, StageSet>,
    seen: HashMap<String, u64>,
    new_rows: Vec<SchoolRow>,
    changed: Vec<SchoolRow>,
}

impl SchoolImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Loads what checking needs and starts the transaction.
    pub async fn start(db: &Db, scope: &Scope, actor: &Actor, opts: Options) -> Result<SchoolImport> {
        let keys: HashMap<String, (i32, i64)> = db
            .all::<SchoolKeyRow>(Sql::new("/* multi-county: school_keys */ SELECT code, county_id, school_id FROM school_key"))
            .await?
            .into_iter()
            .map(|k| (k.code, (k.county_id, k.school_id)))
            .collect();
        let hashes = load_hashes(db, scope, "school", "id").await?;
        let mut q = Sql::new("SELECT DISTINCT c.school_id, c.grade FROM class c WHERE ");
        push_scope(&mut q, scope, "c", "school_id");
        let mut used_stages: HashMap<i64, StageSet> = HashMap::new();
        for (school, grade) in db.all::<(i64, String)>(q).await? {
            if let Some(g) = Grade::from_code(&grade) {
                let e = used_stages.entry(school).or_default();
                *e = StageSet::of(&e.iter().chain([g.stage()]).collect::<Vec<_>>());
            }
        }
        let core = Core::start(db, scope, actor, opts, "school", "school").await?;
        Ok(SchoolImport { core, scope: scope.clone(), keys, hashes, used_stages, seen: HashMap::new(), new_rows: vec![], changed: vec![] })
    }

    /// Takes one parsed row.
    pub async fn push(&mut self, row: u64, rec: std::result::Result<SchoolRecord, Vec<FieldError>>) -> Result<()> {
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
            errs.push(FieldError::new("code", &code, format!("与第 {first} 行的学校标识码重复")));
        } else {
            self.seen.insert(code.clone(), row);
        }
        let county = rec.county.get();
        let existing = self.keys.get(&code).copied();
        match existing {
            Some((c, _)) if c != county => errs.push(FieldError::new(
                "county",
                &rec.county.name(),
                format!("该学校标识码已在{}登记；学校的所属县区不能直接修改", yimeng_domain::RegionCode::from_i32(c).name()),
            )),
            Some((c, id)) if !self.scope.covers_school(yimeng_domain::RegionCode::from_i32(c), id) => {
                errs.push(FieldError::new("code", &code, "该学校不在您的管辖范围内"))
            }
            None if !self.scope.covers_whole_county(rec.county) => {
                errs.push(FieldError::new("county", &rec.county.name(), "只能登记本县区的学校"))
            }
            _ => {}
        }
        if let Some((_, id)) = existing
            && let Some(used) = self.used_stages.get(&id)
            && !used.is_subset(rec.stages)
        {
            errs.push(FieldError::new(
                "stages",
                &rec.stages.labels(),
                format!("该校已有{}班级，学段不能去掉", used.iter().filter(|s| !rec.stages.contains(*s)).map(|s| s.label()).collect::<Vec<_>>().join("、")),
            ));
        }
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        match existing {
            Some((_, id)) => {
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
                self.core.report.inserted += 1;
                self.new_rows.push(SchoolRow::from_record(&rec, id, self.core.batch_id, self.core.now));
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::take(&mut self.new_rows);
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        let tx = self.core.tx.as_mut().expect("writing");
        let keys: Vec<SchoolKeyRow> =
            new_rows.iter().map(|r| SchoolKeyRow { code: r.code.clone(), county_id: r.county_id, school_id: r.id }).collect();
        bulk::insert(tx, &new_rows).await?;
        bulk::insert(tx, &keys).await?;
        if !changed.is_empty() {
            write_changed(&mut self.core, changed, "school", |r: &SchoolRow| (r.county_id, r.id)).await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        self.core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Classes

/// Imports classes.
pub struct ClassImport {
    core: Core,
    schools: HashMap<String, crate::school::SchoolBrief>,
    existing: HashMap<(i64, i32, Grade, i32), (i64, i64)>,
    staff: HashMap<String, (i32, i64, i64)>,
    seen: HashMap<(i64, i32, Grade, i32), u64>,
    new_rows: Vec<ClassRow>,
    changed: Vec<ClassRow>,
}

impl ClassImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Loads what checking needs and starts the transaction.
    pub async fn start(db: &Db, scope: &Scope, actor: &Actor, opts: Options) -> Result<ClassImport> {
        let schools = crate::school::briefs(db, scope).await?.into_iter().map(|s| (s.code.clone(), s)).collect();
        let mut q = Sql::new("SELECT c.id, c.school_id, c.school_year, c.grade, c.class_no, c.content_hash FROM class c WHERE ");
        push_scope(&mut q, scope, "c", "school_id");
        let mut existing = HashMap::new();
        for (id, school, year, grade, no, hash) in db.all::<(i64, i64, i32, String, i32, i64)>(q).await? {
            if let Some(g) = Grade::from_code(&grade) {
                existing.insert((school, year, g, no), (id, hash));
            }
        }
        let staff = crate::staff::id_cards(db, scope).await?.into_iter().map(|(card, c, id, school)| (card, (c, id, school))).collect();
        let core = Core::start(db, scope, actor, opts, "class", "class").await?;
        Ok(ClassImport { core, schools, existing, staff, seen: HashMap::new(), new_rows: vec![], changed: vec![] })
    }

    /// Takes one parsed row.
    pub async fn push(&mut self, row: u64, rec: std::result::Result<ClassRecord, Vec<FieldError>>) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(row, vec![FieldError::new("school_code", rec.school_code.as_str(), SCHOOL_UNKNOWN)]);
            return Ok(());
        };
        let mut errs = Vec::new();
        if let Err(e) = check_grade_in_school(rec.grade, school.stage_set(), school.kind().label()) {
            errs.push(e);
        }
        let key = (school.id, rec.year.start(), rec.grade, rec.class_no);
        if let Some(first) = self.seen.get(&key) {
            errs.push(FieldError::new("class_no", &rec.class_no.to_string(), format!("与第 {first} 行是同一个班级（学年、年级、班号相同）")));
        } else {
            self.seen.insert(key, row);
        }
        let head = match &rec.head_teacher {
            None => None,
            Some(card) => match self.staff.get(card.as_str()) {
                Some((c, id, s)) if *c == school.county_id && *s == school.id => Some(*id),
                _ => {
                    errs.push(FieldError::new("head_teacher", &card.masked(), "班主任不是本校教职工（请先导入教职工）"));
                    None
                }
            },
        };
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let (county_id, school_id) = (school.county_id, school.id);
        let existing = self.existing.get(&key).copied();
        let id = match existing {
            Some((id, _)) => id,
            None => self.core.new_id().await?,
        };
        let mut r = ClassRow {
            county_id,
            id,
            school_id,
            school_year: rec.year.start(),
            grade: rec.grade.code().into(),
            class_no: rec.class_no,
            name: rec.name.clone(),
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
                self.new_rows.push(r);
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::take(&mut self.new_rows);
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        bulk::insert(self.core.tx.as_mut().expect("writing"), &new_rows).await?;
        if !changed.is_empty() {
            write_changed(&mut self.core, changed, "class", |r: &ClassRow| (r.county_id, r.id)).await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        self.core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Staff

/// Imports staff.
pub struct StaffImport {
    core: Core,
    schools: HashMap<String, crate::school::SchoolBrief>,
    keys: HashMap<u64, KeyOwner>,
    hashes: HashMap<i64, i64>,
    seen: HashMap<u64, u64>,
    new_rows: Vec<StaffRow>,
    new_keys: Vec<PersonKeyRow>,
    changed: Vec<StaffRow>,
}

impl StaffImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Loads what checking needs and starts the transaction.
    pub async fn start(db: &Db, scope: &Scope, actor: &Actor, opts: Options) -> Result<StaffImport> {
        let schools = crate::school::briefs(db, scope).await?.into_iter().map(|s| (s.code.clone(), s)).collect();
        let keys = load_person_keys(db).await?;
        let hashes = load_hashes(db, scope, "staff", "school_id").await?;
        let core = Core::start(db, scope, actor, opts, "staff", "staff").await?;
        Ok(StaffImport {
            core,
            schools,
            keys,
            hashes,
            seen: HashMap::new(),
            new_rows: vec![],
            new_keys: vec![],
            changed: vec![],
        })
    }

    /// Takes one parsed row.
    pub async fn push(&mut self, row: u64, rec: std::result::Result<StaffRecord, Vec<FieldError>>) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(row, vec![FieldError::new("school_code", rec.school_code.as_str(), SCHOOL_UNKNOWN)]);
            return Ok(());
        };
        let (county_id, school_id) = (school.county_id, school.id);
        let mut errs = Vec::new();
        let key = rec.id_card.key();
        if let Some(first) = self.seen.get(&key) {
            errs.push(FieldError::new("id_card", &rec.id_card.masked(), format!("与第 {first} 行的身份证件号重复")));
        } else {
            self.seen.insert(key, row);
        }
        let mut existing = None;
        match self.keys.get(&key) {
            None => {}
            Some(o) if !o.staff => errs.push(FieldError::new("id_card", &rec.id_card.masked(), "该身份证件号已登记为学生，一人只能有一个身份")),
            Some(o) if o.county != county_id => errs.push(FieldError::new(
                "id_card",
                &rec.id_card.masked(),
                "该教职工已在其他县区登记（跨县区调动请办理调动手续）",
            )),
            Some(o) if !self.hashes.contains_key(&o.id) => {
                errs.push(FieldError::new("id_card", &rec.id_card.masked(), "该教职工已在您管辖范围以外的学校登记"))
            }
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
        let r = StaffRow::from_record(&rec, county_id, id, school_id, self.core.batch_id, self.core.now);
        match existing {
            Some(id) if self.hashes.get(&id) == Some(&r.content_hash) => self.core.report.unchanged += 1,
            Some(_) => {
                self.core.report.updated += 1;
                self.changed.push(r);
            }
            None => {
                self.core.report.inserted += 1;
                self.new_keys.push(PersonKeyRow {
                    kind: "id_card".into(),
                    value: r.id_card.clone(),
                    county_id,
                    owner: "staff".into(),
                    owner_id: id,
                });
                self.new_rows.push(r);
            }
        }
        if self.new_rows.len() + self.changed.len() >= FLUSH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let new_rows = std::mem::take(&mut self.new_rows);
        let new_keys = std::mem::take(&mut self.new_keys);
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        let tx = self.core.tx.as_mut().expect("writing");
        bulk::insert(tx, &new_rows).await?;
        bulk::insert(tx, &new_keys).await?;
        if !changed.is_empty() {
            write_changed(&mut self.core, changed, "staff", |r: &StaffRow| (r.county_id, r.id)).await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        self.core.finish().await
    }
}

// ---------------------------------------------------------------------------------------------
// Students

/// Imports students.
pub struct StudentImport {
    core: Core,
    schools: HashMap<String, crate::school::SchoolBrief>,
    classes: HashMap<(i64, i32, Grade, i32), i64>,
    keys: HashMap<u64, KeyOwner>,
    hashes: HashMap<i64, i64>,
    seen: HashMap<u64, u32>,
    new_rows: Vec<StudentRow>,
    new_keys: Vec<PersonKeyRow>,
    changed: Vec<StudentRow>,
}

impl StudentImport {
    /// Records the file's SHA-256 in the batch (known only once the file has been read).
    pub fn set_file_sha256(&mut self, sha: String) {
        self.core.opts.file_sha256 = sha;
    }

    /// Loads what checking needs and starts the transaction.
    pub async fn start(db: &Db, scope: &Scope, actor: &Actor, opts: Options) -> Result<StudentImport> {
        let schools = crate::school::briefs(db, scope).await?.into_iter().map(|s| (s.code.clone(), s)).collect();
        let mut classes = HashMap::new();
        for c in crate::class::briefs(db, scope).await? {
            if let Some(g) = Grade::from_code(&c.grade) {
                classes.insert((c.school_id, c.school_year, g, c.class_no), c.id);
            }
        }
        let keys = load_person_keys(db).await?;
        let hashes = load_hashes(db, scope, "student", "school_id").await?;
        let core = Core::start(db, scope, actor, opts, "student", "student").await?;
        Ok(StudentImport {
            core,
            schools,
            classes,
            keys,
            hashes,
            seen: HashMap::new(),
            new_rows: Vec::with_capacity(FLUSH_ROWS),
            new_keys: Vec::with_capacity(FLUSH_ROWS * 2),
            changed: vec![],
        })
    }

    fn class_error(&self, school: &crate::school::SchoolBrief, c: &ClassRef) -> FieldError {
        if let Err(e) = check_grade_in_school(c.grade, school.stage_set(), school.kind().label()) {
            return FieldError { field: "grade", ..e };
        }
        FieldError::new(
            "class_no",
            &c.class_no.to_string(),
            format!("该校 {} 学年没有{}（{}）班（请先导入班级）", c.year.label(), c.grade.label(), c.class_no),
        )
    }

    /// Takes one parsed row.
    pub async fn push(&mut self, row: u64, rec: std::result::Result<StudentRecord, Vec<FieldError>>) -> Result<()> {
        self.core.report.total += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(errs) => {
                self.core.reject(row, errs);
                return Ok(());
            }
        };
        let Some(school) = self.schools.get(rec.school_code.as_str()) else {
            self.core.reject(row, vec![FieldError::new("school_code", rec.school_code.as_str(), SCHOOL_UNKNOWN)]);
            return Ok(());
        };
        let (county_id, school_id) = (school.county_id, school.id);
        let mut errs = Vec::new();
        let class_id = match &rec.class {
            None => None,
            Some(c) => match self.classes.get(&(school_id, c.year.start(), c.grade, c.class_no)) {
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
            errs.push(FieldError::new("status", rec.status.label(), "义务教育阶段不得开除或退学（义务教育法第二十七条）"));
        }
        let row32 = u32::try_from(row).unwrap_or(u32::MAX);
        let no_key = rec.student_no.key();
        if let Some(first) = self.seen.get(&no_key) {
            errs.push(FieldError::new("student_no", &rec.student_no.masked(), format!("与第 {first} 行的学籍号重复")));
        } else {
            self.seen.insert(no_key, row32);
        }
        let id_key = rec.id_card.as_ref().map(|c| c.key());
        if let (Some(k), Some(card)) = (id_key, &rec.id_card) {
            if let Some(first) = self.seen.get(&k) {
                errs.push(FieldError::new("id_card", &card.masked(), format!("与第 {first} 行的身份证件号重复")));
            } else {
                self.seen.insert(k, row32);
            }
        }
        let mut existing = None;
        match self.keys.get(&no_key) {
            None => {}
            Some(o) if o.county != county_id => errs.push(FieldError::new(
                "student_no",
                &rec.student_no.masked(),
                "该学籍号已在其他县区登记（跨县区转学请办理转学手续）",
            )),
            Some(o) if !self.hashes.contains_key(&o.id) => errs.push(FieldError::new(
                "student_no",
                &rec.student_no.masked(),
                "该学籍号已在您管辖范围以外的学校登记（转学请办理转学手续）",
            )),
            Some(o) => existing = Some(o.id),
        }
        if let (Some(k), Some(card)) = (id_key, &rec.id_card) {
            match self.keys.get(&k) {
                None => {}
                Some(o) if o.staff => errs.push(FieldError::new("id_card", &card.masked(), "该身份证件号已登记为教职工，一人只能有一个身份")),
                Some(o) if Some(o.id) != existing || o.county != county_id => {
                    errs.push(FieldError::new("id_card", &card.masked(), "该身份证件号已被另一名学生使用（一人一号）"))
                }
                Some(_) => {}
            }
        }
        if !errs.is_empty() {
            self.core.reject(row, errs);
            return Ok(());
        }
        let id = match existing {
            Some(id) => id,
            None => self.core.new_id().await?,
        };
        let r = StudentRow::from_record(&rec, county_id, id, school_id, class_id, self.core.batch_id, self.core.now);
        match existing {
            Some(id) if self.hashes.get(&id) == Some(&r.content_hash) => self.core.report.unchanged += 1,
            Some(_) => {
                self.core.report.updated += 1;
                self.changed.push(r);
            }
            None => {
                self.core.report.inserted += 1;
                if self.core.writing() {
                    self.new_keys.push(PersonKeyRow {
                        kind: "student_no".into(),
                        value: r.student_no.clone(),
                        county_id,
                        owner: "student".into(),
                        owner_id: id,
                    });
                    if let Some(card) = &r.id_card {
                        self.new_keys.push(PersonKeyRow {
                            kind: "id_card".into(),
                            value: card.clone(),
                            county_id,
                            owner: "student".into(),
                            owner_id: id,
                        });
                    }
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
        let new_rows = std::mem::take(&mut self.new_rows);
        let new_keys = std::mem::take(&mut self.new_keys);
        let changed = std::mem::take(&mut self.changed);
        if !self.core.writing() {
            return Ok(());
        }
        let tx = self.core.tx.as_mut().expect("writing");
        bulk::insert(tx, &new_rows).await?;
        bulk::insert(tx, &new_keys).await?;
        if changed.is_empty() {
            return Ok(());
        }
        let old = write_changed(&mut self.core, changed.clone(), "student", |r: &StudentRow| (r.county_id, r.id)).await?;
        // Keep the national keys and the status history in step with the changed rows.
        let mut events = Vec::new();
        let mut drop_cards = Vec::new();
        let mut add_cards = Vec::new();
        for r in &changed {
            let Some(o) = old.get(&r.id) else { continue };
            if o.id_card != r.id_card {
                if let Some(c) = &o.id_card {
                    drop_cards.push(c.clone());
                }
                if let Some(c) = &r.id_card {
                    add_cards.push(PersonKeyRow {
                        kind: "id_card".into(),
                        value: c.clone(),
                        county_id: r.county_id,
                        owner: "student".into(),
                        owner_id: r.id,
                    });
                }
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
                    reason: "批量导入更新学籍状态".into(),
                    occurred_on: self.core.now.date_naive(),
                    actor: self.core.actor.name.clone(),
                    source: "import".into(),
                    batch_id: self.core.batch_id,
                    recorded_at: self.core.now,
                });
            }
        }
        let tx = self.core.tx.as_mut().expect("writing");
        for chunk in drop_cards.chunks(5000) {
            let mut q = Sql::new("DELETE FROM person_key WHERE kind = 'id_card' AND value IN ");
            q.bind_list(chunk.iter().map(String::as_str));
            tx.exec(q).await?;
        }
        bulk::insert(tx, &add_cards).await?;
        if !events.is_empty() {
            let first = tx.alloc_ids("student_event", events.len() as i64).await?;
            for (i, e) in events.iter_mut().enumerate() {
                e.id = first + i as i64;
            }
            bulk::insert(tx, &events).await?;
        }
        Ok(())
    }

    /// Writes what is left and commits, or rolls back.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        self.core.finish().await
    }
}
