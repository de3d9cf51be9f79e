//! The locale catalogue: Chinese first, English second. Domain labels come from the code lists
//! (`label()` / `label_en()`); this catalogue holds the interface's own words.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (default)
    #[default]
    Zh,
    /// English
    En,
}

impl Lang {
    /// From a cookie or query value.
    pub fn parse(s: &str) -> Lang {
        if s.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    /// `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// (key, 中文, English)
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "app.name",
        "沂蒙教育治理平台",
        "Yimeng Education Governance",
    ),
    (
        "app.org",
        "临沂市教育局",
        "Linyi Municipal Education Bureau",
    ),
    ("nav.home", "首页", "Home"),
    ("nav.regions", "县区", "Counties"),
    ("nav.plan", "工作要点", "Work plan"),
    ("nav.indicators", "指标监测", "Indicators"),
    ("nav.dispatch", "月调度", "Monthly dispatch"),
    ("nav.schools", "学校", "Schools"),
    ("nav.classes", "班级与班额", "Classes"),
    ("nav.students", "学生学籍", "Students"),
    ("nav.staff", "教职工", "Staff"),
    ("nav.search", "查询", "Search"),
    ("nav.import", "数据导入", "Import"),
    ("nav.users", "账户管理", "Accounts"),
    ("nav.audit", "操作日志", "Audit log"),
    ("nav.account", "我的账户", "My account"),
    ("nav.api", "API 文档", "API docs"),
    ("nav.directory", "学校名录", "School directory"),
    ("nav.logout", "退出", "Log out"),
    ("nav.lang", "English", "中文"),
    ("nav.menu", "菜单", "Menu"),
    // The public home page (`/` for visitors).
    (
        "public.home_title",
        "临沂市教育公共服务",
        "Linyi education public services",
    ),
    (
        "public.home_lead",
        "家长和市民无需登录即可办理下列事项、查询办理进度和学校信息。",
        "Parents and citizens can use these services, follow their requests and look up schools without an account.",
    ),
    ("public.find_school", "查找学校", "Find a school"),
    (
        "public.find_school_hint",
        "学校或幼儿园名称、拼音首字母",
        "School or kindergarten name, or pinyin initials",
    ),
    ("public.staff", "工作人员入口", "For staff"),
    (
        "public.staff_help",
        "市、县区教育局和学校工作人员请登录后办理业务。",
        "Staff of the city bureau, the county bureaus and schools log in to work.",
    ),
    ("public.staff_login", "工作人员登录", "Staff login"),
    (
        "public.directory_help",
        "全市中小学、幼儿园的名称、类型和地址",
        "Names, types and addresses of every school and kindergarten",
    ),
    (
        "public.enrol_help",
        "小学一年级、初中一年级网上报名",
        "Apply online for the first year of primary or junior school",
    ),
    (
        "public.enrol_lookup_help",
        "凭申请号和儿童身份证件号查询审核结果",
        "With the application number and the child's ID number",
    ),
    (
        "public.transfer_help",
        "在临沂市内转学，由转入学校审核",
        "Move to another school in Linyi, reviewed by the receiving school",
    ),
    (
        "public.transfer_in_help",
        "从外市转入临沂市的学校",
        "Move into a Linyi school from outside the city",
    ),
    (
        "public.transfer_out_help",
        "从临沂市转到外市的学校",
        "Move from Linyi to a school outside the city",
    ),
    (
        "public.lookup_help",
        "凭申请号和学生身份证件号查询转学进度",
        "With the request number and the student's ID number",
    ),
    (
        "public.admission_help",
        "凭考生号和身份证件号查询录取学校",
        "With the candidate number and ID number",
    ),
    (
        "public.cutoffs_help",
        "各普通高中的录取最低分",
        "The lowest admitted score of each senior high school",
    ),
    (
        "public.transfer_in",
        "外市转入申请",
        "Transfer in from another city",
    ),
    (
        "public.transfer_out",
        "转出本市申请",
        "Transfer out of Linyi",
    ),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    (
        "login.failed",
        "用户名或密码错误，或账户暂不可用（连续输错密码会暂时锁定账户，停用的账户请联系市局管理员）。",
        "Wrong user name or password, or the account is unavailable (repeated wrong passwords lock it for a while; for a disabled account contact the city administrator).",
    ),
    ("login.submit", "登录", "Log in"),
    (
        "login.public",
        "公众查询：学校名录",
        "Public: school directory",
    ),
    ("common.all", "全部", "All"),
    ("common.filter", "筛选", "Filter"),
    ("common.from", "从", "From"),
    ("pick.choose_county", "请选择县区", "Choose a county"),
    ("pick.stage", "学段", "Stage"),
    ("pick.name", "学校名称", "School name"),
    ("pick.find", "查找学校", "Find schools"),
    (
        "pick.hint",
        "先选择转入学校所在的县区（可再选学段），或输入学校名称的一部分，下面的“转入学校”里就会列出相应的学校。",
        "First choose the county of the receiving school (and the stage), or type a part of its name: the matching schools then appear under \"receiving school\" below.",
    ),
    (
        "pick.found",
        "找到 {} 所学校，请在下面的“转入学校”中选择。",
        "{} schools found; choose one under \"receiving school\" below.",
    ),
    (
        "plan.clock_note",
        "示范数据：平台时钟设在工作要点年度内，进度、期限和月调度按此日评估：",
        "Demo data: the platform clock is set inside the plan's year; progress, deadlines and monthly dispatch are judged at",
    ),
    ("common.to", "到", "To"),
    ("common.city_level", "市级", "City level"),
    ("common.reset", "清除", "Clear"),
    ("common.export", "导出", "Export"),
    (
        "common.export_import_format",
        "导出（导入格式）",
        "Export (import format)",
    ),
    ("common.prev", "上一页", "Previous"),
    ("common.next", "下一页", "Next"),
    ("common.page", "第 {} 页", "Page {}"),
    ("common.total", "共 {} 条", "{} in all"),
    ("common.save", "保存", "Save"),
    ("common.cancel", "取消", "Cancel"),
    ("common.edit", "编辑", "Edit"),
    ("common.new", "新增", "New"),
    ("common.view", "查看", "View"),
    ("common.none", "无", "None"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    (
        "common.search_placeholder",
        "姓名、拼音首字母、身份证件号、学籍号或学校标识码",
        "Name, pinyin initials, ID number, student number or school code",
    ),
    ("common.history", "修改历史", "History"),
    ("common.updated", "数据更新于", "Data as of"),
    (
        "common.narrow",
        "请先选择县区或学校，或输入姓名、证件号搜索（全市学生名单过大，不整表浏览）。",
        "Choose a county or a school, or search by name or number first (the city-wide list is too large to browse).",
    ),
    (
        "common.narrow_export",
        "全市名单过大，不能整表导出：请先选择县区或学校，或输入搜索条件。",
        "The city-wide list is too large for one file: choose a county or a school, or search first.",
    ),
    ("col.county", "县区", "County"),
    ("col.school", "学校", "School"),
    ("col.code", "学校标识码", "School code"),
    ("col.name", "名称", "Name"),
    ("col.person", "姓名", "Name"),
    ("col.type", "学校类别", "Type"),
    ("col.ownership", "办学性质", "Ownership"),
    ("col.location", "城乡分类", "Location"),
    ("col.stages", "学段", "Stages"),
    ("col.students", "在校生", "Students"),
    ("col.classes", "班级", "Classes"),
    ("col.big_classes", "56人以上班级", "Classes of 56+"),
    ("col.staff", "在岗教职工", "Staff"),
    ("col.teachers", "专任教师", "Teachers"),
    ("col.schools", "学校数", "Schools"),
    ("col.grade", "年级", "Grade"),
    ("col.class", "班级", "Class"),
    ("col.class_no", "班号", "No."),
    ("col.size", "班额", "Size"),
    ("col.band", "班额情况", "Size band"),
    ("col.head_teacher", "班主任", "Head teacher"),
    ("col.sex", "性别", "Sex"),
    ("col.birth", "出生日期", "Birth date"),
    ("col.id_card", "身份证件号", "ID number"),
    ("col.student_no", "学籍号", "Student number"),
    ("col.status", "学籍状态", "Status"),
    ("col.flags", "关注情况", "Flags"),
    ("col.post", "岗位", "Post"),
    ("col.subjects", "任教学科", "Subjects"),
    ("col.title", "职称", "Title"),
    ("col.education", "学历", "Education"),
    ("col.staff_status", "任职状态", "Status"),
    ("col.capacity", "核定学位", "Capacity"),
    ("col.share", "占比", "Share"),
    ("col.year", "学年", "School year"),
    ("col.time", "时间", "Time"),
    ("col.actor", "操作人", "Who"),
    ("col.action", "操作", "Action"),
    ("col.entity", "对象", "Record"),
    ("col.summary", "内容", "What"),
    ("col.ip", "来源地址", "From"),
    ("col.role", "角色", "Role"),
    ("col.username", "用户名", "Username"),
    ("col.display_name", "姓名", "Name"),
    ("col.last_login", "最近登录", "Last login"),
    ("col.state", "状态", "State"),
    ("flag.migrant", "随迁子女", "Migrant"),
    ("flag.left_behind", "留守儿童", "Left-behind"),
    ("flag.poor", "建档立卡", "Registered poor"),
    ("flag.orphan", "孤儿", "Orphan"),
    ("flag.disabled", "残疾", "Disabled"),
    ("home.city", "全市概况", "The city at a glance"),
    ("home.county", "本县区概况", "Your county at a glance"),
    ("home.inspector", "我负责督导的学校", "My schools"),
    ("home.by_county", "分县区统计", "By county"),
    ("home.by_type", "分学校类别统计", "By school type"),
    ("home.big", "56人以上大班额", "Classes of 56 or more"),
    (
        "home.big_note",
        "2020年工作要点第18项：年底前实现56人及以上大班额“清零”；第8项：起始年级每班不超过55人。",
        "Plan item 18: no classes of 56+ by the end of 2020; item 8: starting grades at most 55.",
    ),
    ("stat.schools", "学校和幼儿园", "Schools and kindergartens"),
    ("stat.classes", "班级", "Classes"),
    ("stat.students", "在籍学生", "Students on the register"),
    ("stat.staff", "在岗教职工", "Staff"),
    ("stat.big", "56人以上班级", "Classes of 56+"),
    ("school.overview", "基本情况", "Overview"),
    ("school.classes", "班级与班额", "Classes and sizes"),
    ("school.status", "学籍状态", "Student status"),
    ("school.facilities", "办学条件", "Facilities"),
    (
        "school.safety",
        "安全“四个100%”",
        "The four safety measures",
    ),
    ("school.staff", "教职工", "Staff"),
    (
        "school.unplaced",
        "未分班在籍学生",
        "On the register without a class",
    ),
    ("school.ratio", "生师比", "Students per teacher"),
    ("student.record", "学籍档案", "Student record"),
    ("student.guardians", "监护人", "Guardians"),
    ("student.events", "学籍异动", "Status changes"),
    (
        "student.change_status",
        "学籍异动登记",
        "Record a status change",
    ),
    ("student.reason", "异动原因", "Reason"),
    ("student.created_by", "建档来源", "Created by"),
    ("import.title", "数据导入", "Import"),
    ("import.table", "导入内容", "What"),
    (
        "import.file",
        "文件（.xlsx、.xls、.csv）",
        "File (.xlsx, .xls, .csv)",
    ),
    ("import.mode", "导入方式", "Mode"),
    (
        "import.all",
        "全部或全不（推荐）：有一行错误就整表不导入",
        "All or nothing (recommended): one bad row stops the whole file",
    ),
    (
        "import.partial",
        "部分导入：导入正确的行，报告错误的行",
        "Partial: import good rows, report bad ones",
    ),
    (
        "import.check",
        "上传并校验（不写入）",
        "Upload and check (writes nothing)",
    ),
    ("import.commit", "确认导入", "Import now"),
    ("import.template", "下载模板", "Download template"),
    ("import.errors", "错误清单", "Errors"),
    (
        "import.download_errors",
        "下载错误清单（xlsx）",
        "Download the errors (xlsx)",
    ),
    ("account.password", "修改密码", "Change password"),
    ("account.old", "原密码", "Current password"),
    ("account.new", "新密码", "New password"),
    ("account.again", "再次输入新密码", "New password again"),
    ("account.tokens", "API 令牌", "API tokens"),
    ("account.token_name", "令牌名称", "Token name"),
    ("account.create_token", "创建令牌", "Create token"),
    ("account.revoke", "吊销", "Revoke"),
    ("users.new", "新建账户", "New account"),
    ("users.disable", "停用", "Disable"),
    ("users.enable", "启用", "Enable"),
    ("users.reset", "重置密码", "Reset password"),
    ("users.schools", "负责学校", "Assigned schools"),
    // Student-status services (issue 5).
    ("nav.services", "事项清单", "Services"),
    ("nav.transfers", "转学与异动审批", "Transfers and approvals"),
    ("nav.calendar", "工作日历", "Working-day calendar"),
    (
        "svc.catalogue",
        "学籍服务事项清单",
        "Student-status service catalogue",
    ),
    ("svc.calendar", "工作日历", "Working-day calendar"),
    (
        "svc.transfers",
        "转学与学籍异动审批",
        "Transfers and status-change approvals",
    ),
    (
        "svc.new_transfer",
        "发起转学申请（转入学校）",
        "New transfer request (receiving school)",
    ),
    (
        "svc.public_transfer",
        "网上申请转学",
        "Apply for a transfer online",
    ),
    (
        "svc.lookup",
        "办理进度查询",
        "Check the progress of a request",
    ),
    ("nav.enrolment", "入学申请", "Enrolment"),
    (
        "enrol.apply",
        "网上申请入学",
        "Apply for school entry online",
    ),
    (
        "enrol.lookup",
        "入学申请进度查询",
        "Check an enrolment application",
    ),
    ("enrol.review", "入学申请审核", "Enrolment applications"),
    ("enrol.zones", "学区表", "School zones"),
    ("nav.rollover", "学年升级", "Year rollover"),
    // Senior-high unified admission (issue 6).
    ("nav.admission", "中考招生", "Senior-high admission"),
    ("adm.title", "中考统一招生", "Senior-high unified admission"),
    ("adm.new", "新建招生", "New admission round"),
    (
        "adm.lookup",
        "中考录取结果查询",
        "Senior-high admission result",
    ),
    (
        "adm.cutoffs",
        "普通高中录取分数线",
        "Senior-high admission cut-off lines",
    ),
];

/// Audit-log actions as stored, with their labels (Chinese, English); the log's filter lists them
/// in this order. `tests/it/audit.rs` checks that every action the write routes record is here.
pub const AUDIT_ACTIONS: &[(&str, &str, &str)] = &[
    ("create", "新增", "Create"),
    ("update", "修改", "Update"),
    ("delete", "删除", "Delete"),
    ("import", "导入", "Import"),
    ("import_undone", "撤销导入", "Import undone"),
    ("export", "导出", "Export"),
    ("submit", "报送", "Submit"),
    ("approve", "同意", "Approve"),
    ("refuse", "不同意", "Refuse"),
    ("return", "退回", "Return"),
    ("withdraw", "撤回", "Withdraw"),
    ("resubmit", "重新提交", "Resubmit"),
    ("transfer", "转学", "Transfer"),
    ("transfer_in", "转入", "Transfer in"),
    ("transfer_out", "转出", "Transfer out"),
    ("gate_override", "突破班额", "Class-size override"),
    ("attach", "上传附件", "Attach a file"),
    ("snapshot", "指标快照", "Indicator snapshot"),
    ("rollover", "学年升级", "Year rollover"),
    ("login", "登录", "Log in"),
    ("login_failed", "登录失败", "Failed login"),
    ("login_refused", "登录被拒", "Login refused"),
    ("logout", "退出", "Log out"),
    ("disable", "停用账户", "Disable account"),
    ("enable", "启用账户", "Enable account"),
    ("reset_password", "重置密码", "Reset password"),
    ("change_password", "修改密码", "Change password"),
    ("revoke", "吊销令牌", "Revoke token"),
];

/// Audit-log entities (kinds of record) as stored, with their labels.
pub const AUDIT_ENTITIES: &[(&str, &str, &str)] = &[
    ("school", "学校", "School"),
    ("class", "班级", "Class"),
    ("student", "学生", "Student"),
    ("staff", "教职工", "Staff"),
    ("import_batch", "导入批次", "Import batch"),
    ("user", "账户", "Account"),
    ("api_token", "API 令牌", "API token"),
    ("transfer_request", "转学申请", "Transfer request"),
    ("status_request", "学籍异动申请", "Status change request"),
    ("enrolment_application", "入学申请", "Enrolment application"),
    ("school_zone", "学区", "School zone"),
    ("gate_override", "班额突破记录", "Class-size override"),
    ("rollover_run", "学年升级", "Year rollover"),
    ("admission_round", "中考招生", "Admission round"),
    ("plan", "工作要点", "Work plan"),
    ("population", "适龄人口", "Population"),
    ("dispatch_report", "月调度报告", "Monthly dispatch report"),
    ("indicator", "指标", "Indicator"),
    ("indicator_snapshot", "指标快照", "Indicator snapshot"),
    ("half_year", "半年报告", "Half-year report"),
    ("appraisal", "年度考核", "Appraisal"),
    ("service_item", "服务事项", "Service item"),
    ("work_calendar", "工作日历", "Working-day calendar"),
    ("audit_log", "操作日志", "Audit log"),
    ("app_setting", "系统设置", "Setting"),
];

/// The label of a stored audit code (action or entity) in `lang`, when the list has it.
pub fn audit_label(
    list: &[(&str, &'static str, &'static str)],
    lang: Lang,
    code: &str,
) -> Option<&'static str> {
    list.iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| match lang {
            Lang::Zh => *zh,
            Lang::En => *en,
        })
}

static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> = LazyLock::new(|| {
    CATALOGUE
        .iter()
        .map(|(k, zh, en)| (*k, (*zh, *en)))
        .collect()
});

/// The text of `key` in `lang`; an unknown key shows itself (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match INDEX.get(key) {
        Some((zh, en)) => match lang {
            Lang::Zh => zh,
            Lang::En => en,
        },
        None => {
            tracing::warn!(key, "missing i18n key");
            "�"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_has_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in CATALOGUE {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    /// Every key a template or handler asks for exists, so no page shows the missing-key mark.
    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src", "src/pages"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    files.push(p);
                }
            }
        }
        let mut used = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for pat in ["t(\"", "t(lang, \"", "t(self.lang, \""] {
                for part in text.split(pat).skip(1) {
                    let Some(end) = part.find('"') else { continue };
                    let key = &part[..end];
                    if key.contains('.') && !key.contains(' ') {
                        used += 1;
                        assert!(
                            INDEX.contains_key(key),
                            "{}: unknown i18n key {key}",
                            f.display()
                        );
                    }
                }
            }
        }
        assert!(used > 100, "only {used} keys found: the scan is broken");
    }
}
