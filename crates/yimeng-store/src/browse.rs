//! Reads for pages and the API: filtered, sorted, paged lists and record pages, always scoped.
//! Class sizes are always counted from the roster (statuses counted per the local [`Rules`]).

use crate::Result;
use crate::db::{Db, Sql, push_scope};
use crate::school::SchoolRow;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use yimeng_domain::{Rules, Scope, StudentStatus};

/// A page of a list. `total` is known for bounded lists; wide student lists only know whether
/// there is a next page (counting 1.7 million rows for a page of 50 is not worth it).
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Rows in all, when counted.
    pub total: Option<i64>,
    /// Whether a next page exists.
    pub has_next: bool,
}

impl<T> Page<T> {
    /// No rows (a list that must be narrowed first).
    fn empty(per_page: i64) -> Page<T> {
        Page {
            items: vec![],
            page: 1,
            per_page,
            total: None,
            has_next: false,
        }
    }

    fn from_probe(mut items: Vec<T>, page: i64, per_page: i64, total: Option<i64>) -> Page<T> {
        let has_next = items.len() as i64 > per_page;
        items.truncate(per_page as usize);
        Page {
            items,
            page,
            per_page,
            total,
            has_next,
        }
    }
    /// Number of pages, when counted.
    pub fn pages(&self) -> Option<i64> {
        self.total
            .map(|t| ((t + self.per_page - 1) / self.per_page).max(1))
    }
}

/// The rows before `page`: saturates, so a page number past any table (a caller's
/// `page=9223372036854775807`) is an empty page, not an overflow.
pub fn offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page.max(0))
}

fn limit_offset(q: &mut Sql, page: i64, per_page: i64) {
    q.push(" LIMIT ")
        .bind(per_page + 1)
        .push(" OFFSET ")
        .bind(offset(page, per_page));
}

/// Status codes counted in class size under the rules.
pub fn counted_statuses(rules: &Rules) -> Vec<&'static str> {
    StudentStatus::ALL
        .iter()
        .filter(|s| s.counts_in_class(rules))
        .map(|s| s.code())
        .collect()
}

/// Status codes on the register (在籍).
pub fn register_statuses() -> Vec<&'static str> {
    StudentStatus::ALL
        .iter()
        .filter(|s| s.is_on_register())
        .map(|s| s.code())
        .collect()
}

/// A text search term, as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// An 18-character ID number.
    IdCard(String),
    /// A 学籍号.
    StudentNo(String),
    /// A 10-digit 学校标识码.
    SchoolCode(String),
    /// Pinyin initials (lower case).
    Initials(String),
    /// The start of a name.
    Name(String),
}

impl Term {
    /// Reads what a person typed into a search box.
    pub fn parse(input: &str) -> Option<Term> {
        let s = yimeng_domain::text::normalize(input).into_owned();
        if s.is_empty() {
            return None;
        }
        if let Ok(id) = yimeng_domain::IdCardNo::parse(&s) {
            return Some(Term::IdCard(id.to_string()));
        }
        if let Ok(no) = yimeng_domain::StudentNo::parse(&s) {
            return Some(Term::StudentNo(no.to_string()));
        }
        if let Ok(code) = yimeng_domain::SchoolCode::parse(&s) {
            return Some(Term::SchoolCode(code.to_string()));
        }
        if yimeng_domain::names::looks_like_initials(&s) {
            return Some(Term::Initials(s.to_ascii_lowercase()));
        }
        let name: String = s.chars().take(30).collect();
        Some(Term::Name(name))
    }
}

/// Adds a name condition on `alias` (a table with `name_py` and `name`), seeking the
/// `(county_id, name_py, name)` index by the initials' range.
fn push_name_term(q: &mut Sql, alias: &str, term: &Term) {
    let (initials, name) = match term {
        Term::Initials(i) => (i.clone(), None),
        Term::Name(n) => (yimeng_domain::names::pinyin_initials(n), Some(n.clone())),
        _ => return,
    };
    if !initials.is_empty() {
        q.push(&format!(" AND {alias}.name_py >= "))
            .bind(initials.clone());
        q.push(&format!(" AND {alias}.name_py < "))
            .bind(format!("{initials}\u{7f}"));
    }
    if let Some(n) = name {
        q.push(&format!(" AND {alias}.name >= ")).bind(n.clone());
        q.push(&format!(" AND {alias}.name < "))
            .bind(format!("{n}\u{10ffff}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Schools

/// Filters of the school list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SchoolFilter {
    /// County code.
    pub county: Option<i32>,
    /// School type code.
    pub school_type: Option<String>,
    /// Ownership code.
    pub ownership: Option<String>,
    /// Location class code.
    pub location: Option<String>,
    /// Name, initials or code.
    pub q: Option<String>,
}

/// The order of the school list: a key of [`SCHOOL_SORTS`] (others sort by county and code), and
/// the direction.
#[derive(Debug, Clone, Copy)]
pub struct SchoolOrder<'a> {
    pub key: &'a str,
    pub desc: bool,
}

/// A school in a list, with its counts.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SchoolListRow {
    pub county_id: i32,
    pub id: i64,
    pub code: String,
    pub name: String,
    pub school_type: String,
    pub stages: String,
    pub ownership: String,
    pub location: String,
    pub central: bool,
    pub inclusive: bool,
    pub capacity: Option<i64>,
    pub address: String,
    #[sqlx(skip)]
    pub students: i64,
    #[sqlx(skip)]
    pub classes: i64,
    #[sqlx(skip)]
    pub big_classes: i64,
    #[sqlx(skip)]
    pub staff: i64,
}

/// Sort keys of the school list.
pub const SCHOOL_SORTS: &[(&str, &str)] = &[
    ("code", "s.code"),
    ("name", "s.name_py, s.name"),
    ("county", "s.county_id, s.code"),
    ("type", "s.school_type, s.code"),
];

/// The public school directory (`/directory`): every school of the city, filtered and paged.
/// Names, types, addresses and sizes of schools are public, so this read needs no scope.
#[tracing::instrument(skip_all)]
pub async fn public_directory(
    db: &Db,
    rules: &Rules,
    f: &SchoolFilter,
    order: SchoolOrder<'_>,
    page: i64,
    per_page: i64,
) -> Result<Page<SchoolListRow>> {
    schools(db, &Scope::City, rules, f, order, page, per_page).await
}

/// Schools in scope, filtered, sorted and paged, with student, class and staff counts.
#[tracing::instrument(skip_all)]
pub async fn schools(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    f: &SchoolFilter,
    order: SchoolOrder<'_>,
    page: i64,
    per_page: i64,
) -> Result<Page<SchoolListRow>> {
    let w = school_where(scope, f);
    let mut count = Sql::new("/* multi-county: school_list_count */ SELECT COUNT(*)");
    append(&mut count, &w);
    let total = db.scalar(count).await?;
    let sql_order = SCHOOL_SORTS
        .iter()
        .find(|(k, _)| *k == order.key)
        .map(|(_, v)| *v)
        .unwrap_or("s.county_id, s.code");
    let mut q = Sql::new(
        "/* multi-county: school_list */ SELECT s.county_id, s.id, s.code, s.name, s.school_type, s.stages, s.ownership, \
         s.location, s.central, s.inclusive, s.capacity, s.address",
    );
    append(&mut q, &w);
    q.push(" ORDER BY ").push(&directed(sql_order, order.desc));
    limit_offset(&mut q, page, per_page);
    let mut p = Page::from_probe(
        db.all::<SchoolListRow>(q).await?,
        page,
        per_page,
        Some(total),
    );
    fill_school_counts(db, rules, &mut p.items).await?;
    Ok(p)
}

/// The schools list's `FROM … WHERE …`: the scope, then the filters.
fn school_where(scope: &Scope, f: &SchoolFilter) -> Sql {
    let mut w = Sql::new(" FROM school s WHERE ");
    push_scope(&mut w, scope, "s", "id");
    if let Some(c) = f.county {
        w.push(" AND s.county_id = ").bind(c);
    }
    if let Some(t) = &f.school_type {
        w.push(" AND s.school_type = ").bind(t.as_str());
    }
    if let Some(o) = &f.ownership {
        w.push(" AND s.ownership = ").bind(o.as_str());
    }
    if let Some(l) = &f.location {
        w.push(" AND s.location = ").bind(l.as_str());
    }
    if let Some(term) = f.q.as_deref().and_then(Term::parse) {
        match term {
            Term::SchoolCode(c) => {
                w.push(" AND s.code = ").bind(c);
            }
            t @ (Term::Initials(_) | Term::Name(_)) => {
                // School names are searched anywhere in the name: "实验" finds every 实验小学.
                match t {
                    Term::Name(n) => {
                        w.push(" AND s.name LIKE ")
                            .bind(format!("%{}%", n.replace(['%', '_'], "")));
                    }
                    Term::Initials(i) => {
                        w.push(" AND s.name_py LIKE ").bind(format!("%{i}%"));
                    }
                    _ => {}
                }
            }
            _ => {
                w.push(" AND 1 = 0");
            }
        }
    }
    w
}

fn directed(order: &str, desc: bool) -> String {
    if desc {
        order
            .split(", ")
            .map(|c| format!("{c} DESC"))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        order.to_string()
    }
}

fn append(q: &mut Sql, tail: &Sql) {
    q.append(tail);
}

/// Student, class (and 56+ class) and staff counts of the listed schools, by county.
async fn fill_school_counts(db: &Db, rules: &Rules, items: &mut [SchoolListRow]) -> Result<()> {
    let mut by_county: HashMap<i32, Vec<i64>> = HashMap::new();
    for s in items.iter() {
        by_county.entry(s.county_id).or_default().push(s.id);
    }
    let mut students: HashMap<i64, i64> = HashMap::new();
    let mut classes: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut staff: HashMap<i64, i64> = HashMap::new();
    for (county, ids) in by_county {
        let mut q = Sql::new(
            "SELECT t.school_id, t.class_id, COUNT(*) FROM student t WHERE t.county_id = ",
        );
        q.bind(county)
            .push(" AND t.school_id IN ")
            .bind_list(ids.clone());
        q.push(" AND t.status IN ")
            .bind_list(counted_statuses(rules));
        q.push(" GROUP BY t.school_id, t.class_id");
        for (school, class, n) in db.all::<(i64, Option<i64>, i64)>(q).await? {
            *students.entry(school).or_default() += n;
            if class.is_some() && n >= yimeng_domain::grade::BIG_CLASS_MIN {
                classes.entry(school).or_default().1 += 1;
            }
        }
        let mut q = Sql::new("SELECT c.school_id, COUNT(*) FROM class c WHERE c.county_id = ");
        q.bind(county)
            .push(" AND c.school_id IN ")
            .bind_list(ids.clone())
            .push(" GROUP BY c.school_id");
        for (school, n) in db.all::<(i64, i64)>(q).await? {
            classes.entry(school).or_default().0 = n;
        }
        let mut q = Sql::new("SELECT t.school_id, COUNT(*) FROM staff t WHERE t.county_id = ");
        q.bind(county).push(" AND t.school_id IN ").bind_list(ids);
        q.push(" AND t.status IN ('active', 'sick', 'seconded') GROUP BY t.school_id");
        for (school, n) in db.all::<(i64, i64)>(q).await? {
            staff.insert(school, n);
        }
    }
    for s in items.iter_mut() {
        s.students = students.get(&s.id).copied().unwrap_or(0);
        let (c, big) = classes.get(&s.id).copied().unwrap_or((0, 0));
        s.classes = c;
        s.big_classes = big;
        s.staff = staff.get(&s.id).copied().unwrap_or(0);
    }
    Ok(())
}

/// A class with its size counted from the roster.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ClassSize {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub school_year: i32,
    pub grade: String,
    pub class_no: i32,
    pub name: String,
    pub head_teacher_id: Option<i64>,
    pub head_teacher_name: Option<String>,
    #[sqlx(skip)]
    pub size: i64,
    #[sqlx(skip)]
    pub school_name: String,
}

impl ClassSize {
    /// Grade.
    pub fn grade(&self) -> yimeng_domain::Grade {
        yimeng_domain::Grade::from_code(&self.grade).unwrap_or(yimeng_domain::Grade::P1)
    }
    /// How the size stands against the rules.
    pub fn band(&self) -> yimeng_domain::grade::ClassSizeBand {
        yimeng_domain::grade::class_size_band(self.grade(), self.size)
    }
}

/// What a school page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolDetail {
    /// The school.
    pub school: SchoolRow,
    /// Students by status code.
    pub by_status: Vec<(String, i64)>,
    /// Students with no class.
    pub unplaced: i64,
    /// Classes with sizes, by year, grade and number.
    pub classes: Vec<ClassSize>,
    /// Current staff by post code.
    pub staff_by_post: Vec<(String, i64)>,
    /// Full-time teachers.
    pub teachers: i64,
}

impl SchoolDetail {
    /// Students on the register (在籍).
    pub fn on_register(&self) -> i64 {
        let reg = register_statuses();
        self.by_status
            .iter()
            .filter(|(s, _)| reg.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    }
    /// Classes of 56 or more.
    pub fn big_classes(&self) -> usize {
        self.classes
            .iter()
            .filter(|c| yimeng_domain::grade::is_big_class(c.size))
            .count()
    }
    /// Students per full-time teacher.
    pub fn students_per_teacher(&self) -> Option<f64> {
        (self.teachers > 0).then(|| self.on_register() as f64 / self.teachers as f64)
    }
}

/// A school page.
#[tracing::instrument(skip_all)]
pub async fn school_detail(db: &Db, scope: &Scope, rules: &Rules, id: i64) -> Result<SchoolDetail> {
    let school = crate::school::get(db, scope, id).await?;
    let c = school.county_id;
    // One pass over the school's slice of `student_by_school`, in index order (no sort): the
    // status breakdown, the class sizes and the students without a class all come from it.
    let mut q =
        Sql::new("SELECT t.class_id, t.status, COUNT(*) FROM student t WHERE t.county_id = ");
    q.bind(c)
        .push(" AND t.school_id = ")
        .bind(id)
        .push(" GROUP BY t.class_id, t.status");
    let counts: Vec<(Option<i64>, String, i64)> = db.all(q).await?;
    let counted = counted_statuses(rules);
    let register = register_statuses();
    let mut statuses: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let mut sizes: HashMap<i64, i64> = HashMap::new();
    let mut unplaced = 0;
    for (class, status, n) in counts {
        match class {
            Some(k) if counted.contains(&status.as_str()) => *sizes.entry(k).or_default() += n,
            None if register.contains(&status.as_str()) => unplaced += n,
            _ => {}
        }
        *statuses.entry(status).or_default() += n;
    }
    let by_status: Vec<(String, i64)> = statuses.into_iter().collect();
    let mut classes = classes_of(db, c, &[id]).await?;
    for k in &mut classes {
        k.size = sizes.get(&k.id).copied().unwrap_or(0);
    }
    let mut q = Sql::new("SELECT t.post, COUNT(*) FROM staff t WHERE t.county_id = ");
    q.bind(c).push(" AND t.school_id = ").bind(id);
    q.push(" AND t.status IN ('active', 'sick', 'seconded') GROUP BY t.post ORDER BY t.post");
    let staff_by_post: Vec<(String, i64)> = db.all(q).await?;
    let teachers = staff_by_post
        .iter()
        .filter(|(p, _)| p == "teacher")
        .map(|(_, n)| n)
        .sum();
    Ok(SchoolDetail {
        school,
        by_status,
        unplaced,
        classes,
        staff_by_post,
        teachers,
    })
}

/// Classes of some schools of one county with their sizes.
#[tracing::instrument(skip_all)]
pub async fn class_sizes(
    db: &Db,
    rules: &Rules,
    county: i32,
    schools: &[i64],
) -> Result<Vec<ClassSize>> {
    let mut classes = classes_of(db, county, schools).await?;
    let mut q = Sql::new("SELECT t.class_id, COUNT(*) FROM student t WHERE t.county_id = ");
    q.bind(county)
        .push(" AND t.school_id IN ")
        .bind_list(schools.iter().copied());
    q.push(" AND t.class_id IS NOT NULL AND t.status IN ")
        .bind_list(counted_statuses(rules))
        .push(" GROUP BY t.class_id");
    let sizes: HashMap<i64, i64> = db.all::<(i64, i64)>(q).await?.into_iter().collect();
    for c in &mut classes {
        c.size = sizes.get(&c.id).copied().unwrap_or(0);
    }
    Ok(classes)
}

/// The classes of some schools of a county with their head teachers, in grade order (sizes 0).
async fn classes_of(db: &Db, county: i32, schools: &[i64]) -> Result<Vec<ClassSize>> {
    let mut q = Sql::new(
        "SELECT c.county_id, c.id, c.school_id, c.school_year, c.grade, c.class_no, c.name, c.head_teacher_id, \
         t.name AS head_teacher_name FROM class c LEFT JOIN staff t ON t.county_id = c.county_id AND t.id = c.head_teacher_id \
         WHERE c.county_id = ",
    );
    q.bind(county)
        .push(" AND c.school_id IN ")
        .bind_list(schools.iter().copied());
    let mut classes: Vec<ClassSize> = db.all(q).await?;
    classes.sort_by_key(|c| {
        (
            std::cmp::Reverse(c.school_year),
            c.grade().ordinal(),
            c.class_no,
        )
    });
    Ok(classes)
}

/// One class with its head teacher and its size (the class page).
#[tracing::instrument(skip_all)]
pub async fn class_size(
    db: &Db,
    rules: &Rules,
    county: i32,
    school: i64,
    class_id: i64,
) -> Result<ClassSize> {
    let mut q = Sql::new(
        "SELECT c.county_id, c.id, c.school_id, c.school_year, c.grade, c.class_no, c.name, c.head_teacher_id, \
         t.name AS head_teacher_name FROM class c LEFT JOIN staff t ON t.county_id = c.county_id AND t.id = c.head_teacher_id \
         WHERE c.county_id = ",
    );
    q.bind(county).push(" AND c.id = ").bind(class_id);
    let mut class: ClassSize = db.opt(q).await?.ok_or(crate::StoreError::NotFound)?;
    let mut q = Sql::new("SELECT COUNT(*) FROM student t WHERE t.county_id = ");
    q.bind(county)
        .push(" AND t.school_id = ")
        .bind(school)
        .push(" AND t.class_id = ")
        .bind(class_id)
        .push(" AND t.status IN ")
        .bind_list(counted_statuses(rules));
    class.size = db.scalar(q).await?;
    Ok(class)
}

/// Filters of the class list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassFilter {
    /// County.
    pub county: Option<i32>,
    /// School.
    pub school: Option<i64>,
    /// Grade code.
    pub grade: Option<String>,
    /// Only classes of at least this size (56 = 大班额).
    pub min_size: Option<i64>,
}

/// Every class in scope (narrowed by county or school) with its size and school name. Counted
/// county by county (one grouped read of the roster index per county).
#[tracing::instrument(skip_all)]
pub async fn all_class_sizes(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    county: Option<i32>,
    school: Option<i64>,
) -> Result<Vec<ClassSize>> {
    let mut q = Sql::new(
        "/* multi-county: class_sizes */ SELECT s.county_id, s.id, s.name FROM school s WHERE ",
    );
    push_scope(&mut q, scope, "s", "id");
    if let Some(c) = county {
        q.push(" AND s.county_id = ").bind(c);
    }
    if let Some(id) = school {
        q.push(" AND s.id = ").bind(id);
    }
    let schools: Vec<(i32, i64, String)> = db.all(q).await?;
    let names: HashMap<i64, String> = schools.iter().map(|(_, id, n)| (*id, n.clone())).collect();
    let mut by_county: std::collections::BTreeMap<i32, Vec<i64>> = Default::default();
    for (c, id, _) in &schools {
        by_county.entry(*c).or_default().push(*id);
    }
    let mut all = Vec::new();
    for (county, ids) in by_county {
        for chunk in ids.chunks(2000) {
            all.extend(class_sizes(db, rules, county, chunk).await?);
        }
    }
    for c in &mut all {
        c.school_name = names.get(&c.school_id).cloned().unwrap_or_default();
    }
    Ok(all)
}

/// Classes in scope with their sizes, largest first (reports such as the 大班额 list);
/// `min_size` filters after counting.
#[tracing::instrument(skip_all)]
pub async fn classes(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    f: &ClassFilter,
    page: i64,
    per_page: i64,
) -> Result<Page<ClassSize>> {
    let mut all = all_class_sizes(db, scope, rules, f.county, f.school).await?;
    all.retain(|c| {
        f.grade.as_deref().is_none_or(|g| c.grade == g) && f.min_size.is_none_or(|m| c.size >= m)
    });
    all.sort_by_key(|c| {
        (
            std::cmp::Reverse(c.size),
            c.county_id,
            c.school_id,
            c.grade().ordinal(),
            c.class_no,
        )
    });
    let total = all.len() as i64;
    let start = usize::try_from(offset(page, per_page)).unwrap_or(usize::MAX);
    let items: Vec<ClassSize> = all
        .into_iter()
        .skip(start)
        .take(per_page as usize + 1)
        .collect();
    Ok(Page::from_probe(items, page, per_page, Some(total)))
}

// ---------------------------------------------------------------------------------------------
// Students

/// Filters of the student list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StudentFilter {
    /// County.
    pub county: Option<i32>,
    /// School.
    pub school: Option<i64>,
    /// Class.
    pub class: Option<i64>,
    /// Status code.
    pub status: Option<String>,
    /// A flag: migrant, left_behind, poor, orphan, disabled.
    pub flag: Option<String>,
    /// Name, initials, ID number or 学籍号.
    pub q: Option<String>,
}

impl StudentFilter {
    /// Whether the list is narrow enough to browse (a county, a school, a class or a search term).
    pub fn is_narrow(&self, scope: &Scope) -> bool {
        scope.counties().len() <= 1
            || self.county.is_some()
            || self.school.is_some()
            || self.class.is_some()
            || self.q.as_deref().is_some_and(|q| !q.trim().is_empty())
    }
}

/// A student in a list.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StudentListRow {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub class_id: Option<i64>,
    pub name: String,
    pub sex: i16,
    pub birth_date: NaiveDate,
    pub id_card: Option<String>,
    pub student_no: String,
    pub status: String,
    pub migrant: bool,
    pub left_behind: bool,
    pub poor: bool,
    pub orphan: bool,
    pub disability: Option<String>,
    pub school_name: String,
    pub class_name: Option<String>,
}

/// Ids of the records holding a national number (ID number or 学籍号), in scope.
async fn by_number(db: &Db, value: &str, owner: &str) -> Result<Vec<(i32, i64)>> {
    let mut q = Sql::new("SELECT county_id, owner_id FROM person_key WHERE value = ");
    q.bind(value).push(" AND owner = ").bind(owner);
    db.all(q).await
}

/// Students in scope, filtered and paged. Narrow lists (a class, a school) are sorted by class and
/// name; others by name.
#[tracing::instrument(skip_all)]
pub async fn students(
    db: &Db,
    scope: &Scope,
    f: &StudentFilter,
    page: i64,
    per_page: i64,
) -> Result<Page<StudentListRow>> {
    if !f.is_narrow(scope) {
        return Ok(Page::empty(per_page));
    }
    let mut q = students_query(db, scope, f).await?;
    limit_offset(&mut q, page, per_page);
    let rows = db.all(q).await?;
    let total = if f.class.is_some() || f.school.is_some() {
        let mut c = Sql::new("SELECT COUNT(*) FROM student t WHERE ");
        push_scope(&mut c, scope, "t", "school_id");
        push_student_filter(db, &mut c, f).await?;
        Some(db.scalar(c).await?)
    } else {
        None
    };
    Ok(Page::from_probe(rows, page, per_page, total))
}

/// Every student of a narrow list, in the list's order, handed to `each` as read: one query and
/// one sort, however many rows (the export of `/students`). At most `limit` rows; a list that is
/// not narrow yields none.
pub async fn students_each(
    db: &Db,
    scope: &Scope,
    f: &StudentFilter,
    limit: i64,
    each: impl FnMut(StudentListRow) -> Result<()>,
) -> Result<()> {
    if !f.is_narrow(scope) {
        return Ok(());
    }
    let mut q = students_query(db, scope, f).await?;
    q.push(" LIMIT ").bind(limit);
    db.each(q, each).await
}

async fn students_query(db: &Db, scope: &Scope, f: &StudentFilter) -> Result<Sql> {
    let mut q = Sql::new(
        "/* multi-county: student_list */ SELECT t.county_id, t.id, t.school_id, t.class_id, t.name, t.sex, t.birth_date, t.id_card, \
         t.student_no, t.status, t.migrant, t.left_behind, t.poor, t.orphan, t.disability, s.name AS school_name, c.name AS class_name \
         FROM student t JOIN school s ON s.county_id = t.county_id AND s.id = t.school_id \
         LEFT JOIN class c ON c.county_id = t.county_id AND c.id = t.class_id WHERE ",
    );
    push_scope(&mut q, scope, "t", "school_id");
    push_student_filter(db, &mut q, f).await?;
    let order = if f.class.is_some() {
        " ORDER BY t.name_py, t.name, t.id"
    } else if f.school.is_some() {
        " ORDER BY c.school_year DESC, c.grade, c.class_no, t.name_py, t.id"
    } else {
        " ORDER BY t.name_py, t.name, t.id"
    };
    q.push(order);
    Ok(q)
}

async fn push_student_filter(db: &Db, q: &mut Sql, f: &StudentFilter) -> Result<()> {
    if let Some(c) = f.county {
        q.push(" AND t.county_id = ").bind(c);
    }
    if let Some(s) = f.school {
        q.push(" AND t.school_id = ").bind(s);
    }
    if let Some(c) = f.class {
        q.push(" AND t.class_id = ").bind(c);
    }
    if let Some(st) = &f.status {
        q.push(" AND t.status = ").bind(st.as_str());
    }
    match f.flag.as_deref() {
        Some("migrant") => {
            q.push(" AND t.migrant = ").bind(true);
        }
        Some("left_behind") => {
            q.push(" AND t.left_behind = ").bind(true);
        }
        Some("poor") => {
            q.push(" AND t.poor = ").bind(true);
        }
        Some("orphan") => {
            q.push(" AND t.orphan = ").bind(true);
        }
        Some("disabled") => {
            q.push(" AND t.disability IS NOT NULL");
        }
        _ => {}
    }
    if let Some(term) = f.q.as_deref().and_then(Term::parse) {
        match &term {
            Term::IdCard(v) | Term::StudentNo(v) => {
                let hits = by_number(db, v, "student").await?;
                q.push(" AND t.id IN ")
                    .bind_list(hits.into_iter().map(|(_, id)| id));
            }
            Term::SchoolCode(_) => {
                q.push(" AND 1 = 0");
            }
            t => push_name_term(q, "t", t),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Staff

/// Filters of the staff list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StaffFilter {
    /// County.
    pub county: Option<i32>,
    /// School.
    pub school: Option<i64>,
    /// Post code.
    pub post: Option<String>,
    /// Status code.
    pub status: Option<String>,
    /// Name, initials or ID number.
    pub q: Option<String>,
}

/// A staff member in a list.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StaffListRow {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub name: String,
    pub sex: i16,
    pub birth_date: NaiveDate,
    pub id_card: String,
    pub post: String,
    pub subjects: String,
    pub title: String,
    pub education: String,
    pub status: String,
    pub school_name: String,
}

/// Staff in scope, filtered and paged.
#[tracing::instrument(skip_all)]
pub async fn staff(
    db: &Db,
    scope: &Scope,
    f: &StaffFilter,
    page: i64,
    per_page: i64,
) -> Result<Page<StaffListRow>> {
    let narrow = scope.counties().len() <= 1
        || f.county.is_some()
        || f.school.is_some()
        || f.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    if !narrow {
        return Ok(Page::empty(per_page));
    }
    let mut w = Sql::new(
        " FROM staff t JOIN school s ON s.county_id = t.county_id AND s.id = t.school_id WHERE ",
    );
    push_scope(&mut w, scope, "t", "school_id");
    if let Some(c) = f.county {
        w.push(" AND t.county_id = ").bind(c);
    }
    if let Some(s) = f.school {
        w.push(" AND t.school_id = ").bind(s);
    }
    if let Some(p) = &f.post {
        w.push(" AND t.post = ").bind(p.as_str());
    }
    if let Some(st) = &f.status {
        w.push(" AND t.status = ").bind(st.as_str());
    }
    if let Some(term) = f.q.as_deref().and_then(Term::parse) {
        match &term {
            Term::IdCard(v) => {
                let hits = by_number(db, v, "staff").await?;
                w.push(" AND t.id IN ")
                    .bind_list(hits.into_iter().map(|(_, id)| id));
            }
            Term::StudentNo(_) | Term::SchoolCode(_) => {
                w.push(" AND 1 = 0");
            }
            t => push_name_term(&mut w, "t", t),
        }
    }
    let mut q = Sql::new(
        "/* multi-county: staff_list */ SELECT t.county_id, t.id, t.school_id, t.name, t.sex, t.birth_date, t.id_card, t.post, \
         t.subjects, t.title, t.education, t.status, s.name AS school_name",
    );
    q.append(&w);
    q.push(if f.school.is_some() {
        " ORDER BY t.post, t.name_py, t.id"
    } else {
        " ORDER BY t.name_py, t.name, t.id"
    });
    limit_offset(&mut q, page, per_page);
    let rows = db.all(q).await?;
    let total = if f.school.is_some()
        || scope.counties().len() <= 1 && f.county.is_some()
        || f.school.is_some()
    {
        let mut c = Sql::new("SELECT COUNT(*)");
        c.append(&w);
        Some(db.scalar(c).await?)
    } else {
        None
    };
    Ok(Page::from_probe(rows, page, per_page, total))
}

// ---------------------------------------------------------------------------------------------
// Search

/// One search hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// "school", "student" or "staff".
    pub kind: &'static str,
    /// Record id.
    pub id: i64,
    /// County.
    pub county_id: i32,
    /// Name.
    pub name: String,
    /// A second line: school, class, code.
    pub detail: String,
}

/// Searches schools, students and staff in scope for a name, initials, ID number, 学籍号 or
/// school code; at most `limit` hits of each kind.
#[tracing::instrument(skip_all)]
pub async fn search(db: &Db, scope: &Scope, input: &str, limit: i64) -> Result<Vec<Hit>> {
    let Some(term) = Term::parse(input) else {
        return Ok(vec![]);
    };
    let mut hits = Vec::new();
    if matches!(
        term,
        Term::SchoolCode(_) | Term::Name(_) | Term::Initials(_)
    ) {
        let f = SchoolFilter {
            q: Some(input.to_string()),
            ..Default::default()
        };
        let p = schools_plain(db, scope, &f, limit).await?;
        hits.extend(p.into_iter().map(|(county_id, id, code, name)| Hit {
            kind: "school",
            id,
            county_id,
            detail: format!(
                "{} · {}",
                code,
                yimeng_domain::RegionCode::from_i32(county_id).name()
            ),
            name,
        }));
    }
    if !matches!(term, Term::SchoolCode(_)) {
        let f = StudentFilter {
            q: Some(input.to_string()),
            ..Default::default()
        };
        for s in students(db, scope, &f, 1, limit).await?.items {
            hits.push(Hit {
                kind: "student",
                id: s.id,
                county_id: s.county_id,
                detail: format!("{} {}", s.school_name, s.class_name.unwrap_or_default()),
                name: s.name,
            });
        }
    }
    if !matches!(term, Term::SchoolCode(_) | Term::StudentNo(_)) {
        let f = StaffFilter {
            q: Some(input.to_string()),
            ..Default::default()
        };
        for s in staff(db, scope, &f, 1, limit).await?.items {
            hits.push(Hit {
                kind: "staff",
                id: s.id,
                county_id: s.county_id,
                detail: s.school_name,
                name: s.name,
            });
        }
    }
    Ok(hits)
}

async fn schools_plain(
    db: &Db,
    scope: &Scope,
    f: &SchoolFilter,
    limit: i64,
) -> Result<Vec<(i32, i64, String, String)>> {
    // Search hits need no counts and no total: one narrow query.
    let mut q =
        Sql::new("/* multi-county: school_search */ SELECT s.county_id, s.id, s.code, s.name");
    append(&mut q, &school_where(scope, f));
    q.push(" ORDER BY s.name LIMIT ").bind(limit);
    db.all(q).await
}

// ---------------------------------------------------------------------------------------------
// Records

/// A student's page: the record, where it sits, and its history.
#[derive(Debug, Clone, Serialize)]
pub struct StudentDetail {
    /// The row.
    pub student: crate::student::StudentRow,
    /// School name and code.
    pub school_name: String,
    /// School code.
    pub school_code: String,
    /// The class, when placed.
    pub class: Option<crate::class::ClassRow>,
    /// Status changes, oldest first.
    pub events: Vec<crate::student::StudentEventRow>,
    /// The import that created it.
    pub created_by: Option<ImportBatch>,
}

/// An import batch, briefly.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ImportBatch {
    pub id: i64,
    pub entity: String,
    pub file_name: String,
    pub actor: String,
    pub rows_total: i64,
    pub rows_inserted: i64,
    pub rows_updated: i64,
    pub finished_at: DateTime<Utc>,
}

/// A student's page data.
#[tracing::instrument(skip_all)]
pub async fn student_detail(db: &Db, scope: &Scope, id: i64) -> Result<StudentDetail> {
    let student = crate::student::get(db, scope, id).await?;
    let school = crate::school::get(
        db,
        &Scope::County(yimeng_domain::RegionCode::from_i32(student.county_id)),
        student.school_id,
    )
    .await?;
    let class = match student.class_id {
        Some(c) => Some(
            crate::class::get(
                db,
                &Scope::County(yimeng_domain::RegionCode::from_i32(student.county_id)),
                c,
            )
            .await?,
        ),
        None => None,
    };
    let events = crate::student::events(db, scope, id).await?;
    let created_by = batch(db, &student).await?;
    Ok(StudentDetail {
        student,
        school_name: school.name,
        school_code: school.code,
        class,
        events,
        created_by,
    })
}

/// The import batch that created `student` (a row read through a scope), if any.
#[tracing::instrument(skip_all)]
pub async fn batch(db: &Db, student: &crate::student::StudentRow) -> Result<Option<ImportBatch>> {
    let Some(id) = student.created_batch else {
        return Ok(None);
    };
    let mut q = Sql::new(
        "SELECT id, entity, file_name, actor, rows_total, rows_inserted, rows_updated, finished_at FROM import_batch WHERE id = ",
    );
    q.bind(id);
    db.opt(q).await
}

/// The roster of a class (students counted in its size first, then the others).
#[tracing::instrument(skip_all)]
pub async fn roster(
    db: &Db,
    scope: &Scope,
    class_id: i64,
) -> Result<(crate::class::ClassRow, Vec<StudentListRow>)> {
    let class = crate::class::get(db, scope, class_id).await?;
    let f = StudentFilter {
        class: Some(class_id),
        school: Some(class.school_id),
        county: Some(class.county_id),
        ..Default::default()
    };
    let mut page = students(db, scope, &f, 1, 500).await?;
    page.items.sort_by_key(|s| {
        (
            !StudentStatus::from_code(&s.status).is_some_and(|x| x.is_on_register()),
            0,
        )
    });
    Ok((class, page.items))
}

// ---------------------------------------------------------------------------------------------
// Audit

/// Filters of the audit log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditFilter {
    /// County (or 371300 for city-level actions).
    pub county: Option<i32>,
    /// Who.
    pub actor: Option<String>,
    /// What was done.
    pub action: Option<String>,
    /// Which kind of record.
    pub entity: Option<String>,
    /// From this day (Asia/Shanghai).
    pub from: Option<NaiveDate>,
    /// Up to this day (inclusive).
    pub to: Option<NaiveDate>,
}

/// The audit log, newest first.
#[tracing::instrument(skip_all)]
pub async fn audit(
    db: &Db,
    f: &AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<Page<crate::audit::AuditRow>> {
    let mut q = Sql::new(
        "/* multi-county: audit_list */ SELECT a.* FROM audit_log a WHERE a.county_id IN ",
    );
    let mut counties: Vec<i32> = vec![crate::audit::CITY_COUNTY_ID];
    counties.extend(
        yimeng_domain::region::linyi_county_codes()
            .iter()
            .map(|c| c.get()),
    );
    match f.county {
        Some(c) => q.bind_list([c]),
        None => q.bind_list(counties),
    };
    if let Some(a) = &f.actor {
        q.push(" AND a.actor = ").bind(a.as_str());
    }
    if let Some(a) = &f.action {
        q.push(" AND a.action = ").bind(a.as_str());
    }
    if let Some(e) = &f.entity {
        q.push(" AND a.entity = ").bind(e.as_str());
    }
    let shanghai = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8)
    };
    if let Some(d) = f.from {
        q.push(" AND a.at >= ").bind(shanghai(d));
    }
    if let Some(d) = f.to {
        q.push(" AND a.at < ")
            .bind(shanghai(d + chrono::Duration::days(1)));
    }
    q.push(" ORDER BY a.at DESC, a.id DESC");
    limit_offset(&mut q, page, per_page);
    Ok(Page::from_probe(db.all(q).await?, page, per_page, None))
}
