//! Rows ↔ domain records. Parsing collects every problem of a row (field, value, reason in Chinese);
//! formatting writes records back in the same columns, so an export imports again unchanged.

use crate::read::NUMBER_LOST_PRECISION;
use crate::schema::{HeaderMap, Table};
use crate::write::Cell;
use chrono::NaiveDate;
use yimeng_domain::class::{ClassRecord, default_class_name, parse_class_no};
use yimeng_domain::codes::{bool_label, parse_bool};
use yimeng_domain::error::Errors;
use yimeng_domain::idcard::age_on;
use yimeng_domain::school::{Facilities, SchoolRecord};
use yimeng_domain::staff::{
    Backbone, CertKind, Education, HireSource, Post, StaffRecord, StaffStatus, Title,
    parse_cert_no, parse_subjects,
};
use yimeng_domain::student::{
    ClassRef, Disability, Ethnicity, Guardian, Relation, StudentRecord, StudentStatus,
    check_against_id, parse_date, parse_phone,
};
use yimeng_domain::text::parse_text;
use yimeng_domain::{
    FieldError, Grade, IdCardNo, LocationClass, Ownership, RegionCode, SchoolCode, SchoolType,
    SchoolYear, Sex, StageSet, StudentNo,
};

/// Longest person name.
pub const NAME_MAX: usize = 50;
/// Longest school name.
pub const SCHOOL_NAME_MAX: usize = 100;
/// Longest address.
pub const ADDRESS_MAX: usize = 200;

/// What parsing needs from outside: today's date (birth dates may not lie in the future).
#[derive(Debug, Clone, Copy)]
pub struct ParseCtx {
    /// Today in Asia/Shanghai.
    pub today: NaiveDate,
}

/// Reads a field's text by its key: a file row via [`HeaderMap`], or a web form.
pub type Getter<'a> = dyn Fn(&str) -> &'a str + 'a;

/// A row being parsed: reads cells by field key and collects errors.
pub struct RowReader<'g, 'a> {
    get: &'g Getter<'a>,
    /// Errors so far.
    pub errs: Errors,
    /// Fields whose cell was already refused as unreadable: a field is read several times (is it
    /// present? what does it parse to?) and its problem is reported once.
    unreadable: Vec<&'static str>,
}

impl<'g, 'a> RowReader<'g, 'a> {
    /// Reads fields through `get` (a file row via [`HeaderMap`], or a web form).
    pub fn new(get: &'g Getter<'a>) -> Self {
        RowReader {
            get,
            errs: Errors::default(),
            unreadable: Vec::new(),
        }
    }

    fn raw(&mut self, key: &'static str) -> &'a str {
        let v = (self.get)(key);
        let problem = if let Some(rest) = v.strip_prefix(NUMBER_LOST_PRECISION) {
            Some((
                rest,
                "Excel 把这一格存成了数字，超过 15 位的数字已丢失精度；请将此列设为“文本”格式后重新填写",
            ))
        } else if v.contains('\u{FFFD}') {
            Some((
                v,
                "含有无法识别的字符（文件可能混用了不同编码，请另存为 UTF-8 或 xlsx）",
            ))
        } else {
            None
        };
        match problem {
            None => v,
            Some((shown, reason)) => {
                if !self.unreadable.contains(&key) {
                    self.unreadable.push(key);
                    self.errs.push(key, shown, reason);
                }
                ""
            }
        }
    }
    /// True when the field's cell holds something, readable or not (an unreadable ID number is
    /// still an ID number that was given).
    fn given(&mut self, key: &'static str) -> bool {
        let v = (self.get)(key);
        !yimeng_domain::text::normalize(v).is_empty()
    }
    /// A present-or-absent cell: `None` when empty.
    fn present(&mut self, key: &'static str) -> Option<&'a str> {
        let v = self.raw(key);
        if yimeng_domain::text::normalize(v).is_empty() {
            None
        } else {
            Some(v)
        }
    }
    fn required<T>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.present(key) {
            None => {
                self.errs.push(key, "", "必填，不能为空");
                None
            }
            Some(v) => self.errs.take(key, v, f(v)),
        }
    }
    fn optional<T>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = self.present(key)?;
        self.errs.take(key, v, f(v))
    }
    fn text(&mut self, key: &'static str, max: usize, required: bool) -> Option<String> {
        let v = self.raw(key);
        self.errs.take(key, v, parse_text(v, max, required))
    }
    fn flag(&mut self, key: &'static str) -> bool {
        let v = self.raw(key);
        self.errs
            .take(key, v, parse_bool(v))
            .flatten()
            .unwrap_or(false)
    }
    fn count(&mut self, key: &'static str) -> Option<i64> {
        self.optional(key, parse_count)
    }
    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.errs.is_empty() => Ok(v),
            _ => Err(self.errs.0),
        }
    }
}

/// A non-negative whole number; thousands separators allowed.
pub fn parse_count(s: &str) -> Result<i64, String> {
    let t: String = yimeng_domain::text::normalize(s)
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let t = t.strip_suffix(".0").unwrap_or(&t);
    match t.parse::<i64>() {
        Ok(n) if (0..=1_000_000_000_000).contains(&n) => Ok(n),
        Ok(_) => Err("应为不小于 0 的整数".into()),
        Err(_) => Err("应为整数".into()),
    }
}

/// An amount in 元 with at most two decimals, as fen.
pub fn parse_yuan(s: &str) -> Result<i64, String> {
    let t: String = yimeng_domain::text::normalize(s)
        .chars()
        .filter(|c| !matches!(c, ',' | '¥' | '￥' | '元'))
        .collect();
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    let err = || "应为金额（元），最多两位小数".to_string();
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err());
    }
    let yuan: i64 = int.parse().map_err(|_| err())?;
    let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| err())?;
    yuan.checked_mul(100)
        .and_then(|v| v.checked_add(fen))
        .ok_or_else(err)
}

/// Fen as a 元 amount: 123456 → "1234.56".
pub fn yuan_text(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}", fen / 100)
    } else {
        format!("{}.{:02}", fen / 100, fen % 100)
    }
}

/// Reads the fields of a file row.
pub fn row_getter<'a>(
    map: &'a HeaderMap,
    cells: &'a csv::StringRecord,
) -> impl Fn(&str) -> &'a str + 'a {
    move |k| map.get(cells, k)
}

/// A row must have as many cells as the header: extra cells hold data nobody will read, and a row
/// cut short (a CSV line missing its trailing separators) would silently take defaults for the
/// missing columns — a 休学 student read as 在读. An empty cell that exists is fine.
pub fn check_width(map: &HeaderMap, cells: &csv::StringRecord) -> Option<FieldError> {
    if cells.len() < map.width() {
        let missing = map.headers_from(cells.len());
        return Some(FieldError::new(
            "row",
            "",
            format!(
                "该行只有 {} 个单元格，表头有 {} 列：缺少{}（行尾的分隔符缺失，数据可能错位；空值也须保留分隔符）",
                cells.len(),
                map.width(),
                missing.join("、")
            ),
        ));
    }
    let extra = cells
        .iter()
        .skip(map.width())
        .filter(|c| !c.trim().is_empty())
        .count();
    (extra > 0).then(|| {
        FieldError::new(
            "row",
            "",
            format!("该行有 {extra} 个单元格在表头范围以外（没有列名），请删除或补上列名"),
        )
    })
}

// ---------------------------------------------------------------------------------------------

/// Parses a school row.
pub fn parse_school(get: &Getter<'_>, _ctx: &ParseCtx) -> Result<SchoolRecord, Vec<FieldError>> {
    let mut r = RowReader::new(get);
    let code = r.required("code", SchoolCode::parse);
    let name = r.text("name", SCHOOL_NAME_MAX, true);
    let county = r.required("county", RegionCode::parse_linyi_county);
    let school_type = r.required("school_type", SchoolType::parse);
    let stages = r.optional("stages", StageSet::parse);
    let ownership = r.required("ownership", Ownership::parse);
    let inclusive = r.flag("inclusive");
    let location = r.required("location", LocationClass::parse);
    let central = r.flag("central");
    let capacity = r.count("capacity");
    let address = r.text("address", ADDRESS_MAX, false);
    let facilities = Facilities {
        building_area: r.count("building_area"),
        sports_area: r.count("sports_area"),
        equipment_value_fen: r.optional("equipment_value", parse_yuan),
        books: r.count("books"),
        computers: r.count("computers"),
        multimedia_rooms: r.count("multimedia_rooms"),
        bandwidth_mbps: r.count("bandwidth_mbps"),
        ipv6: r.flag("ipv6"),
        security_guard: r.flag("security_guard"),
        closed_campus: r.flag("closed_campus"),
        alarm_and_video: r.flag("alarm_and_video"),
        guard_post: r.flag("guard_post"),
    };
    let rec = (|| {
        let school_type = school_type?;
        Some(SchoolRecord {
            code: code?,
            name: name?,
            county: county?,
            school_type,
            stages: stages
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| school_type.default_stages()),
            ownership: ownership?,
            inclusive,
            location: location?,
            central,
            capacity,
            address: address?,
            facilities,
        })
    })();
    if let Some(rec) = &rec {
        r.errs.0.extend(rec.check());
    }
    r.finish(rec)
}

/// A school as cells in [`Table::Schools`] column order.
pub fn school_cells(s: &SchoolRecord) -> Vec<Cell> {
    let f = &s.facilities;
    let n = |v: Option<i64>| v.map(Cell::Int).unwrap_or(Cell::Empty);
    vec![
        Cell::text(s.code.as_str()),
        Cell::text(&s.name),
        Cell::text(&s.county.name()),
        Cell::text(s.school_type.label()),
        Cell::text(&s.stages.labels()),
        Cell::text(s.ownership.label()),
        Cell::text(bool_label(s.inclusive)),
        Cell::text(s.location.label()),
        Cell::text(bool_label(s.central)),
        n(s.capacity),
        Cell::text(&s.address),
        n(f.building_area),
        n(f.sports_area),
        f.equipment_value_fen
            .map(|v| Cell::Text(yuan_text(v)))
            .unwrap_or(Cell::Empty),
        n(f.books),
        n(f.computers),
        n(f.multimedia_rooms),
        n(f.bandwidth_mbps),
        Cell::text(bool_label(f.ipv6)),
        Cell::text(bool_label(f.security_guard)),
        Cell::text(bool_label(f.closed_campus)),
        Cell::text(bool_label(f.alarm_and_video)),
        Cell::text(bool_label(f.guard_post)),
    ]
}

// ---------------------------------------------------------------------------------------------

/// Parses a class row.
pub fn parse_class(get: &Getter<'_>, _ctx: &ParseCtx) -> Result<ClassRecord, Vec<FieldError>> {
    let mut r = RowReader::new(get);
    let school_code = r.required("school_code", SchoolCode::parse);
    let year = r.required("school_year", SchoolYear::parse);
    let grade = r.required("grade", Grade::parse);
    let class_no = r.required("class_no", parse_class_no);
    let name = r.text("name", 50, false);
    let head_teacher = r.optional("head_teacher", IdCardNo::parse);
    let rec = (|| {
        let (grade, class_no) = (grade?, class_no?);
        let name = name?;
        Some(ClassRecord {
            school_code: school_code?,
            year: year?,
            grade,
            class_no,
            name: if name.is_empty() {
                default_class_name(grade, class_no)
            } else {
                name
            },
            head_teacher,
        })
    })();
    r.finish(rec)
}

/// A class as cells in [`Table::Classes`] column order.
pub fn class_cells(c: &ClassRecord) -> Vec<Cell> {
    vec![
        Cell::text(c.school_code.as_str()),
        Cell::text(&c.year.label()),
        Cell::text(c.grade.label()),
        Cell::Int(i64::from(c.class_no)),
        Cell::text(&c.name),
        c.head_teacher
            .as_ref()
            .map(|h| Cell::text(h.as_str()))
            .unwrap_or(Cell::Empty),
    ]
}

// ---------------------------------------------------------------------------------------------

/// Reads 性别 and 出生日期 next to an optional ID number: taken from the ID when left empty,
/// checked against it when given.
fn sex_and_birth(
    r: &mut RowReader<'_, '_>,
    id: Option<&IdCardNo>,
    ctx: &ParseCtx,
) -> (Option<Sex>, Option<NaiveDate>) {
    let id_given = r.given("id_card");
    let sex = r.optional("sex", Sex::parse);
    let birth = r.optional("birth_date", parse_date);
    if let Some(b) = birth
        && b > ctx.today
    {
        r.errs
            .push("birth_date", &b.to_string(), "出生日期晚于今天");
    }
    match id {
        Some(id) => {
            r.errs.0.extend(check_against_id(id, sex, birth));
            if let Err(e) = id.check_not_future(ctx.today) {
                r.errs.push("id_card", &id.masked(), e);
            }
            (
                Some(sex.unwrap_or(id.sex())),
                Some(birth.unwrap_or(id.birth_date())),
            )
        }
        None if id_given => (sex, birth),
        None => {
            if sex.is_none() && r.present("sex").is_none() {
                r.errs.push("sex", "", "没有身份证件号时必须填写性别");
            }
            if birth.is_none() && r.present("birth_date").is_none() {
                r.errs
                    .push("birth_date", "", "没有身份证件号时必须填写出生日期");
            }
            (sex, birth)
        }
    }
}

fn guardian(r: &mut RowReader<'_, '_>, n: usize) -> Option<Guardian> {
    let (kn, kr, kp) = match n {
        1 => ("guardian1_name", "guardian1_relation", "guardian1_phone"),
        _ => ("guardian2_name", "guardian2_relation", "guardian2_phone"),
    };
    let name = r.text(kn, NAME_MAX, false).unwrap_or_default();
    let relation = r.optional(kr, Relation::parse);
    let phone = r.optional(kp, parse_phone);
    if name.is_empty() {
        if r.present(kr).is_some() || r.present(kp).is_some() {
            r.errs
                .push(kn, "", "填写了监护人关系或电话，但没有填写监护人姓名");
        }
        return None;
    }
    match relation {
        Some(relation) => Some(Guardian {
            name,
            relation,
            phone,
        }),
        None => {
            if r.present(kr).is_none() {
                r.errs.push(kr, "", "填写了监护人姓名时，关系必填");
            }
            None
        }
    }
}

/// Parses a student row.
pub fn parse_student(get: &Getter<'_>, ctx: &ParseCtx) -> Result<StudentRecord, Vec<FieldError>> {
    let mut r = RowReader::new(get);
    let school_code = r.required("school_code", SchoolCode::parse);
    let year = r.optional("school_year", SchoolYear::parse);
    let grade = r.optional("grade", Grade::parse);
    let class_no = r.optional("class_no", parse_class_no);
    let any_class = ["school_year", "grade", "class_no"]
        .iter()
        .any(|k| r.present(k).is_some());
    let class = match (year, grade, class_no) {
        (Some(year), Some(grade), Some(class_no)) => Some(ClassRef {
            year,
            grade,
            class_no,
        }),
        _ => {
            if any_class {
                for (k, v) in [
                    ("school_year", year.is_some()),
                    ("grade", grade.is_some()),
                    ("class_no", class_no.is_some()),
                ] {
                    if !v && r.present(k).is_none() {
                        r.errs
                            .push(k, "", "学年、年级、班号须同时填写（都不填表示暂未分班）");
                    }
                }
            }
            None
        }
    };
    let name = r.text("name", NAME_MAX, true);
    let id_card = r.optional("id_card", IdCardNo::parse);
    let id_raw_present = r.given("id_card");
    let student_no = match r.present("student_no") {
        Some(v) => {
            let no = r.errs.take("student_no", v, StudentNo::parse(v));
            // An ID number that was given but is wrong has its own error; otherwise the 学籍号
            // must fit the presence of an ID number (no ID ⇒ J or L), one rule for file, form
            // and API alike.
            if let Some(no) = &no
                && (id_card.is_some() || !id_raw_present)
                && let Err(e) = no.check_id_presence(id_card.as_ref())
            {
                r.errs.push("student_no", v, e);
            }
            no
        }
        None => {
            match &id_card {
                Some(id) => Some(StudentNo::from_id_card(id)),
                None => {
                    if !id_raw_present {
                        r.errs.push("student_no", "", "身份证件号和学籍号不能都为空（无证件号的学生请填 J 或 L 开头的学籍号）");
                    }
                    None
                }
            }
        }
    };
    let (sex, birth) = sex_and_birth(&mut r, id_card.as_ref(), ctx);
    let ethnicity = r.required("ethnicity", Ethnicity::parse);
    let hukou = r.optional("hukou", RegionCode::parse_any);
    let migrant = r.flag("migrant");
    let left_behind = r.flag("left_behind");
    let disability = r.optional("disability", |s| {
        match yimeng_domain::text::normalize(s).as_ref() {
            "无" | "否" => Ok(None),
            _ => Disability::parse(s).map(Some),
        }
    });
    let poor = r.flag("poor");
    let orphan = r.flag("orphan");
    let mut guardians = Vec::new();
    guardians.extend(guardian(&mut r, 1));
    guardians.extend(guardian(&mut r, 2));
    let status = r.optional("status", StudentStatus::parse);
    let entry_date = r.optional("entry_date", parse_date);
    if migrant && left_behind {
        r.errs
            .push("left_behind", "是", "随迁子女与留守儿童不能同时为“是”");
    }
    let rec = (|| {
        Some(StudentRecord {
            school_code: school_code?,
            class,
            name: name?,
            sex: sex?,
            birth_date: birth?,
            id_card,
            student_no: student_no?,
            ethnicity: ethnicity?,
            hukou,
            migrant,
            left_behind,
            disability: disability.flatten(),
            poor,
            orphan,
            guardians,
            status: status.unwrap_or(StudentStatus::Enrolled),
            entry_date,
        })
    })();
    r.finish(rec)
}

/// A student as cells in [`Table::Students`] column order.
pub fn student_cells(s: &StudentRecord) -> Vec<Cell> {
    let g = |i: usize| s.guardians.get(i);
    let opt = |v: Option<String>| v.map(Cell::Text).unwrap_or(Cell::Empty);
    vec![
        Cell::text(s.school_code.as_str()),
        opt(s.class.map(|c| c.year.label())),
        opt(s.class.map(|c| c.grade.label().to_string())),
        s.class
            .map(|c| Cell::Int(i64::from(c.class_no)))
            .unwrap_or(Cell::Empty),
        Cell::text(&s.name),
        Cell::text(s.sex.label()),
        Cell::Date(s.birth_date),
        opt(s.id_card.as_ref().map(|i| i.as_str().to_string())),
        Cell::text(s.student_no.as_str()),
        Cell::text(s.ethnicity.label()),
        opt(s.hukou.map(|h| h.get().to_string())),
        Cell::text(bool_label(s.migrant)),
        Cell::text(bool_label(s.left_behind)),
        opt(s.disability.map(|d| d.label().to_string())),
        Cell::text(bool_label(s.poor)),
        Cell::text(bool_label(s.orphan)),
        opt(g(0).map(|g| g.name.clone())),
        opt(g(0).map(|g| g.relation.label().to_string())),
        opt(g(0).and_then(|g| g.phone.clone())),
        opt(g(1).map(|g| g.name.clone())),
        opt(g(1).map(|g| g.relation.label().to_string())),
        opt(g(1).and_then(|g| g.phone.clone())),
        Cell::text(s.status.label()),
        s.entry_date.map(Cell::Date).unwrap_or(Cell::Empty),
    ]
}

// ---------------------------------------------------------------------------------------------

/// Youngest age at which someone can be on the staff (劳动法: 16).
pub const STAFF_MIN_AGE: i32 = 16;

/// Parses a staff row.
pub fn parse_staff(get: &Getter<'_>, ctx: &ParseCtx) -> Result<StaffRecord, Vec<FieldError>> {
    let mut r = RowReader::new(get);
    let school_code = r.required("school_code", SchoolCode::parse);
    let name = r.text("name", NAME_MAX, true);
    let id_card = r.required("id_card", IdCardNo::parse);
    let (sex, birth) = sex_and_birth(&mut r, id_card.as_ref(), ctx);
    if let Some(b) = birth
        && b <= ctx.today
        && age_on(b, ctx.today) < STAFF_MIN_AGE
    {
        r.errs.push(
            "birth_date",
            &b.to_string(),
            format!("教职工年龄不足 {STAFF_MIN_AGE} 周岁，请核对"),
        );
    }
    let post = r.required("post", Post::parse);
    let subjects = r.optional("subjects", parse_subjects).unwrap_or_default();
    let title = r.optional("title", Title::parse).unwrap_or(Title::None);
    let education = r.required("education", Education::parse);
    let cert_kind = r.optional("cert_kind", CertKind::parse);
    let cert_no = r.optional("cert_no", parse_cert_no);
    let hire_date = r.optional("hire_date", parse_date);
    if let Some(h) = hire_date
        && h > ctx.today
    {
        r.errs.push("hire_date", &h.to_string(), "入职日期晚于今天");
    }
    let hire_source = r.optional("hire_source", HireSource::parse);
    let party_member = r.flag("party_member");
    let backbone = r
        .optional("backbone", Backbone::parse)
        .unwrap_or(Backbone::None);
    let status = r
        .optional("status", StaffStatus::parse)
        .unwrap_or(StaffStatus::Active);
    let phone = r.optional("phone", parse_phone);
    let rec = (|| {
        Some(StaffRecord {
            school_code: school_code?,
            name: name?,
            id_card: id_card?,
            sex: sex?,
            birth_date: birth?,
            post: post?,
            subjects,
            title,
            education: education?,
            cert_kind,
            cert_no,
            hire_date,
            hire_source,
            party_member,
            backbone,
            status,
            phone,
        })
    })();
    r.finish(rec)
}

/// A staff member as cells in [`Table::Staff`] column order.
pub fn staff_cells(s: &StaffRecord) -> Vec<Cell> {
    let opt = |v: Option<String>| v.map(Cell::Text).unwrap_or(Cell::Empty);
    vec![
        Cell::text(s.school_code.as_str()),
        Cell::text(&s.name),
        Cell::text(s.id_card.as_str()),
        Cell::text(s.sex.label()),
        Cell::Date(s.birth_date),
        Cell::text(s.post.label()),
        Cell::text(
            &s.subjects
                .iter()
                .map(|x| x.label())
                .collect::<Vec<_>>()
                .join("、"),
        ),
        Cell::text(s.title.label()),
        Cell::text(s.education.label()),
        opt(s.cert_kind.map(|c| c.label().to_string())),
        opt(s.cert_no.clone()),
        s.hire_date.map(Cell::Date).unwrap_or(Cell::Empty),
        opt(s.hire_source.map(|h| h.label().to_string())),
        Cell::text(bool_label(s.party_member)),
        Cell::text(s.backbone.label()),
        Cell::text(s.status.label()),
        opt(s.phone.clone()),
    ]
}

/// Parsed record of any table.
#[derive(Debug, Clone)]
pub enum AnyRecord {
    /// 学校
    School(SchoolRecord),
    /// 班级
    Class(ClassRecord),
    /// 学生
    Student(Box<StudentRecord>),
    /// 教职工
    Staff(Box<StaffRecord>),
}

/// Parses a file row of `table`, including the row-width check.
pub fn parse_row(
    map: &HeaderMap,
    cells: &csv::StringRecord,
    ctx: &ParseCtx,
) -> Result<AnyRecord, Vec<FieldError>> {
    let get = row_getter(map, cells);
    let r = match map.table {
        Table::Schools => parse_school(&get, ctx).map(AnyRecord::School),
        Table::Classes => parse_class(&get, ctx).map(AnyRecord::Class),
        Table::Students => parse_student(&get, ctx).map(|s| AnyRecord::Student(Box::new(s))),
        Table::Staff => parse_staff(&get, ctx).map(|s| AnyRecord::Staff(Box::new(s))),
    };
    match (check_width(map, cells), r) {
        (None, r) => r,
        (Some(e), Ok(_)) => Err(vec![e]),
        (Some(e), Err(mut errs)) => {
            errs.push(e);
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx() -> ParseCtx {
        ParseCtx {
            today: NaiveDate::from_ymd_opt(2020, 10, 1).unwrap(),
        }
    }

    fn getter<'a>(m: &'a HashMap<&'static str, &'static str>) -> impl Fn(&str) -> &'a str + 'a {
        move |k| m.get(k).copied().unwrap_or("")
    }

    fn student() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("school_code", "2137020001"),
            ("school_year", "2020-2021"),
            ("grade", "一年级"),
            ("class_no", "1"),
            ("name", "张三"),
            ("id_card", "371302201409010015"),
            ("ethnicity", "汉族"),
        ])
    }

    #[test]
    fn a_student_without_sex_birth_and_number_takes_them_from_the_id() {
        let m = student();
        let g = getter(&m);
        let s = parse_student(&g, &ctx()).unwrap();
        assert_eq!(s.student_no.as_str(), "G371302201409010015");
        assert_eq!(s.sex, Sex::Male);
        assert_eq!(s.birth_date, NaiveDate::from_ymd_opt(2014, 9, 1).unwrap());
        assert_eq!(s.status, StudentStatus::Enrolled);
    }

    #[test]
    fn a_student_row_reports_every_problem_at_once() {
        let mut m = student();
        m.insert("id_card", "371302201409010016");
        m.insert("sex", "女");
        m.insert("ethnicity", "火星族");
        m.insert("class_no", "");
        m.insert("guardian1_phone", "123");
        let g = getter(&m);
        let errs = parse_student(&g, &ctx()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert!(fields.contains(&"id_card"), "{errs:?}");
        assert!(fields.contains(&"ethnicity"));
        assert!(fields.contains(&"class_no"));
        assert!(fields.contains(&"guardian1_phone"));
        assert!(fields.contains(&"guardian1_name"));
    }

    #[test]
    fn sex_disagreeing_with_the_id_is_refused() {
        let mut m = student();
        m.insert("sex", "女");
        let g = getter(&m);
        let errs = parse_student(&g, &ctx()).unwrap_err();
        assert_eq!(errs[0].field, "sex");
        assert!(errs[0].reason.contains("不一致"));
    }

    #[test]
    fn a_student_without_an_id_number_cannot_carry_a_g_number() {
        let mut m = student();
        m.remove("id_card");
        m.insert("sex", "男");
        m.insert("birth_date", "2014-09-01");
        m.insert("student_no", "G371302201409010015");
        {
            let g = getter(&m);
            let errs = parse_student(&g, &ctx()).unwrap_err();
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].field, "student_no");
            assert!(errs[0].reason.contains("J 或 L"), "{errs:?}");
        }
        // The J form is what a student without an ID number carries.
        m.insert("student_no", "J371302201409010015");
        let g = getter(&m);
        let s = parse_student(&g, &ctx()).unwrap();
        assert_eq!(s.id_card, None);
        // With an ID number a G number that differs from G+ID is still allowed.
        let mut m = student();
        m.insert("student_no", "G371302201509010012");
        let g = getter(&m);
        assert!(parse_student(&g, &ctx()).is_ok());
    }

    #[test]
    fn an_id_number_typed_as_a_number_is_reported_once() {
        let mut m = student();
        let lost = format!("{NUMBER_LOST_PRECISION}3.713022014090100e17");
        let leaked: &'static str = Box::leak(lost.into_boxed_str());
        m.insert("id_card", leaked);
        let g = getter(&m);
        let errs = parse_student(&g, &ctx()).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "id_card");
    }

    fn file_row(header: &[&str], cells: &[&str]) -> Result<AnyRecord, Vec<FieldError>> {
        let h: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let map = HeaderMap::new(Table::Students, &h).unwrap();
        parse_row(&map, &csv::StringRecord::from(cells.to_vec()), &ctx())
    }

    #[test]
    fn a_row_shorter_than_the_header_is_refused_naming_the_missing_columns() {
        let header = [
            "学校标识码",
            "姓名",
            "身份证件号",
            "民族",
            "学籍状态",
            "入学日期",
        ];
        let short = ["2137020001", "张三", "371302201409010015", "汉族"];
        let errs = file_row(&header, &short).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "row");
        assert!(
            errs[0].reason.contains("“学籍状态”、“入学日期”"),
            "{errs:?}"
        );
        // Empty trailing cells that exist are fine: status defaults to 在读.
        let full = ["2137020001", "张三", "371302201409010015", "汉族", "", ""];
        match file_row(&header, &full).unwrap() {
            AnyRecord::Student(s) => assert_eq!(s.status, StudentStatus::Enrolled),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn money_is_read_in_yuan_and_kept_in_fen() {
        assert_eq!(parse_yuan("1,234.5").unwrap(), 123_450);
        assert_eq!(parse_yuan("12").unwrap(), 1200);
        assert!(parse_yuan("1.234").is_err());
        assert_eq!(yuan_text(123_450), "1234.50");
        assert_eq!(yuan_text(1200), "12");
    }

    #[test]
    fn a_long_number_cell_from_excel_is_explained() {
        let mut m = student();
        let lost = format!("{NUMBER_LOST_PRECISION}3.713022014090100e17");
        let leaked: &'static str = Box::leak(lost.into_boxed_str());
        m.insert("id_card", leaked);
        let g = getter(&m);
        let errs = parse_student(&g, &ctx()).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.field == "id_card" && e.reason.contains("文本")),
            "{errs:?}"
        );
    }
}
