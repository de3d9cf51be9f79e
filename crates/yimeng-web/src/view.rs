//! What every page shares: the context (language, user, CSRF token, navigation) and the helpers
//! templates call to show codes, numbers, dates and masked ID numbers.

use crate::auth::User;
use crate::i18n::{self, Lang};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use yimeng_domain::Role;

/// A navigation entry.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Link.
    pub href: &'static str,
    /// Catalogue key of its label.
    pub key: &'static str,
    /// Whether the current page is under it.
    pub active: bool,
}

/// A value a template passes by value or by (nested) reference.
pub trait V<T> {
    /// The value.
    fn v(&self) -> T;
}

macro_rules! val {
    ($($t:ty),+) => {$(
        impl V<$t> for $t { fn v(&self) -> $t { *self } }
        impl V<$t> for &$t { fn v(&self) -> $t { **self } }
        impl V<$t> for &&$t { fn v(&self) -> $t { ***self } }
    )+};
}
val!(
    i64,
    i32,
    i16,
    bool,
    NaiveDate,
    DateTime<Utc>,
    yimeng_domain::grade::ClassSizeBand,
    yimeng_domain::Grade
);

impl V<i64> for u64 {
    fn v(&self) -> i64 {
        i64::try_from(*self).unwrap_or(i64::MAX)
    }
}
impl V<i64> for &u64 {
    fn v(&self) -> i64 {
        i64::try_from(**self).unwrap_or(i64::MAX)
    }
}
impl V<i64> for usize {
    fn v(&self) -> i64 {
        i64::try_from(*self).unwrap_or(i64::MAX)
    }
}

/// The context of every page.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Language.
    pub lang: Lang,
    /// Who is logged in: shown name, role label.
    pub who: Option<(String, String)>,
    /// Role, when logged in.
    pub role: Option<Role>,
    /// CSRF token for forms.
    pub csrf: String,
    /// Navigation.
    pub nav: Vec<NavItem>,
    /// A message shown once (after a save, an import …).
    pub flash: Option<String>,
    /// Path of this page (for the language switch to come back to).
    pub path: String,
}

impl Ctx {
    /// The context of a logged-in page.
    pub fn for_user(u: &User, path: &str) -> Ctx {
        let role = u.role();
        let mut items: Vec<(&'static str, &'static str)> = vec![("/", "nav.home")];
        match role {
            Role::Public => {
                items = vec![
                    ("/directory", "nav.directory"),
                    ("/services", "nav.services"),
                ]
            }
            _ => {
                items.push(("/plan", "nav.plan"));
                items.push(("/indicators", "nav.indicators"));
                // Monthly dispatch is county and department business: an inspector's scope is
                // the assigned schools only.
                if role != Role::Inspector {
                    items.push(("/dispatch", "nav.dispatch"));
                }
                items.push(("/schools", "nav.schools"));
                items.push(("/classes", "nav.classes"));
                items.push(("/students", "nav.students"));
                items.push(("/staff", "nav.staff"));
                items.push(("/search", "nav.search"));
                items.push(("/transfers", "nav.transfers"));
                if matches!(role, Role::CityAdmin | Role::County | Role::School) {
                    items.push(("/enrolment", "nav.enrolment"));
                }
                items.push(("/services", "nav.services"));
                if matches!(role, Role::CityAdmin | Role::CityDept) {
                    items.push(("/admission", "nav.admission"));
                }
                if role.can_manage_users() {
                    items.push(("/admin/calendar", "nav.calendar"));
                    items.push(("/admin/rollover", "nav.rollover"));
                }
                if role.can_write_registry() {
                    items.push(("/import", "nav.import"));
                }
                if role.can_manage_users() {
                    items.push(("/admin/users", "nav.users"));
                    items.push(("/admin/audit", "nav.audit"));
                }
                items.push(("/api/docs/", "nav.api"));
            }
        }
        let nav = items
            .into_iter()
            .map(|(href, key)| NavItem {
                href,
                key,
                active: if href == "/" {
                    path == "/"
                } else {
                    path.starts_with(href)
                },
            })
            .collect();
        let who_extra = match (role, u.account.county_id) {
            (Role::County | Role::School | Role::Inspector, Some(c)) => format!(
                "{} · {}",
                role_label(role, u.lang),
                yimeng_domain::RegionCode::from_i32(c).name()
            ),
            _ => role_label(role, u.lang).to_string(),
        };
        Ctx {
            lang: u.lang,
            who: Some((u.account.display_name.clone(), who_extra)),
            role: Some(role),
            csrf: u.csrf.clone().unwrap_or_default(),
            nav,
            flash: None,
            path: path.to_string(),
        }
    }

    /// The context of a page for someone not logged in.
    pub fn anonymous(lang: Lang, path: &str, csrf: String) -> Ctx {
        Ctx {
            lang,
            who: None,
            role: None,
            csrf,
            nav: vec![],
            flash: None,
            path: path.to_string(),
        }
    }

    /// With a one-time message.
    pub fn with_flash(mut self, flash: Option<String>) -> Ctx {
        self.flash = flash;
        self
    }

    /// The label of an audit-log action (the stored code when it has none).
    pub fn audit_action(&self, code: &str) -> String {
        i18n::audit_label(i18n::AUDIT_ACTIONS, self.lang, code)
            .map_or_else(|| code.to_string(), str::to_string)
    }

    /// The label of an audit-log entity (the stored code when it has none).
    pub fn audit_entity(&self, code: &str) -> String {
        i18n::audit_label(i18n::AUDIT_ENTITIES, self.lang, code)
            .map_or_else(|| code.to_string(), str::to_string)
    }

    /// Interface text.
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }
    /// Interface text with one number in it.
    pub fn tn(&self, key: &str, n: impl V<i64>) -> String {
        self.t(key).replace("{}", &num(n.v()))
    }
    /// Whether the page is in English.
    pub fn en(&self) -> bool {
        self.lang == Lang::En
    }
    /// Whether the user's scope holds monthly dispatch reports (not an inspector's schools).
    pub fn reads_dispatch(&self) -> bool {
        self.role
            .is_some_and(|r| !matches!(r, Role::Inspector | Role::Public))
    }
    /// Whether the user may change registry data.
    pub fn can_write(&self) -> bool {
        self.role.is_some_and(|r| r.can_write_registry())
    }
    /// Whether the user may create schools.
    pub fn can_create_schools(&self) -> bool {
        self.role.is_some_and(|r| r.can_create_schools())
    }
    /// Whether the user sees unmasked ID numbers on a record's own page.
    pub fn personal_data(&self) -> bool {
        self.role.is_some_and(|r| r.has_personal_data_right())
    }

    /// A whole number with thousands separators.
    pub fn num(&self, n: impl V<i64>) -> String {
        num(n.v())
    }
    /// A share as a percentage with one decimal.
    pub fn pct(&self, part: impl V<i64>, whole: impl V<i64>) -> String {
        let (part, whole) = (part.v(), whole.v());
        if whole == 0 {
            "—".into()
        } else {
            format!("{:.1}%", part as f64 * 100.0 / whole as f64)
        }
    }
    /// A date.
    pub fn date(&self, d: impl V<NaiveDate>) -> String {
        d.v().format("%Y-%m-%d").to_string()
    }
    /// An optional date.
    pub fn odate(&self, d: &Option<NaiveDate>) -> String {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into())
    }
    /// A time, in Asia/Shanghai.
    pub fn time(&self, t: impl V<DateTime<Utc>>) -> String {
        shanghai(&t.v())
    }
    /// An optional time.
    pub fn otime(&self, t: &Option<DateTime<Utc>>) -> String {
        t.as_ref().map(shanghai).unwrap_or_else(|| "—".into())
    }
    /// An optional text.
    pub fn or_dash<'a>(&self, s: &'a Option<String>) -> &'a str {
        s.as_deref().filter(|s| !s.is_empty()).unwrap_or("—")
    }
    /// An ID-like number, masked (3713**********123X).
    pub fn masked(&self, s: &str) -> String {
        yimeng_domain::idcard::mask(s)
    }
    /// An optional ID number, masked.
    pub fn omasked(&self, s: &Option<String>) -> String {
        s.as_deref()
            .map(yimeng_domain::idcard::mask)
            .unwrap_or_else(|| "—".into())
    }
    /// 是/否 (Yes/No).
    pub fn yes_no(&self, b: impl V<bool>) -> &'static str {
        self.t(if b.v() { "common.yes" } else { "common.no" })
    }
    /// A county's name.
    pub fn county(&self, code: impl V<i32>) -> String {
        let c = yimeng_domain::RegionCode::from_i32(code.v());
        match (self.lang, c.linyi_unit()) {
            (Lang::En, Some(u)) => u.name_en.to_string(),
            _ => c.name(),
        }
    }
    /// Sex.
    pub fn sex(&self, code: impl V<i16>) -> &'static str {
        yimeng_domain::Sex::from_code(code.v())
            .map(|s| if self.en() { s.label_en() } else { s.label() })
            .unwrap_or("—")
    }
    /// Stages from their codes.
    pub fn stages(&self, codes: &str) -> String {
        yimeng_domain::StageSet::from_codes(codes)
            .iter()
            .map(|s| if self.en() { s.label_en() } else { s.label() })
            .collect::<Vec<_>>()
            .join(if self.en() { ", " } else { "、" })
    }
    /// Subjects from their codes.
    pub fn subjects(&self, codes: &str) -> String {
        let v: Vec<&str> = yimeng_domain::staff::subjects_from_codes(codes)
            .iter()
            .map(|s| if self.en() { s.label_en() } else { s.label() })
            .collect();
        if v.is_empty() {
            "—".into()
        } else {
            v.join(if self.en() { ", " } else { "、" })
        }
    }
    /// A grade's name from its code.
    pub fn grade(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::Grade>(code, self.lang)
    }
    /// Student status.
    pub fn status(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::StudentStatus>(code, self.lang)
    }
    /// School type.
    pub fn school_type(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::SchoolType>(code, self.lang)
    }
    /// Ownership.
    pub fn ownership(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::Ownership>(code, self.lang)
    }
    /// Location class.
    pub fn location(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::LocationClass>(code, self.lang)
    }
    /// Staff post.
    pub fn post(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::staff::Post>(code, self.lang)
    }
    /// Title.
    pub fn title(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::staff::Title>(code, self.lang)
    }
    /// Education.
    pub fn education(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::staff::Education>(code, self.lang)
    }
    /// Staff status.
    pub fn staff_status(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::staff::StaffStatus>(code, self.lang)
    }
    /// Ethnicity.
    pub fn ethnicity(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::student::Ethnicity>(code, self.lang)
    }
    /// Guardian relation.
    pub fn relation(&self, code: &Option<String>) -> &'static str {
        code.as_deref()
            .map(|c| label_of::<yimeng_domain::student::Relation>(c, self.lang))
            .unwrap_or("—")
    }
    /// Disability category.
    pub fn disability(&self, code: &Option<String>) -> &'static str {
        code.as_deref()
            .map(|c| label_of::<yimeng_domain::student::Disability>(c, self.lang))
            .unwrap_or_else(|| self.t("common.none"))
    }
    /// Hiring source.
    pub fn hire_source(&self, code: &Option<String>) -> &'static str {
        code.as_deref()
            .map(|c| label_of::<yimeng_domain::staff::HireSource>(c, self.lang))
            .unwrap_or("—")
    }
    /// Backbone level.
    pub fn backbone(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::staff::Backbone>(code, self.lang)
    }
    /// Teacher certificate kind.
    pub fn cert_kind(&self, code: &Option<String>) -> &'static str {
        code.as_deref()
            .map(|c| label_of::<yimeng_domain::staff::CertKind>(c, self.lang))
            .unwrap_or("—")
    }
    /// Role.
    pub fn role_name(&self, code: &str) -> &'static str {
        label_of::<Role>(code, self.lang)
    }
    /// Student-status change type.
    pub fn change_type(&self, code: &str) -> &'static str {
        label_of::<yimeng_domain::student::ChangeType>(code, self.lang)
    }
    /// A starting-grade class above the plan's cap of 55.
    pub fn over_cap(&self, grade: impl V<yimeng_domain::Grade>, size: impl V<i64>) -> bool {
        yimeng_domain::grade::breaks_starting_grade_cap(grade.v(), size.v())
    }
    /// A class-size band's label and CSS class.
    pub fn band(
        &self,
        band: impl V<yimeng_domain::grade::ClassSizeBand>,
    ) -> (&'static str, &'static str) {
        use yimeng_domain::grade::ClassSizeBand::*;
        let band = band.v();
        let label = match (band, self.en()) {
            (Standard, false) => "达标",
            (OverStandard, false) => "超标准",
            (Big, false) => "大班额",
            (Huge, false) => "超大班额",
            (Standard, true) => "Within standard",
            (OverStandard, true) => "Above standard",
            (Big, true) => "56–65",
            (Huge, true) => "66+",
        };
        let css = match band {
            Standard => "ok",
            OverStandard => "warn",
            Big | Huge => "bad",
        };
        (label, css)
    }
}

/// Anything with code-list labels.
pub trait Labelled: Sized + Copy + 'static {
    /// From a stored code.
    fn from_code_str(code: &str) -> Option<Self>;
    /// Chinese label.
    fn zh(self) -> &'static str;
    /// English label.
    fn en(self) -> &'static str;
}

macro_rules! labelled {
    ($($t:ty),+) => {$(
        impl Labelled for $t {
            fn from_code_str(code: &str) -> Option<Self> { <$t>::from_code(code) }
            fn zh(self) -> &'static str { self.label() }
            fn en(self) -> &'static str { self.label_en() }
        }
    )+};
}
labelled!(
    yimeng_domain::Grade,
    yimeng_domain::StudentStatus,
    yimeng_domain::SchoolType,
    yimeng_domain::Ownership,
    yimeng_domain::LocationClass,
    yimeng_domain::Stage,
    yimeng_domain::staff::Post,
    yimeng_domain::staff::Title,
    yimeng_domain::staff::Education,
    yimeng_domain::staff::StaffStatus,
    yimeng_domain::staff::HireSource,
    yimeng_domain::staff::Backbone,
    yimeng_domain::staff::CertKind,
    yimeng_domain::student::Ethnicity,
    yimeng_domain::student::Relation,
    yimeng_domain::student::Disability,
    yimeng_domain::student::ChangeType,
    Role
);

/// The label of a stored code in a language ("—" for an unknown code).
pub fn label_of<T: Labelled>(code: &str, lang: Lang) -> &'static str {
    T::from_code_str(code)
        .map(|v| if lang == Lang::En { v.en() } else { v.zh() })
        .unwrap_or("—")
}

fn role_label(r: Role, lang: Lang) -> &'static str {
    if lang == Lang::En {
        r.label_en()
    } else {
        r.label()
    }
}

/// Thousands separators.
pub fn num(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The length of a bar for `value` in a chart whose longest bar (`full` long) is `max`: in
/// proportion, and at least 2 when the value is above zero (so it shows).
pub fn bar_length(value: f64, max: f64, full: i64) -> i64 {
    if max <= 0.0 || value <= 0.0 {
        0
    } else {
        ((value / max * full as f64).round() as i64).clamp(2, full)
    }
}

/// A time in Asia/Shanghai (UTC+8).
pub fn shanghai(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A self-contained error page (no user context is needed to show it).
pub fn error_page(status: u16, title: &str, detail: &str) -> String {
    use askama::Template;
    ErrorPage {
        status,
        title,
        detail,
    }
    .render()
    .unwrap_or_else(|_| format!("{status} {title}"))
}

/// Links of a paged list, keeping the other query parameters.
#[derive(Debug, Clone)]
pub struct Pager {
    /// Previous page link.
    pub prev: Option<String>,
    /// Next page link.
    pub next: Option<String>,
    /// "第 n 页 / 共 m 条".
    pub label: String,
}

impl Pager {
    /// Builds the links from the current query pairs.
    pub fn new<T>(
        ctx: &Ctx,
        path: &str,
        query: &[(String, String)],
        page: &yimeng_store::browse::Page<T>,
    ) -> Pager {
        let link = |p: i64| {
            let mut q: Vec<(String, String)> =
                query.iter().filter(|(k, _)| k != "page").cloned().collect();
            q.push(("page".into(), p.to_string()));
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        };
        let mut label = ctx.tn("common.page", page.page);
        if let Some(t) = page.total {
            label.push_str(" · ");
            label.push_str(&ctx.tn("common.total", t));
        }
        Pager {
            prev: (page.page > 1).then(|| link(page.page - 1)),
            next: page.has_next.then(|| link(page.page + 1)),
            label,
        }
    }
    /// A link to the same list with one parameter changed (for sortable headers and exports).
    pub fn with(path: &str, query: &[(String, String)], key: &str, value: &str) -> String {
        let mut q: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != key && k != "page")
            .cloned()
            .collect();
        q.push((key.into(), value.into()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

/// A self-contained error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub detail: &'a str,
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_follow_the_value_they_are_labelled_with() {
        // Shares of three counties: the one with the most big classes has the smallest share.
        let shares = [(30.0_f64, 1000.0_f64), (12.0, 100.0), (5.0, 50.0)];
        let s: Vec<f64> = shares.iter().map(|(b, g)| b / g).collect();
        let max = s.iter().copied().fold(0.0, f64::max);
        let lens: Vec<i64> = s.iter().map(|v| super::bar_length(*v, max, 160)).collect();
        assert_eq!(lens, vec![40, 160, 133]);
        assert_eq!(super::bar_length(0.0, max, 160), 0);
        assert_eq!(super::bar_length(0.0001, max, 160), 2);
        assert_eq!(super::bar_length(1.0, 0.0, 160), 0);
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(super::num(1794524), "1,794,524");
        assert_eq!(super::num(-1000), "-1,000");
        assert_eq!(super::num(12), "12");
    }
}
