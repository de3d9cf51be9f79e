//! Template structs: one per page, each with the shared [`Ctx`].

use crate::view::{Ctx, Pager};
use askama::Template;
use std::sync::Arc;

/// A self-contained error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub detail: &'a str,
}

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub ctx: Ctx,
    pub username: String,
    pub error: Option<String>,
    /// Where to go after logging in (a path of this site).
    pub next: String,
}

/// City or county dashboard.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: Ctx,
    pub d: Arc<crate::pages::home::Dashboard>,
    pub county: Option<i32>,
}

impl HomePage {
    /// Width of a bar for `n` out of the largest value in `rows`.
    pub fn bar(&self, n: impl crate::view::V<i64>, max: impl crate::view::V<i64>) -> i64 {
        let (n, max) = (n.v(), max.v());
        if max <= 0 {
            0
        } else {
            (n * 160 / max).max(i64::from(n > 0) * 2)
        }
    }
    /// The largest big-class count among the rows.
    pub fn max_big(&self) -> i64 {
        self.d.by_county.iter().map(|r| r.big).max().unwrap_or(0)
    }
}

/// An inspector's home: the assigned schools.
#[derive(Template)]
#[template(path = "inspector.html")]
pub struct InspectorHome {
    pub ctx: Ctx,
    pub schools: Vec<yimeng_store::browse::SchoolListRow>,
}

/// The school list.
#[derive(Template)]
#[template(path = "schools.html")]
pub struct SchoolsPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::browse::SchoolListRow>,
    pub pager: Pager,
    pub q: crate::pages::schools::SchoolQuery,
    pub query: Vec<(String, String)>,
    pub counties: Vec<(i32, String)>,
}

impl SchoolsPage {
    /// Link of a sortable column.
    pub fn sort_link(&self, key: &str) -> String {
        let desc = self.q.sort.as_deref() == Some(key) && !self.q.desc.unwrap_or(false);
        let mut q = self.query.clone();
        q.retain(|(k, _)| k != "desc");
        if desc {
            q.push(("desc".into(), "true".into()));
        }
        Pager::with("/schools", &q, "sort", key)
    }
    /// Link of an export.
    pub fn export_link(&self, format: &str) -> String {
        Pager::with("/schools", &self.query, "format", format)
    }
}

/// A school's page.
#[derive(Template)]
#[template(path = "school.html")]
pub struct SchoolPage {
    pub ctx: Ctx,
    pub d: std::sync::Arc<yimeng_store::browse::SchoolDetail>,
    pub history: Vec<yimeng_store::audit::AuditRow>,
    pub can_edit: bool,
}

impl SchoolPage {
    /// Students of one status code.
    pub fn status_count(&self, code: &str) -> i64 {
        self.d
            .by_status
            .iter()
            .find(|(s, _)| s == code)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
    /// Per-student value of a facility, one decimal.
    pub fn per_student(&self, v: &Option<i64>) -> String {
        match (v, self.d.on_register()) {
            (Some(v), n) if n > 0 => format!("{:.1}", *v as f64 / n as f64),
            _ => "—".into(),
        }
    }
    /// Equipment value in 元 per student.
    pub fn equipment_per_student(&self) -> String {
        match (self.d.school.equipment_value_fen, self.d.on_register()) {
            (Some(v), n) if n > 0 => format!("{:.0}", v as f64 / 100.0 / n as f64),
            _ => "—".into(),
        }
    }
    /// Students per full-time teacher.
    pub fn ratio(&self) -> String {
        self.d
            .students_per_teacher()
            .map(|r| format!("{r:.1}"))
            .unwrap_or_else(|| "—".into())
    }
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
    pub fields: Vec<crate::pages::forms::FormField>,
    pub general: Vec<String>,
    pub section: &'static str,
}

/// The class-size list.
#[derive(Template)]
#[template(path = "classes.html")]
pub struct ClassesPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::browse::ClassSize>,
    pub pager: Pager,
    pub q: crate::pages::classes::ClassQuery,
    pub query: Vec<(String, String)>,
    pub counties: Vec<(i32, String)>,
    pub narrow: bool,
}

impl ClassesPage {
    /// Link of an export.
    pub fn export_link(&self, format: &str) -> String {
        Pager::with("/classes", &self.query, "format", format)
    }
}

/// A class and its roster.
#[derive(Template)]
#[template(path = "class.html")]
pub struct ClassPage {
    pub ctx: Ctx,
    pub class: yimeng_store::browse::ClassSize,
    pub school_name: String,
    pub roster: Vec<yimeng_store::browse::StudentListRow>,
    pub history: Vec<yimeng_store::audit::AuditRow>,
    pub can_edit: bool,
}

/// The student list.
#[derive(Template)]
#[template(path = "students.html")]
pub struct StudentsPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::browse::StudentListRow>,
    pub pager: Pager,
    pub q: crate::pages::students::StudentQuery,
    pub query: Vec<(String, String)>,
    pub counties: Vec<(i32, String)>,
    pub narrow: bool,
    pub context: Option<String>,
}

impl StudentsPage {
    /// Link of an export.
    pub fn export_link(&self, format: &str) -> String {
        Pager::with("/students", &self.query, "format", format)
    }
}

/// A student's record page.
#[derive(Template)]
#[template(path = "student.html")]
pub struct StudentPage {
    pub ctx: Ctx,
    pub d: yimeng_store::browse::StudentDetail,
    pub history: Vec<yimeng_store::audit::AuditRow>,
    pub can_edit: bool,
}

impl StudentPage {
    /// The ID number, in full for roles with the personal-data right, masked otherwise.
    pub fn id_card(&self) -> String {
        match &self.d.student.id_card {
            Some(v) if self.ctx.personal_data() => v.clone(),
            Some(v) => self.ctx.masked(v),
            None => "—".into(),
        }
    }
    /// The 学籍号, likewise.
    pub fn student_no(&self) -> String {
        let v = &self.d.student.student_no;
        if self.ctx.personal_data() {
            v.clone()
        } else {
            self.ctx.masked(v)
        }
    }
    /// A guardian's phone, likewise.
    pub fn phone(&self, p: &Option<String>) -> String {
        match p {
            Some(v) if self.ctx.personal_data() => v.clone(),
            Some(v) if v.len() > 7 => format!("{}****{}", &v[..3], &v[v.len() - 4..]),
            _ => "—".into(),
        }
    }
}

/// The status-change form.
#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    pub ctx: Ctx,
    pub student: yimeng_store::student::StudentRow,
    pub current: yimeng_domain::StudentStatus,
    pub options: Vec<yimeng_domain::StudentStatus>,
    pub error: Option<String>,
    pub reason: String,
}

/// The staff list.
#[derive(Template)]
#[template(path = "staff_list.html")]
pub struct StaffListPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::browse::StaffListRow>,
    pub pager: Pager,
    pub q: crate::pages::staff::StaffQuery,
    pub query: Vec<(String, String)>,
    pub counties: Vec<(i32, String)>,
    pub narrow: bool,
}

impl StaffListPage {
    /// Link of an export.
    pub fn export_link(&self, format: &str) -> String {
        Pager::with("/staff", &self.query, "format", format)
    }
}

/// A staff member's page.
#[derive(Template)]
#[template(path = "staff.html")]
pub struct StaffPage {
    pub ctx: Ctx,
    pub s: yimeng_store::staff::StaffRow,
    pub school_name: String,
    pub history: Vec<yimeng_store::audit::AuditRow>,
    pub can_edit: bool,
}

impl StaffPage {
    /// The ID number, in full for roles with the personal-data right.
    pub fn id_card(&self) -> String {
        if self.ctx.personal_data() {
            self.s.id_card.clone()
        } else {
            self.ctx.masked(&self.s.id_card)
        }
    }
}

/// Search results.
#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub ctx: Ctx,
    pub term: String,
    pub hits: Vec<yimeng_store::browse::Hit>,
}

impl SearchPage {
    /// Hits of one kind.
    pub fn of(&self, kind: &str) -> Vec<&yimeng_store::browse::Hit> {
        self.hits.iter().filter(|h| h.kind == kind).collect()
    }
}

/// The public school directory.
#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::browse::SchoolListRow>,
    pub pager: Pager,
    pub q: crate::pages::public::DirectoryQuery,
    pub counties: Vec<(i32, String)>,
}

/// The import page.
#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub ctx: Ctx,
    pub error: Option<String>,
}

/// The result of a check or an import.
#[derive(Template)]
#[template(path = "import_result.html")]
pub struct ImportResultPage {
    pub ctx: Ctx,
    pub outcome: crate::service::import::ImportOutcome,
    pub summary: String,
    pub token: Option<String>,
    pub can_commit: bool,
    pub table_label: &'static str,
}

/// The account list with the new-account form.
#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub ctx: Ctx,
    pub users: Vec<yimeng_store::user::UserRow>,
    pub form: crate::pages::admin::NewUserForm,
    pub error: Option<String>,
}

/// One account.
#[derive(Template)]
#[template(path = "user.html")]
pub struct UserPage {
    pub ctx: Ctx,
    pub user: yimeng_store::user::UserRow,
    pub schools: Vec<(i64, String, String)>,
    pub password: Option<String>,
}

impl UserPage {
    /// The assigned schools' codes, one per line.
    pub fn codes(&self) -> String {
        self.schools
            .iter()
            .map(|(_, c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The audit log.
#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub ctx: Ctx,
    pub page: yimeng_store::browse::Page<yimeng_store::audit::AuditRow>,
    pub pager: Pager,
    pub q: crate::pages::admin::AuditQuery,
    pub query: Vec<(String, String)>,
}

impl AuditPage {
    /// Link of an export.
    pub fn export_link(&self, format: &str) -> String {
        Pager::with("/admin/audit", &self.query, "format", format)
    }
}

/// My account.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub ctx: Ctx,
    pub account: yimeng_store::user::UserRow,
    pub tokens: Vec<yimeng_store::user::TokenRow>,
    pub error: Option<String>,
    pub new_token: Option<String>,
    pub must: bool,
}
