//! Record forms built from the import schema: the same columns, the same Chinese headers, the same
//! parsing and the same error messages as a file row — a form is a one-row import.

use crate::auth::User;
use crate::error::Failure;
use crate::view::Ctx;
use askama::Template;
use std::collections::HashMap;
use yimeng_domain::FieldError;
use yimeng_io::{Cell, Table};

/// How a field is entered.
#[derive(Debug, Clone)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A date.
    Date,
    /// A whole number.
    Number,
    /// One of these (value, shown text).
    Select(Vec<(String, String)>),
}

/// One field of a form.
#[derive(Debug, Clone)]
pub struct FormField {
    /// Field key.
    pub key: &'static str,
    /// Chinese header.
    pub label: &'static str,
    /// What to enter.
    pub help: &'static str,
    /// Required.
    pub required: bool,
    /// Input kind.
    pub kind: FieldKind,
    /// Current value.
    pub value: String,
    /// Problem with it.
    pub error: Option<String>,
    /// Shown but not changeable.
    pub readonly: bool,
}

impl FormField {
    /// Whether `opt` is the current value of a select.
    pub fn selected(&self, opt: &str) -> bool {
        self.value == opt
    }
    /// HTML input type.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            FieldKind::Date => "date",
            FieldKind::Number => "number",
            _ => "text",
        }
    }
    /// Options of a select.
    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            FieldKind::Select(o) => o,
            _ => &[],
        }
    }
    /// Whether a select lacks the current value among its options (an old or odd value).
    pub fn value_missing(&self) -> bool {
        !self.value.is_empty() && !self.options().iter().any(|(v, _)| *v == self.value)
    }
    /// Whether it is a select.
    pub fn is_select(&self) -> bool {
        matches!(self.kind, FieldKind::Select(_))
    }
}

fn labels<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|x| (f(*x).to_string(), f(*x).to_string()))
        .collect()
}

fn plain(v: Vec<&str>) -> Vec<(String, String)> {
    v.into_iter()
        .map(|s| (s.to_string(), s.to_string()))
        .collect()
}

fn kind_of(table: Table, key: &str, schools: &[(String, String)]) -> FieldKind {
    use yimeng_domain::staff::*;
    use yimeng_domain::student::*;
    use yimeng_domain::*;
    let yes_no = || FieldKind::Select(plain(vec!["否", "是"]));
    let opt = |mut v: Vec<(String, String)>| {
        v.insert(0, (String::new(), "—".into()));
        FieldKind::Select(v)
    };
    match (table, key) {
        (_, "school_code") if !schools.is_empty() => FieldKind::Select(
            schools
                .iter()
                .map(|(c, n)| (c.clone(), format!("{c} {n}")))
                .collect(),
        ),
        (_, "birth_date" | "entry_date" | "hire_date") => FieldKind::Date,
        (_, "sex") => opt(plain(vec!["男", "女"])),
        (_, "grade") => opt(labels(Grade::ALL, |g| g.label())),
        (
            _,
            "class_no" | "capacity" | "building_area" | "sports_area" | "books" | "computers"
            | "multimedia_rooms" | "bandwidth_mbps",
        ) => FieldKind::Number,
        (Table::Schools, "county") => FieldKind::Select(plain(
            yimeng_domain::region::LINYI_UNITS
                .iter()
                .map(|u| u.name)
                .collect(),
        )),
        (Table::Schools, "school_type") => {
            FieldKind::Select(labels(SchoolType::ALL, |t| t.label()))
        }
        (Table::Schools, "ownership") => FieldKind::Select(labels(Ownership::ALL, |t| t.label())),
        (Table::Schools, "location") => {
            FieldKind::Select(labels(LocationClass::ALL, |t| t.label()))
        }
        (
            Table::Schools,
            "inclusive" | "central" | "ipv6" | "security_guard" | "closed_campus"
            | "alarm_and_video" | "guard_post",
        ) => yes_no(),
        (Table::Students, "migrant" | "left_behind" | "poor" | "orphan") => yes_no(),
        (Table::Students, "ethnicity") => FieldKind::Select(labels(Ethnicity::ALL, |t| t.label())),
        (Table::Students, "status") => FieldKind::Select(labels(StudentStatus::ALL, |t| t.label())),
        (Table::Students, "disability") => opt(labels(Disability::ALL, |t| t.label())),
        (Table::Students, "guardian1_relation" | "guardian2_relation") => {
            opt(labels(Relation::ALL, |t| t.label()))
        }
        (Table::Staff, "post") => FieldKind::Select(labels(Post::ALL, |t| t.label())),
        (Table::Staff, "title") => FieldKind::Select(labels(Title::ALL, |t| t.label())),
        (Table::Staff, "education") => FieldKind::Select(labels(Education::ALL, |t| t.label())),
        (Table::Staff, "cert_kind") => opt(labels(CertKind::ALL, |t| t.label())),
        (Table::Staff, "hire_source") => opt(labels(HireSource::ALL, |t| t.label())),
        (Table::Staff, "backbone") => FieldKind::Select(labels(Backbone::ALL, |t| t.label())),
        (Table::Staff, "status") => FieldKind::Select(labels(StaffStatus::ALL, |t| t.label())),
        (Table::Staff, "party_member") => yes_no(),
        _ => FieldKind::Text,
    }
}

/// The fields of a table's form with values and errors. `schools` offers the schools in scope as
/// a choice (code, name); `readonly` keys are shown but not changeable.
pub fn fields(
    table: Table,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    readonly: &[&str],
    schools: &[(String, String)],
) -> Vec<FormField> {
    table
        .columns()
        .iter()
        .map(|c| FormField {
            key: c.key,
            label: c.header,
            help: c.help,
            required: c.required,
            kind: kind_of(table, c.key, schools),
            value: values.get(c.key).cloned().unwrap_or_default(),
            error: {
                let e: Vec<&str> = errors
                    .iter()
                    .filter(|e| e.field == c.key)
                    .map(|e| e.reason.as_str())
                    .collect();
                (!e.is_empty()).then(|| e.join("；"))
            },
            readonly: readonly.contains(&c.key),
        })
        .collect()
}

/// Errors that belong to no field of the form (shown at the top).
pub fn general_errors(table: Table, errors: &[FieldError]) -> Vec<String> {
    errors
        .iter()
        .filter(|e| !table.columns().iter().any(|c| c.key == e.field))
        .map(|e| {
            if e.value.is_empty() {
                e.reason.clone()
            } else {
                format!("{}（{}）", e.reason, e.value)
            }
        })
        .collect()
}

/// Field values from a record's cells (in column order), as a form shows them.
pub fn values_from_cells(table: Table, cells: Vec<Cell>) -> HashMap<String, String> {
    table
        .columns()
        .iter()
        .zip(cells)
        .map(|(c, v)| {
            let s = match v {
                Cell::Text(s) => s,
                Cell::Int(i) => i.to_string(),
                Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
                Cell::Empty => String::new(),
            };
            (c.key.to_string(), s)
        })
        .collect()
}

/// A submitted form: checks its CSRF token and returns the field values.
pub fn submitted(
    u: &User,
    mut form: HashMap<String, String>,
) -> Result<HashMap<String, String>, Failure> {
    let token = form.remove("_csrf");
    u.check_csrf(token.as_deref())?;
    Ok(form)
}

/// Today, for parsing.
pub fn ctx() -> yimeng_io::records::ParseCtx {
    yimeng_io::records::ParseCtx {
        today: crate::service::today(),
    }
}

/// The schools in scope as choices (code, name), when few enough for a list.
pub async fn school_choices(
    state: &crate::app::AppState,
    u: &User,
) -> Result<Vec<(String, String)>, Failure> {
    let briefs = yimeng_store::school::briefs(&state.db, &u.scope).await?;
    if briefs.len() > 1500 {
        return Ok(vec![]);
    }
    Ok(briefs.into_iter().map(|b| (b.code, b.name)).collect())
}

impl FormPage {
    /// Whether any field has a problem.
    pub fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }
}

/// A record form (schools, classes, students, staff).
#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub title: String,
    pub action: String,
    pub cancel: String,
    pub fields: Vec<FormField>,
    pub general: Vec<String>,
    pub section: &'static str,
}
