//! Staff (教职工): posts, professional titles (职称), education, teacher certificates, hiring
//! sources, backbone levels and the staff record.

use crate::code_list;
use crate::{IdCardNo, SchoolCode, Sex};
use chrono::NaiveDate;
use serde::Serialize;

code_list! {
    /// 岗位类别 (post).
    pub enum Post: "岗位类别" {
        /// 专任教师 (full-time teacher)
        Teacher = "teacher", "专任教师", "Full-time teacher", "教师";
        /// 行政人员
        Admin = "admin", "行政人员", "Administrative", "行政";
        /// 教辅人员
        Support = "support", "教辅人员", "Teaching support", "教辅";
        /// 工勤人员
        Service = "service", "工勤人员", "Service", "工勤";
        /// 保育员 (kindergarten care staff)
        Carer = "carer", "保育员", "Childcare worker";
    }
}

code_list! {
    /// 职称 (professional title), unified for primary and secondary teachers by 人社部发〔2015〕79号
    /// (domain-rules §14). Old titles are accepted as aliases and mapped to the new ones.
    pub enum Title: "职称" {
        /// 正高级教师 (正高)
        Senior1 = "zhenggao", "正高级", "Professor-level", "正高级教师", "正高";
        /// 高级教师 (副高)
        Senior = "gaoji", "高级", "Senior", "高级教师", "中学高级", "副高";
        /// 一级教师 (中级)
        First = "yiji", "一级", "First grade", "一级教师", "中学一级", "小学高级", "中级";
        /// 二级教师 (助理级)
        Second = "erji", "二级", "Second grade", "二级教师", "中学二级", "小学一级";
        /// 三级教师 (员级)
        Third = "sanji", "三级", "Third grade", "三级教师", "中学三级", "小学二级", "小学三级";
        /// 未定级
        None = "none", "未定级", "Unranked", "无";
    }
}

impl Title {
    /// 中级及以上 (一级 and above), used by the basic-balance indicator 生均中级及以上专业技术职务教师数.
    pub fn is_intermediate_or_above(self) -> bool {
        matches!(self, Title::Senior1 | Title::Senior | Title::First)
    }
}

code_list! {
    /// 最高学历 (highest education).
    pub enum Education: "最高学历" {
        /// 研究生 (博士)
        Doctor = "doctor", "博士研究生", "Doctorate", "博士";
        /// 研究生 (硕士)
        Master = "master", "硕士研究生", "Master's", "硕士", "研究生";
        /// 本科
        Bachelor = "bachelor", "本科", "Bachelor's", "大学本科";
        /// 专科
        College = "college", "专科", "Junior college", "大专", "大学专科";
        /// 高中阶段 (高中、中专、中师)
        Secondary = "secondary", "高中阶段", "Upper secondary", "高中", "中专", "中师";
        /// 初中及以下
        Lower = "lower", "初中及以下", "Lower secondary or below", "初中";
    }
}

impl Education {
    /// Ordering from lowest (0) to highest.
    pub fn level(self) -> u8 {
        match self {
            Education::Lower => 0,
            Education::Secondary => 1,
            Education::College => 2,
            Education::Bachelor => 3,
            Education::Master => 4,
            Education::Doctor => 5,
        }
    }
}

code_list! {
    /// 教师资格种类 (kind of teacher certificate).
    pub enum CertKind: "教师资格种类" {
        Kindergarten = "kindergarten", "幼儿园", "Kindergarten", "幼儿园教师资格";
        Primary = "primary", "小学", "Primary", "小学教师资格";
        Junior = "junior", "初级中学", "Junior secondary", "初中", "初级中学教师资格";
        Senior = "senior", "高级中学", "Senior secondary", "高中", "高级中学教师资格";
        VocationalSubject = "vocational", "中职专业课", "Vocational subject", "中等职业学校教师资格";
        VocationalPractice = "practice", "中职实习指导", "Vocational practice instructor";
    }
}

code_list! {
    /// 补充来源 (how the person was hired).
    pub enum HireSource: "补充来源" {
        /// 公开招聘
        OpenRecruitment = "open", "公开招聘", "Open recruitment", "招聘";
        /// 公费师范生 (government-funded normal graduate)
        FundedNormal = "funded_normal", "公费师范生", "Government-funded normal graduate", "免费师范生";
        /// 特岗教师
        SpecialPost = "special_post", "特岗教师", "Special-post teacher", "特岗";
        /// 调入
        TransferIn = "transfer", "调入", "Transferred in";
        /// 人才引进
        Talent = "talent", "人才引进", "Talent programme";
        /// 军转安置
        Veteran = "veteran", "军转安置", "Veteran placement";
        /// 其他
        Other = "other", "其他", "Other";
    }
}

code_list! {
    /// 骨干教师级别 (backbone teacher level).
    pub enum Backbone: "骨干教师级别" {
        None = "none", "无", "None", "否";
        School = "school", "校级", "School";
        County = "county", "县级", "County", "县区级";
        City = "city", "市级", "City";
        Province = "province", "省级", "Province";
        Nation = "nation", "国家级", "National";
    }
}

impl Backbone {
    /// 县级以上骨干教师 (county level and above), the 优质均衡 indicator 2 (domain-rules §7.3).
    pub fn is_county_or_above(self) -> bool {
        matches!(
            self,
            Backbone::County | Backbone::City | Backbone::Province | Backbone::Nation
        )
    }
}

code_list! {
    /// 任职状态 (staff status).
    pub enum StaffStatus: "任职状态" {
        /// 在岗
        Active = "active", "在岗", "Active", "在职";
        /// 长期病假
        SickLeave = "sick", "长期病假", "Long sick leave", "病休";
        /// 借调
        Seconded = "seconded", "借调", "Seconded";
        /// 调出
        TransferredOut = "transferred", "调出", "Transferred out";
        /// 离职
        Left = "left", "离职", "Left", "辞职";
        /// 退休
        Retired = "retired", "退休", "Retired";
        /// 死亡
        Deceased = "deceased", "死亡", "Deceased";
    }
}

impl StaffStatus {
    /// Counted in the school's current staff (在岗, 病假, 借调).
    pub fn is_current(self) -> bool {
        matches!(
            self,
            StaffStatus::Active | StaffStatus::SickLeave | StaffStatus::Seconded
        )
    }
}

code_list! {
    /// 任教学科 (teaching subject).
    pub enum Subject: "任教学科" {
        Chinese = "chinese", "语文", "Chinese"; Maths = "maths", "数学", "Mathematics";
        English = "english", "英语", "English", "外语"; Physics = "physics", "物理", "Physics";
        Chemistry = "chemistry", "化学", "Chemistry"; Biology = "biology", "生物", "Biology";
        Politics = "politics", "道德与法治", "Morality and law", "思想政治", "政治", "品德";
        History = "history", "历史", "History"; Geography = "geography", "地理", "Geography";
        Science = "science", "科学", "Science"; PE = "pe", "体育", "Physical education", "体育与健康";
        Music = "music", "音乐", "Music"; Art = "art", "美术", "Art";
        IT = "it", "信息技术", "Information technology", "信息科技"; Practice = "practice", "综合实践", "Integrated practice";
        Labour = "labour", "劳动", "Labour"; Psychology = "psychology", "心理健康", "Mental health";
        Preschool = "preschool", "学前教育", "Early childhood", "幼教";
        SpecialEd = "special", "特殊教育", "Special education", "特教";
        Vocational = "vocational", "专业课", "Vocational subject", "中职专业课";
    }
}

impl Subject {
    /// Sports and arts teachers (体育、艺术(美术、音乐)专任教师), the 优质均衡 indicator 3.
    pub fn is_pe_or_arts(self) -> bool {
        matches!(self, Subject::PE | Subject::Music | Subject::Art)
    }
}

/// A staff member as validated from a form or a file row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffRecord {
    /// 学校标识码
    pub school_code: SchoolCode,
    /// 姓名
    pub name: String,
    /// 身份证件号 (required: staff are adults with an ID number)
    pub id_card: IdCardNo,
    /// 性别
    pub sex: Sex,
    /// 出生日期
    pub birth_date: NaiveDate,
    /// 岗位类别
    pub post: Post,
    /// 任教学科
    pub subjects: Vec<Subject>,
    /// 职称
    pub title: Title,
    /// 最高学历
    pub education: Education,
    /// 教师资格种类
    pub cert_kind: Option<CertKind>,
    /// 教师资格证书编号
    pub cert_no: Option<String>,
    /// 参加工作（入职）日期
    pub hire_date: Option<NaiveDate>,
    /// 补充来源
    pub hire_source: Option<HireSource>,
    /// 中共党员
    pub party_member: bool,
    /// 骨干教师级别
    pub backbone: Backbone,
    /// 任职状态
    pub status: StaffStatus,
    /// 联系电话
    pub phone: Option<String>,
}

/// Parses a subject list separated by 、 , ， ; or spaces.
pub fn parse_subjects(input: &str) -> Result<Vec<Subject>, String> {
    let mut out = Vec::new();
    for part in input
        .split(['、', ',', '，', ';', '；', ' ', '/'])
        .filter(|p| !p.trim().is_empty())
    {
        let s = Subject::parse(part)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Subjects for storage: `chinese,maths`.
pub fn subject_codes(subjects: &[Subject]) -> String {
    subjects
        .iter()
        .map(|s| s.code())
        .collect::<Vec<_>>()
        .join(",")
}

/// Subjects read back from storage.
pub fn subjects_from_codes(s: &str) -> Vec<Subject> {
    s.split(',').filter_map(Subject::from_code).collect()
}

/// 教师资格证书编号: 17 digits in the current national system; older certificates vary, so only
/// length (8–30) and characters (digits, letters) are checked.
pub fn parse_cert_no(input: &str) -> Result<String, String> {
    let s = crate::text::normalize(input);
    if !(8..=30).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("教师资格证书编号应为 8–30 位数字或字母".into());
    }
    Ok(s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_titles_map_to_the_unified_system() {
        assert_eq!(Title::parse("小学高级").unwrap(), Title::First);
        assert_eq!(Title::parse("中学高级").unwrap(), Title::Senior);
        assert_eq!(Title::parse("小学三级").unwrap(), Title::Third);
        assert!(Title::First.is_intermediate_or_above());
        assert!(!Title::Second.is_intermediate_or_above());
    }

    #[test]
    fn subject_lists_parse_and_round_trip() {
        let s = parse_subjects("语文、数学，语文").unwrap();
        assert_eq!(s, vec![Subject::Chinese, Subject::Maths]);
        assert_eq!(subjects_from_codes(&subject_codes(&s)), s);
        assert!(parse_subjects("炼丹").is_err());
    }
}
