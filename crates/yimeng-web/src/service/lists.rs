//! The registry lists as files: what `GET /schools`, `/classes`, `/staff`, `/students` and
//! `/admin/audit` give with `?format=xlsx|csv`, and what their `/api/v1` lists give with the same
//! `format`. One function per list — the role check, the columns (in the caller's language, as
//! the page shows them), ID numbers masked for roles without the personal-data right, the refusal
//! of a list too broad to export, the row limit, the audit row — so the page and the API send the
//! same file for the same filter and user.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use crate::kit::export::{Download, rows_file};
use crate::view::Ctx;
use axum::response::Response;
use yimeng_domain::Scope;
use yimeng_io::{Cell, FileFormat};
use yimeng_store::browse::{
    self, AuditFilter, ClassFilter, SchoolFilter, StaffFilter, StudentFilter,
};

/// Rows of a schools export at most.
pub const SCHOOLS_LIMIT: i64 = 100_000;
/// Rows of a classes export at most.
pub const CLASSES_LIMIT: i64 = 1_000_000;
/// Rows of a staff export at most.
pub const STAFF_LIMIT: i64 = 1_000_000;
/// Rows of a students export at most.
pub const STUDENTS_LIMIT: i64 = 1_000_000;
/// Rows of an audit log export at most.
pub const AUDIT_LIMIT: i64 = 200_000;

fn searched(q: &Option<String>) -> bool {
    q.as_deref().is_some_and(|q| !q.trim().is_empty())
}

/// Whether the class list is narrow enough to count and export: the whole city's classes are
/// counted only when asked for a size threshold, a county or a school.
pub fn classes_are_narrow(scope: &Scope, f: &ClassFilter) -> bool {
    scope.counties().len() <= 1 || f.county.is_some() || f.school.is_some() || f.min_size.is_some()
}

/// Whether the staff list is narrow enough to show and export: one county, a school or a search.
pub fn staff_is_narrow(scope: &Scope, f: &StaffFilter) -> bool {
    scope.counties().len() <= 1 || f.county.is_some() || f.school.is_some() || searched(&f.q)
}

/// The refusal of an export of a list too broad for one file.
fn too_broad(ctx: &Ctx) -> Failure {
    Failure::BadRequest(ctx.t("common.narrow_export").to_string())
}

/// 学校名单: the schools in the user's scope matching `f`, sorted by `sort` (`desc` reversed),
/// with their counts.
pub async fn schools(
    state: &AppState,
    u: &User,
    f: &SchoolFilter,
    sort: &str,
    desc: bool,
    format: FileFormat,
) -> Result<Response, Failure> {
    u.require_staff()?;
    let all = browse::schools(
        &state.db,
        &u.scope,
        &state.rules,
        f,
        browse::SchoolOrder { key: sort, desc },
        1,
        SCHOOLS_LIMIT,
    )
    .await?;
    let ctx = Ctx::for_user(u, "/schools");
    let headers = [
        "县区",
        "学校标识码",
        "学校名称",
        "学校类别",
        "办学性质",
        "城乡分类",
        "学段",
        "在校生",
        "班级",
        "56人以上班级",
        "在岗教职工",
        "核定学位",
        "地址",
    ];
    let rows = all.items.iter().map(|s| {
        vec![
            Cell::Text(ctx.county(s.county_id)),
            Cell::text(&s.code),
            Cell::text(&s.name),
            Cell::text(ctx.school_type(&s.school_type)),
            Cell::text(ctx.ownership(&s.ownership)),
            Cell::text(ctx.location(&s.location)),
            Cell::Text(ctx.stages(&s.stages)),
            Cell::Int(s.students),
            Cell::Int(s.classes),
            Cell::Int(s.big_classes),
            Cell::Int(s.staff),
            s.capacity.map(Cell::Int).unwrap_or(Cell::Empty),
            Cell::text(&s.address),
        ]
    });
    rows_file(state, u, "学校名单", &headers, rows, format, "school").await
}

/// 班级与班额: the classes in the user's scope matching `f` with their sizes (refused when the
/// list is not narrow: [`classes_are_narrow`]).
pub async fn classes(
    state: &AppState,
    u: &User,
    f: &ClassFilter,
    format: FileFormat,
) -> Result<Response, Failure> {
    u.require_staff()?;
    let ctx = Ctx::for_user(u, "/classes");
    if !classes_are_narrow(&u.scope, f) {
        return Err(too_broad(&ctx));
    }
    let all = browse::classes(&state.db, &u.scope, &state.rules, f, 1, CLASSES_LIMIT).await?;
    let headers = [
        "县区",
        "学校",
        "学年",
        "年级",
        "班级",
        "班主任",
        "班额",
        "班额情况",
    ];
    let rows = all.items.iter().map(|c| {
        vec![
            Cell::Text(ctx.county(c.county_id)),
            Cell::text(&c.school_name),
            Cell::Text(format!("{}-{}", c.school_year, c.school_year + 1)),
            Cell::text(ctx.grade(&c.grade)),
            Cell::text(&c.name),
            Cell::Text(ctx.or_dash(&c.head_teacher_name).to_string()),
            Cell::Int(c.size),
            Cell::text(ctx.band(c.band()).0),
        ]
    });
    rows_file(state, u, "班级与班额", &headers, rows, format, "class").await
}

/// 教职工名单: the staff in the user's scope matching `f` (refused when the list is not narrow:
/// [`staff_is_narrow`]); ID numbers in full only for roles with the personal-data right.
pub async fn staff(
    state: &AppState,
    u: &User,
    f: &StaffFilter,
    format: FileFormat,
) -> Result<Response, Failure> {
    u.require_staff()?;
    let ctx = Ctx::for_user(u, "/staff");
    if !staff_is_narrow(&u.scope, f) {
        return Err(too_broad(&ctx));
    }
    let all = browse::staff(&state.db, &u.scope, f, 1, STAFF_LIMIT).await?;
    let full = u.role().has_personal_data_right();
    let headers = [
        "县区",
        "学校",
        "姓名",
        "性别",
        "出生日期",
        "身份证件号",
        "岗位类别",
        "任教学科",
        "职称",
        "最高学历",
        "任职状态",
    ];
    let rows = all.items.iter().map(|s| {
        vec![
            Cell::Text(ctx.county(s.county_id)),
            Cell::text(&s.school_name),
            Cell::text(&s.name),
            Cell::text(ctx.sex(s.sex)),
            Cell::Date(s.birth_date),
            Cell::Text(if full {
                s.id_card.clone()
            } else {
                ctx.masked(&s.id_card)
            }),
            Cell::text(ctx.post(&s.post)),
            Cell::Text(ctx.subjects(&s.subjects)),
            Cell::text(ctx.title(&s.title)),
            Cell::text(ctx.education(&s.education)),
            Cell::text(ctx.staff_status(&s.status)),
        ]
    });
    rows_file(state, u, "教职工名单", &headers, rows, format, "staff").await
}

/// 学生名单: the students in the user's scope matching `f` (refused unless the filter is narrow,
/// `StudentFilter::is_narrow`); ID numbers and 学籍号 in full only for roles with the
/// personal-data right. One query read as it comes, each row written straight into the file (no
/// paging, no list of all rows in memory).
pub async fn students(
    state: &AppState,
    u: &User,
    f: &StudentFilter,
    format: FileFormat,
) -> Result<Response, Failure> {
    u.require_staff()?;
    let ctx = Ctx::for_user(u, "/students");
    if !f.is_narrow(&u.scope) {
        return Err(too_broad(&ctx));
    }
    let full = u.role().has_personal_data_right();
    let headers = [
        "县区",
        "学校",
        "班级",
        "姓名",
        "性别",
        "出生日期",
        "身份证件号",
        "学籍号",
        "学籍状态",
        "随迁子女",
        "留守儿童",
        "建档立卡",
        "孤儿",
        "残疾类别",
    ];
    let mut out = Download::new("学生名单", &headers, format)?;
    let mut failed = None;
    let read = browse::students_each(&state.db, &u.scope, f, STUDENTS_LIMIT, |s| {
        let id = |v: &str| if full { v.to_string() } else { ctx.masked(v) };
        let row = [
            Cell::Text(ctx.county(s.county_id)),
            Cell::Text(s.school_name),
            Cell::Text(s.class_name.unwrap_or_default()),
            Cell::Text(s.name),
            Cell::text(ctx.sex(s.sex)),
            Cell::Date(s.birth_date),
            Cell::Text(s.id_card.as_deref().map(id).unwrap_or_default()),
            Cell::Text(id(&s.student_no)),
            Cell::text(ctx.status(&s.status)),
            Cell::text(ctx.yes_no(s.migrant)),
            Cell::text(ctx.yes_no(s.left_behind)),
            Cell::text(ctx.yes_no(s.poor)),
            Cell::text(ctx.yes_no(s.orphan)),
            Cell::text(ctx.disability(&s.disability)),
        ];
        out.write_row(&row).map_err(|e| {
            failed = Some(e);
            yimeng_store::StoreError::Invalid("导出中断".into())
        })
    })
    .await;
    if let Some(e) = failed {
        return Err(e);
    }
    read?;
    out.send(state, u, "student").await
}

/// 操作日志: the audit log rows matching `f` (the city administrator).
pub async fn audit(
    state: &AppState,
    u: &User,
    f: &AuditFilter,
    format: FileFormat,
) -> Result<Response, Failure> {
    if !u.role().can_read_audit() {
        return Err(Failure::Forbidden("只有市局管理员可以查看操作日志".into()));
    }
    let all = browse::audit(&state.db, f, 1, AUDIT_LIMIT).await?;
    let ctx = Ctx::for_user(u, "/admin/audit");
    let headers = [
        "时间",
        "县区",
        "操作人",
        "角色",
        "来源地址",
        "操作",
        "对象",
        "记录号",
        "内容",
        "修改前",
        "修改后",
    ];
    let rows = all.items.iter().map(|a| {
        vec![
            Cell::Text(ctx.time(a.at)),
            Cell::Text(ctx.county(a.county_id)),
            Cell::text(&a.actor),
            Cell::text(&a.actor_role),
            Cell::Text(a.ip.clone().unwrap_or_default()),
            Cell::Text(ctx.audit_action(&a.action)),
            Cell::Text(ctx.audit_entity(&a.entity)),
            a.entity_id.map(Cell::Int).unwrap_or(Cell::Empty),
            Cell::text(&a.summary),
            Cell::Text(a.before_json.clone().unwrap_or_default()),
            Cell::Text(a.after_json.clone().unwrap_or_default()),
        ]
    });
    rows_file(state, u, "操作日志", &headers, rows, format, "audit_log").await
}
