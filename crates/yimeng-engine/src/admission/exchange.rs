//! 交换文件 (exchange files): reads and validates `candidates.csv`, `schools.csv`, `quotas.csv`
//! and `policy.toml` from bytes, and writes `admissions.csv` and `cutoffs.csv` to any writer.
//! The caller opens the files; nothing here touches the file system.
//!
//! Formats (UTF-8 with or without BOM; GBK/GB18030 is decoded when the bytes are not UTF-8):
//! - `candidates.csv`: `candidate_id,junior_school,total,t1,…,tn,choice_1,…,choice_k`; the columns
//!   between `total` and `choice_1` are tie-break scores, compared in that order, higher first.
//! - `schools.csv`: `school_code,seats` (general seats).
//! - `quotas.csv`: `school_code,junior_school,seats,min_total`.
//! - `admissions.csv`: `candidate_id,school_code,pool`, every candidate once, in input order.
//! - `cutoffs.csv`: `school_code,pool,junior_school,admitted,min_total`.
//!
//! Validation collects every problem before anything runs; each [`InputIssue`] names the file,
//! the row (1-based, header = row 1), the column and the reason in Chinese.

use super::{Candidate, Instance, Outcome, Policy, PoolKind, QuotaPool, School, Score, quota};
use crate::EngineError;
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// One problem in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputIssue {
    /// File name as the user gave it.
    pub file: String,
    /// Row, 1-based, the header is row 1; `None` for the whole file.
    pub row: Option<u64>,
    /// Column header (or the setting, for the policy).
    pub column: Option<String>,
    /// The offending value.
    pub value: Option<String>,
    /// 原因 (reason), in Chinese.
    pub reason: String,
}

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(r) = self.row {
            write!(f, " 第 {r} 行")?;
        }
        if let Some(c) = &self.column {
            write!(f, "【{c}】")?;
        }
        if let Some(v) = &self.value {
            write!(f, "“{v}”")?;
        }
        write!(f, "：{}", self.reason)
    }
}

/// Lines of issues, for [`EngineError::AdmissionInput`]'s message (the first 50, then a count).
pub fn join_issues(issues: &[InputIssue]) -> String {
    let mut s = String::new();
    for i in issues.iter().take(50) {
        s.push_str(&i.to_string());
        s.push('\n');
    }
    if issues.len() > 50 {
        s.push_str(&format!("……另有 {} 处\n", issues.len() - 50));
    }
    s
}

/// One input file: the name used in messages and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// Name shown in messages (e.g. the path given on the command line).
    pub name: &'a str,
    /// Content.
    pub bytes: &'a [u8],
}

/// Every input of one admission run.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// `candidates.csv`.
    pub candidates: Source<'a>,
    /// `schools.csv`.
    pub schools: Source<'a>,
    /// `quotas.csv` (optional).
    pub quotas: Option<Source<'a>>,
    /// `policy.toml` (optional: defaults).
    pub policy: Option<Source<'a>>,
}

/// Maps keyed by values from the files (candidate numbers, school codes): foldhash, which mixes
/// every input byte into the bits the table indexes by. Real 考生号 share a long prefix (year,
/// county code, category) and differ only in the last digits; a multiply-only hasher leaves those
/// digits out of the low bits and every lookup degrades to a scan. Seeded per process; nothing
/// iterates these maps, so the output does not depend on the seed.
pub(crate) type CodeMap<K, V> = foldhash::HashMap<K, V>;

/// A table keyed by a code from a file: codes of 1–19 ASCII digits (考生号, school codes) are
/// kept as numbers with their length (no allocation, no string compare; "007" and "7" stay
/// apart), any other code as text. The two never meet: a code is in exactly one of them.
struct CodeTable<V> {
    digits: CodeMap<(u8, u64), V>,
    text: CodeMap<String, V>,
}

impl<V> CodeTable<V> {
    fn with_capacity(n: usize) -> Self {
        CodeTable {
            digits: CodeMap::with_capacity_and_hasher(n, Default::default()),
            text: CodeMap::default(),
        }
    }
    fn numeric(code: &str) -> Option<(u8, u64)> {
        let b = code.as_bytes();
        if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = b.iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        Some((b.len() as u8, v))
    }
    fn get(&self, code: &str) -> Option<&V> {
        match Self::numeric(code) {
            Some(k) => self.digits.get(&k),
            None => self.text.get(code),
        }
    }
    fn contains_key(&self, code: &str) -> bool {
        self.get(code).is_some()
    }
    fn insert(&mut self, code: &str, v: V) {
        match Self::numeric(code) {
            Some(k) => self.digits.insert(k, v),
            None => self.text.insert(code.to_string(), v),
        };
    }
    fn is_empty(&self) -> bool {
        self.digits.is_empty() && self.text.is_empty()
    }
}

/// Text of a file: UTF-8 (a BOM is dropped) or, when not valid UTF-8, GB18030 (a superset of GBK).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0,
    }
}

struct Issues<'a> {
    file: &'a str,
    list: &'a mut Vec<InputIssue>,
}

impl Issues<'_> {
    fn at(&mut self, row: u64, column: &str, value: &str, reason: impl Into<String>) {
        self.list.push(InputIssue {
            file: self.file.to_string(),
            row: Some(row),
            column: (!column.is_empty()).then(|| column.to_string()),
            value: (!value.is_empty()).then(|| value.to_string()),
            reason: reason.into(),
        });
    }
    fn file(&mut self, reason: impl Into<String>) {
        self.list.push(InputIssue {
            file: self.file.to_string(),
            row: None,
            column: None,
            value: None,
            reason: reason.into(),
        });
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn field(r: &csv::ByteRecord, i: usize) -> &str {
    r.get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
        .trim()
}

/// Reads the header row; `None` (with an issue) for an empty file.
fn header(rdr: &mut csv::Reader<&[u8]>, is: &mut Issues) -> Option<Vec<String>> {
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => Some((0..rec.len()).map(|i| field(&rec, i).to_string()).collect()),
        Ok(false) => {
            is.file("文件为空，没有表头");
            None
        }
        Err(e) => {
            is.file(format!("无法读取表头：{e}"));
            None
        }
    }
}

fn named(h: &str, names: &[&str]) -> bool {
    names.iter().any(|n| h.eq_ignore_ascii_case(n))
}

/// Checks a fixed header; reports missing and extra columns.
fn fixed_header(h: &[String], expected: &[(&str, &[&str])], is: &mut Issues) -> bool {
    let mut ok = true;
    for (i, (name, aliases)) in expected.iter().enumerate() {
        match h.get(i) {
            Some(got) if named(got, aliases) => {}
            Some(got) => {
                is.at(
                    1,
                    &format!("第 {} 列", i + 1),
                    got,
                    format!("表头应为 {name}"),
                );
                ok = false;
            }
            None => {
                is.at(1, name, "", format!("缺少表头列 {name}"));
                ok = false;
            }
        }
    }
    for (i, extra) in h.iter().enumerate().skip(expected.len()) {
        is.at(1, &format!("第 {} 列", i + 1), extra, "多余的列");
        ok = false;
    }
    ok
}

fn score(v: &str, max: Score) -> Result<Score, String> {
    let s = Score::parse(v).map_err(str::to_string)?;
    if s > max {
        return Err(format!("超出满分 {max}"));
    }
    Ok(s)
}

fn seats(v: &str) -> Result<u32, &'static str> {
    if v.starts_with('-') {
        return Err("计划数不能为负");
    }
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("计划数应为非负整数");
    }
    v.parse().map_err(|_| "计划数过大")
}

fn record_error(is: &mut Issues, e: &csv::Error) {
    let row = e.position().map_or(0, |p| p.line());
    is.at(row, "", "", format!("无法读取：{e}"));
}

/// Reads and validates every input. On any problem returns
/// [`EngineError::AdmissionInput`] with all of them; otherwise the instance (with a quota share
/// already split, when the policy gives one) and the policy.
pub fn load(src: &Sources) -> Result<(Instance, Policy), EngineError> {
    let mut issues = Vec::new();
    let policy = match src.policy {
        None => Policy::default(),
        Some(p) => match Policy::from_toml(&decode(p.bytes)) {
            Ok(p) => p,
            Err(e) => {
                Issues {
                    file: p.name,
                    list: &mut issues,
                }
                .file(e);
                Policy::default()
            }
        },
    };
    let mut inst = Instance::default();
    let mut school_idx: CodeTable<u32> = CodeTable::with_capacity(0);

    // schools.csv
    {
        let mut is = Issues {
            file: src.schools.name,
            list: &mut issues,
        };
        let text = decode(src.schools.bytes);
        let mut rdr = reader(&text);
        if let Some(h) = header(&mut rdr, &mut is)
            && fixed_header(
                &h,
                &[
                    ("school_code", &["school_code", "学校代码"]),
                    ("seats", &["seats", "计划数", "统招计划"]),
                ],
                &mut is,
            )
        {
            let mut rows: CodeMap<String, u64> = CodeMap::default();
            let mut rec = csv::ByteRecord::new();
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        record_error(&mut is, &e);
                        break;
                    }
                }
                let row = rec.position().map_or(0, |p| p.line());
                if rec.len() != 2 {
                    is.at(row, "", "", format!("有 {} 列，表头有 2 列", rec.len()));
                    continue;
                }
                let code = field(&rec, 0);
                let n = field(&rec, 1);
                let n = match seats(n) {
                    Ok(n) => n,
                    Err(e) => {
                        is.at(row, &h[1], n, e);
                        0
                    }
                };
                if code.is_empty() {
                    is.at(row, &h[0], "", "学校代码为空");
                } else if let Some(first) = rows.get(code) {
                    is.at(row, &h[0], code, format!("学校重复（与第 {first} 行相同）"));
                } else {
                    // Known even when its seats are wrong, so choices naming it are not
                    // reported as unknown schools too.
                    rows.insert(code.to_string(), row);
                    school_idx.insert(code, inst.schools.len() as u32);
                    inst.schools.push(School {
                        code: code.to_string(),
                        general_seats: n,
                    });
                }
            }
            if rows.is_empty() && is.list.iter().all(|i| i.file != src.schools.name) {
                is.file("没有学校数据行");
            }
        }
    }

    // candidates.csv
    let mut junior_idx: CodeMap<String, u32> = CodeMap::default();
    {
        let mut is = Issues {
            file: src.candidates.name,
            list: &mut issues,
        };
        let text = decode(src.candidates.bytes);
        let mut rdr = reader(&text);
        if let Some(h) = header(&mut rdr, &mut is)
            && let Some(first_choice) = candidate_header(&h, &mut is)
        {
            inst.tie_break_names = h[3..first_choice].to_vec();
            let n_tb = first_choice - 3;
            let width = h.len();
            // About 100 bytes a row: size the tables once instead of growing them.
            let rows_guess = src.candidates.bytes.len() / 100;
            let mut ids: CodeTable<u64> = CodeTable::with_capacity(rows_guess);
            inst.candidates.reserve(rows_guess);
            let mut rec = csv::ByteRecord::new();
            let mut choices: Vec<u32> = Vec::new();
            let mut tbs: Vec<Score> = Vec::new();
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        record_error(&mut is, &e);
                        break;
                    }
                }
                let row = rec.position().map_or(0, |p| p.line());
                let len = rec.len();
                if len < first_choice
                    || (len > width && (width..len).any(|i| !field(&rec, i).is_empty()))
                {
                    is.at(row, "", "", format!("有 {len} 列，表头有 {width} 列"));
                    continue;
                }
                let mut ok = true;
                let id = field(&rec, 0);
                if id.is_empty() {
                    is.at(row, &h[0], "", "考生号为空");
                    ok = false;
                } else if let Some(first) = ids.get(id) {
                    is.at(row, &h[0], id, format!("考生号重复（与第 {first} 行相同）"));
                    ok = false;
                } else {
                    ids.insert(id, row);
                }
                let junior = field(&rec, 1);
                if junior.is_empty() {
                    is.at(row, &h[1], "", "初中学校为空");
                    ok = false;
                }
                let total = match score(field(&rec, 2), policy.max_score) {
                    Ok(s) => s,
                    Err(e) => {
                        is.at(row, &h[2], field(&rec, 2), e);
                        ok = false;
                        Score(0)
                    }
                };
                tbs.clear();
                for (i, name) in h.iter().enumerate().take(first_choice).skip(3) {
                    match score(field(&rec, i), policy.max_score) {
                        Ok(s) => tbs.push(s),
                        Err(e) => {
                            is.at(row, name, field(&rec, i), e);
                            ok = false;
                        }
                    }
                }
                choices.clear();
                let mut blank_at: Option<usize> = None;
                for i in first_choice..len.min(width) {
                    let code = field(&rec, i);
                    if code.is_empty() {
                        blank_at.get_or_insert(i);
                        continue;
                    }
                    if let Some(b) = blank_at {
                        is.at(row, &h[i], code, format!("志愿不能跳空（{} 为空）", h[b]));
                        ok = false;
                        blank_at = None;
                    }
                    match school_idx.get(code) {
                        None => {
                            is.at(row, &h[i], code, "学校代码不在学校名单（schools.csv）中");
                            ok = false;
                        }
                        Some(&s) => {
                            if let Some(k) = choices.iter().position(|&x| x == s) {
                                is.at(row, &h[i], code, format!("与第 {} 志愿重复", k + 1));
                                ok = false;
                            }
                            choices.push(s);
                        }
                    }
                }
                if ok {
                    let j = match junior_idx.get(junior) {
                        Some(&j) => j,
                        None => {
                            let j = inst.juniors.len() as u32;
                            inst.juniors.push(junior.to_string());
                            junior_idx.insert(junior.to_string(), j);
                            j
                        }
                    };
                    debug_assert_eq!(tbs.len(), n_tb);
                    inst.candidates.push(Candidate {
                        id: id.to_string(),
                        junior: j,
                        total,
                        tie_breaks: tbs.as_slice().into(),
                        choices: choices.as_slice().into(),
                    });
                } else if !junior.is_empty() && !junior_idx.contains_key(junior) {
                    // Keep the junior school known, so quota rows are not reported twice.
                    junior_idx.insert(junior.to_string(), u32::MAX);
                }
            }
            if ids.is_empty() && is.list.iter().all(|i| i.file != src.candidates.name) {
                is.file("没有考生数据行");
            }
        }
    }

    // quotas.csv
    if let Some(q) = src.quotas {
        let mut is = Issues {
            file: q.name,
            list: &mut issues,
        };
        let text = decode(q.bytes);
        let mut rdr = reader(&text);
        if let Some(h) = header(&mut rdr, &mut is)
            && fixed_header(
                &h,
                &[
                    ("school_code", &["school_code", "学校代码"]),
                    ("junior_school", &["junior_school", "初中学校"]),
                    ("seats", &["seats", "指标数"]),
                    ("min_total", &["min_total", "最低控制线"]),
                ],
                &mut is,
            )
        {
            let mut seen: CodeMap<(u32, u32), u64> = CodeMap::default();
            let mut rec = csv::ByteRecord::new();
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        record_error(&mut is, &e);
                        break;
                    }
                }
                let row = rec.position().map_or(0, |p| p.line());
                if rec.len() != 4 {
                    is.at(row, "", "", format!("有 {} 列，表头有 4 列", rec.len()));
                    continue;
                }
                let (code, junior) = (field(&rec, 0), field(&rec, 1));
                let mut ok = true;
                let s = school_idx.get(code).copied();
                if s.is_none() {
                    is.at(row, &h[0], code, "学校代码不在学校名单（schools.csv）中");
                    ok = false;
                }
                let j = junior_idx.get(junior).copied();
                if j.is_none() {
                    is.at(row, &h[1], junior, "该初中学校没有考生");
                    ok = false;
                }
                let n = match seats(field(&rec, 2)) {
                    Ok(n) => n,
                    Err(e) => {
                        is.at(row, &h[2], field(&rec, 2), e);
                        ok = false;
                        0
                    }
                };
                let min_total = match score(field(&rec, 3), policy.max_score) {
                    Ok(s) => s,
                    Err(e) => {
                        is.at(row, &h[3], field(&rec, 3), e);
                        ok = false;
                        Score(0)
                    }
                };
                if let (Some(s), Some(j)) = (s, j) {
                    if let Some(first) = seen.get(&(s, j)) {
                        is.at(
                            row,
                            &h[1],
                            junior,
                            format!("同一学校、同一初中的指标重复（与第 {first} 行相同）"),
                        );
                        ok = false;
                    } else {
                        seen.insert((s, j), row);
                    }
                    if ok && j != u32::MAX {
                        inst.quotas.push(QuotaPool {
                            school: s,
                            junior: j,
                            seats: n,
                            min_total,
                        });
                    }
                }
            }
        }
    }

    // policy.toml against the data
    if let Some(p) = src.policy {
        let mut is = Issues {
            file: p.name,
            list: &mut issues,
        };
        let mut batch_of: CodeMap<&str, &str> = CodeMap::default();
        for b in &policy.batches {
            for code in &b.schools {
                if !school_idx.contains_key(code) {
                    is.at(
                        0,
                        &format!("batch“{}”.schools", b.name),
                        code,
                        "学校代码不在学校名单（schools.csv）中",
                    );
                } else if let Some(other) = batch_of.insert(code, &b.name) {
                    is.at(
                        0,
                        &format!("batch“{}”.schools", b.name),
                        code,
                        format!("该校已列在批次“{other}”中"),
                    );
                }
            }
        }
        if let Some(share) = &policy.quota_share {
            if src.quotas.is_some() {
                is.file("已给出指标表（quotas）时不能再设 quota_share");
            }
            for code in &share.schools {
                if !school_idx.contains_key(code) {
                    is.at(
                        0,
                        "quota_share.schools",
                        code,
                        "学校代码不在学校名单（schools.csv）中",
                    );
                }
            }
            for (code, _) in &share.graduates {
                if !junior_idx.contains_key(code) {
                    is.at(0, "quota_share.graduates", code, "该初中学校没有考生");
                }
            }
        }
        for i in is.list.iter_mut().filter(|i| i.row == Some(0)) {
            i.row = None;
        }
    }

    if !issues.is_empty() {
        return Err(EngineError::AdmissionInput(issues));
    }
    if let Some(share) = &policy.quota_share {
        let schools: Vec<u32> = share
            .schools
            .iter()
            .filter_map(|c| school_idx.get(c).copied())
            .collect();
        let graduates: Vec<(u32, u64)> = share
            .graduates
            .iter()
            .map(|(c, n)| (junior_idx[c], *n))
            .collect();
        quota::apply_share(&mut inst, share, &schools, &graduates);
    }
    Ok((inst, policy))
}

/// Checks the candidates header; returns the index of `choice_1`.
fn candidate_header(h: &[String], is: &mut Issues) -> Option<usize> {
    let fixed = [
        ("candidate_id", &["candidate_id", "考生号"][..]),
        (
            "junior_school",
            &["junior_school", "初中学校", "毕业学校"][..],
        ),
        ("total", &["total", "总分"][..]),
    ];
    let mut ok = true;
    for (i, (name, aliases)) in fixed.iter().enumerate() {
        match h.get(i) {
            Some(got) if named(got, aliases) => {}
            Some(got) => {
                is.at(
                    1,
                    &format!("第 {} 列", i + 1),
                    got,
                    format!("表头应为 {name}"),
                );
                ok = false;
            }
            None => {
                is.at(1, name, "", format!("缺少表头列 {name}"));
                ok = false;
            }
        }
    }
    let choice_no = |s: &str| -> Option<usize> {
        s.strip_prefix("choice_")
            .or_else(|| s.strip_prefix("志愿"))
            .and_then(|n| n.parse().ok())
    };
    let Some(first) = h.iter().position(|x| choice_no(x) == Some(1)) else {
        is.at(
            1,
            "choice_1",
            "",
            "缺少表头列 choice_1（至少要有一个志愿列）",
        );
        return None;
    };
    if first < 3 {
        is.at(1, &h[first], "", "志愿列应在 total 及同分比较列之后");
        return None;
    }
    for (k, name) in h.iter().enumerate().skip(first) {
        if choice_no(name) != Some(k - first + 1) {
            let reason = if choice_no(name).is_some() {
                format!("志愿列应依次编号，此列应为 choice_{}", k - first + 1)
            } else {
                "多余的列（志愿列之后不能再有其他列）".to_string()
            };
            is.at(1, &format!("第 {} 列", k + 1), name, reason);
            ok = false;
        }
    }
    for (k, name) in h.iter().enumerate().take(first).skip(3) {
        if name.is_empty() {
            is.at(1, &format!("第 {} 列", k + 1), "", "同分比较列缺少列名");
            ok = false;
        }
    }
    ok.then_some(first)
}

fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(w)
}

/// Writes `admissions.csv`: `candidate_id,school_code,pool`, every candidate in input order,
/// empty school and pool when unplaced.
pub fn write_admissions<W: Write>(inst: &Instance, outcome: &Outcome, w: W) -> io::Result<()> {
    let mut w = csv_writer(w);
    w.write_record(["candidate_id", "school_code", "pool"])?;
    for (c, p) in inst.candidates.iter().zip(&outcome.placements) {
        match p {
            Some(p) => w.write_record([
                c.id.as_str(),
                inst.schools[p.school as usize].code.as_str(),
                outcome.pools[p.pool as usize].kind.as_str(),
            ])?,
            None => w.write_record([c.id.as_str(), "", ""])?,
        }
    }
    w.flush()
}

/// Writes `cutoffs.csv`: `school_code,pool,junior_school,admitted,min_total`, one row per pool:
/// each school in input order with its general pool, then its quota pools.
pub fn write_cutoffs<W: Write>(inst: &Instance, outcome: &Outcome, w: W) -> io::Result<()> {
    let mut w = csv_writer(w);
    w.write_record([
        "school_code",
        "pool",
        "junior_school",
        "admitted",
        "min_total",
    ])?;
    let n = inst.schools.len();
    let mut quotas_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, q) in inst.quotas.iter().enumerate() {
        quotas_of[q.school as usize].push(n + k);
    }
    for (s, school) in inst.schools.iter().enumerate() {
        for p in std::iter::once(s).chain(quotas_of[s].iter().copied()) {
            let r = &outcome.pools[p];
            let junior = match r.kind {
                PoolKind::General => "",
                PoolKind::Quota(j) => inst.juniors[j as usize].as_str(),
            };
            w.write_record([
                school.code.as_str(),
                r.kind.as_str(),
                junior,
                &r.admitted.to_string(),
                &r.min_total.map(|m| m.to_string()).unwrap_or_default(),
            ])?;
        }
    }
    w.flush()
}

/// Writes an instance's candidates as `candidates.csv` (tie-break columns named as in the
/// instance, `choice_1…choice_k` with k the longest list; shorter lists end in blanks).
pub fn write_candidates<W: Write>(inst: &Instance, w: W) -> io::Result<()> {
    let mut w = csv_writer(w);
    let k = inst
        .candidates
        .iter()
        .map(|c| c.choices.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut head: Vec<String> = vec![
        "candidate_id".into(),
        "junior_school".into(),
        "total".into(),
    ];
    head.extend(inst.tie_break_names.iter().cloned());
    head.extend((1..=k).map(|i| format!("choice_{i}")));
    w.write_record(&head)?;
    let mut rec: Vec<String> = Vec::with_capacity(head.len());
    for c in &inst.candidates {
        rec.clear();
        rec.push(c.id.clone());
        rec.push(inst.juniors[c.junior as usize].clone());
        rec.push(c.total.to_string());
        rec.extend(c.tie_breaks.iter().map(Score::to_string));
        rec.extend(
            c.choices
                .iter()
                .map(|&s| inst.schools[s as usize].code.clone()),
        );
        rec.resize(head.len(), String::new());
        w.write_record(&rec)?;
    }
    w.flush()
}

/// Writes `schools.csv`.
pub fn write_schools<W: Write>(inst: &Instance, w: W) -> io::Result<()> {
    let mut w = csv_writer(w);
    w.write_record(["school_code", "seats"])?;
    for s in &inst.schools {
        w.write_record([s.code.as_str(), &s.general_seats.to_string()])?;
    }
    w.flush()
}

/// Writes `quotas.csv`.
pub fn write_quotas<W: Write>(inst: &Instance, w: W) -> io::Result<()> {
    let mut w = csv_writer(w);
    w.write_record(["school_code", "junior_school", "seats", "min_total"])?;
    for q in &inst.quotas {
        w.write_record([
            inst.schools[q.school as usize].code.as_str(),
            inst.juniors[q.junior as usize].as_str(),
            &q.seats.to_string(),
            &q.min_total.to_string(),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod hash_tests {
    use super::CodeMap;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    /// A hash table of 2^16 slots indexes by the low 16 bits of the hash: 考生号 that differ only
    /// in their last six digits must spread over those bits, not pile into a few slots.
    #[test]
    fn candidate_numbers_with_a_shared_prefix_spread_over_the_table() {
        let map: CodeMap<String, u64> = CodeMap::default();
        let hasher = map.hasher();
        let slots: HashSet<u64> = (0..65_536u32)
            .map(|i| hasher.hash_one(format!("2637130201{i:06}")) & 0xFFFF)
            .collect();
        // Uniform hashing fills about 1 − 1/e ≈ 63% of the slots (41,400; with some per-process
        // seeds foldhash fills about 33,000 on consecutive numbers); the multiply-only hasher this
        // replaces filled 32.
        assert!(slots.len() > 20_000, "{} slots used", slots.len());
        // The same numbers as kept in the table: (length, value).
        let map: CodeMap<(u8, u64), u64> = CodeMap::default();
        let hasher = map.hasher();
        let slots: HashSet<u64> = (0..65_536u64)
            .map(|i| hasher.hash_one((16u8, 2_637_130_201_000_000 + i)) & 0xFFFF)
            .collect();
        assert!(slots.len() > 20_000, "{} slots used", slots.len());
    }

    #[test]
    fn a_code_table_keeps_digit_codes_apart_by_length_and_text_codes_as_text() {
        let mut t = super::CodeTable::with_capacity(4);
        t.insert("007", 1);
        t.insert("7", 2);
        t.insert("H0001", 3);
        t.insert("12345678901234567890", 4);
        assert_eq!(t.get("007"), Some(&1));
        assert_eq!(t.get("7"), Some(&2));
        assert_eq!(t.get("07"), None);
        assert_eq!(t.get("H0001"), Some(&3));
        assert_eq!(t.get("12345678901234567890"), Some(&4));
        assert_eq!(t.get("2345678901234567890"), None);
        assert!(!t.is_empty() && t.contains_key("7") && !t.contains_key("h0001"));
    }
}
