//! Students: status codes (学生当前状态, JY/T 1001 XSDQZT), change types (学籍异动类别, XJYDLB),
//! ethnicity (GB 3304), disability categories (GB/T 26341), guardians, and the student record.

use crate::code_list;
use crate::{FieldError, IdCardNo, RegionCode, SchoolCode, Sex, StudentNo};
use chrono::NaiveDate;
use serde::Serialize;

code_list! {
    /// 学生当前状态 (JY/T 1001 XSDQZT; domain-rules §3.2). 在籍 (on the register) = 在读, 休学, 复学.
    pub enum StudentStatus: "学籍状态" {
        /// 01 在读
        Enrolled = "01", "在读", "Enrolled", "在籍", "在校";
        /// 02 休学
        Suspended = "02", "休学", "Suspended";
        /// 03 退学 (not allowed in compulsory stages)
        Withdrawn = "03", "退学", "Withdrawn";
        /// 04 停学
        Stopped = "04", "停学", "Stopped";
        /// 05 复学
        Resumed = "05", "复学", "Resumed";
        /// 06 流失 — 辍学 (dropped out); the 学籍 is kept during the compulsory stage (§4)
        DroppedOut = "06", "辍学", "Dropped out", "流失";
        /// 07 毕业
        Graduated = "07", "毕业", "Graduated";
        /// 08 结业
        Completed = "08", "结业", "Completed";
        /// 09 肄业
        LeftUnfinished = "09", "肄业", "Left unfinished";
        /// 10 转学(转出)
        TransferredOut = "10", "转出", "Transferred out", "转学", "转学(转出)";
        /// 11 死亡
        Deceased = "11", "死亡", "Deceased";
        /// 12 保留入学资格
        Deferred = "12", "保留入学资格", "Entry deferred";
        /// 13 公派出国
        Abroad = "13", "公派出国", "Abroad";
        /// 14 开除 (not allowed in compulsory stages)
        Expelled = "14", "开除", "Expelled";
        /// 15 下落不明
        Missing = "15", "下落不明", "Whereabouts unknown";
        /// 99 其他
        Other = "99", "其他", "Other";
    }
}

impl StudentStatus {
    /// 在籍: the student holds a 学籍 at the school (在读, 休学, 复学; domain-rules §3.2).
    pub fn is_on_register(self) -> bool {
        matches!(
            self,
            StudentStatus::Enrolled | StudentStatus::Suspended | StudentStatus::Resumed
        )
    }
    /// Attending: counted in class size (在读, 复学); 休学 is counted only when the local rule says so.
    pub fn counts_in_class(self, rules: &crate::Rules) -> bool {
        matches!(self, StudentStatus::Enrolled | StudentStatus::Resumed)
            || (self == StudentStatus::Suspended && rules.class_size_counts_suspended)
    }
    /// Statuses a school may not give in compulsory education: schools may not expel
    /// (义务教育法 art. 27, "不得开除"), so 退学 and 开除 are invalid for 小学/初中 students.
    pub fn forbidden_in_compulsory(self) -> bool {
        matches!(self, StudentStatus::Withdrawn | StudentStatus::Expelled)
    }
    /// Terminal statuses: the record at this school is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            StudentStatus::Graduated
                | StudentStatus::Completed
                | StudentStatus::LeftUnfinished
                | StudentStatus::TransferredOut
                | StudentStatus::Deceased
                | StudentStatus::Expelled
                | StudentStatus::Withdrawn
        )
    }
    /// The state machine of domain-rules §3.2: which status changes a user may make by hand.
    pub fn can_change_to(self, to: StudentStatus) -> bool {
        use StudentStatus::*;
        if self == to {
            return false;
        }
        match self {
            Enrolled | Resumed => !matches!(to, Resumed | Enrolled),
            Suspended => matches!(
                to,
                Resumed | DroppedOut | TransferredOut | Deceased | Missing | Withdrawn
            ),
            Stopped => matches!(to, Resumed | DroppedOut | Withdrawn | Expelled | Deceased),
            DroppedOut | Missing => matches!(
                to,
                Resumed | DroppedOut | Missing | Deceased | TransferredOut
            ),
            Deferred => matches!(to, Enrolled | Withdrawn | Deceased),
            Abroad => matches!(to, Resumed | Withdrawn),
            Other => true,
            Graduated | Completed | LeftUnfinished | TransferredOut | Deceased | Expelled
            | Withdrawn => false,
        }
    }
    /// The 学籍异动类别 (XJYDLB) code recorded with a change to this status.
    pub fn change_type(self) -> ChangeType {
        use StudentStatus::*;
        match self {
            Suspended => ChangeType::Suspend,
            Resumed => ChangeType::Resume,
            Stopped => ChangeType::Stop,
            TransferredOut => ChangeType::TransferOut,
            Withdrawn => ChangeType::Withdraw,
            Expelled => ChangeType::Expel,
            Deceased => ChangeType::Death,
            Completed => ChangeType::Complete,
            LeftUnfinished => ChangeType::LeaveUnfinished,
            _ => ChangeType::Other,
        }
    }
}

code_list! {
    /// 学籍异动类别 (JY/T 1001 XJYDLB, K-12 subset; domain-rules §3.2), plus codes of our own for
    /// events the standard has no code for (建籍 and 信息变更 are recorded as 99 with a reason).
    pub enum ChangeType: "异动类别" {
        /// 02 留级
        Repeat = "02", "留级", "Repeat a grade";
        /// 03 降级
        Demote = "03", "降级", "Demote";
        /// 04 跳级
        Skip = "04", "跳级", "Skip a grade";
        /// 11 休学
        Suspend = "11", "休学", "Suspend";
        /// 12 复学
        Resume = "12", "复学", "Resume";
        /// 13 停学
        Stop = "13", "停学", "Stop";
        /// 21 转学(转出)
        TransferOut = "21", "转出", "Transfer out";
        /// 22 转学(转入)
        TransferIn = "22", "转入", "Transfer in";
        /// 31 退学
        Withdraw = "31", "退学", "Withdraw";
        /// 42 开除学籍
        Expel = "42", "开除学籍", "Expel";
        /// 51 死亡
        Death = "51", "死亡", "Death";
        /// 62 结业
        Complete = "62", "结业", "Complete";
        /// 63 肄业
        LeaveUnfinished = "63", "肄业", "Leave unfinished";
        /// 99 其他
        Other = "99", "其他", "Other";
    }
}

code_list! {
    /// 民族 (ethnicity), GB 3304-91 codes.
    pub enum Ethnicity: "民族" {
        Han = "01", "汉族", "Han", "汉"; Mongol = "02", "蒙古族", "Mongol"; Hui = "03", "回族", "Hui", "回";
        Tibetan = "04", "藏族", "Tibetan"; Uyghur = "05", "维吾尔族", "Uyghur"; Miao = "06", "苗族", "Miao";
        Yi = "07", "彝族", "Yi"; Zhuang = "08", "壮族", "Zhuang"; Buyei = "09", "布依族", "Buyei";
        Korean = "10", "朝鲜族", "Korean"; Manchu = "11", "满族", "Manchu", "满"; Dong = "12", "侗族", "Dong";
        Yao = "13", "瑶族", "Yao"; Bai = "14", "白族", "Bai"; Tujia = "15", "土家族", "Tujia";
        Hani = "16", "哈尼族", "Hani"; Kazakh = "17", "哈萨克族", "Kazakh"; Dai = "18", "傣族", "Dai";
        Li = "19", "黎族", "Li"; Lisu = "20", "傈僳族", "Lisu"; Va = "21", "佤族", "Va";
        She = "22", "畲族", "She"; Gaoshan = "23", "高山族", "Gaoshan"; Lahu = "24", "拉祜族", "Lahu";
        Sui = "25", "水族", "Sui"; Dongxiang = "26", "东乡族", "Dongxiang"; Naxi = "27", "纳西族", "Naxi";
        Jingpo = "28", "景颇族", "Jingpo"; Kyrgyz = "29", "柯尔克孜族", "Kyrgyz"; Tu = "30", "土族", "Tu";
        Daur = "31", "达斡尔族", "Daur"; Mulao = "32", "仫佬族", "Mulao"; Qiang = "33", "羌族", "Qiang";
        Blang = "34", "布朗族", "Blang"; Salar = "35", "撒拉族", "Salar"; Maonan = "36", "毛南族", "Maonan";
        Gelao = "37", "仡佬族", "Gelao"; Xibe = "38", "锡伯族", "Xibe"; Achang = "39", "阿昌族", "Achang";
        Pumi = "40", "普米族", "Pumi"; Tajik = "41", "塔吉克族", "Tajik"; Nu = "42", "怒族", "Nu";
        Uzbek = "43", "乌孜别克族", "Uzbek"; Russian = "44", "俄罗斯族", "Russian"; Evenki = "45", "鄂温克族", "Evenki";
        Deang = "46", "德昂族", "De'ang"; Bonan = "47", "保安族", "Bonan"; Yugur = "48", "裕固族", "Yugur";
        Gin = "49", "京族", "Gin"; Tatar = "50", "塔塔尔族", "Tatar"; Derung = "51", "独龙族", "Derung";
        Oroqen = "52", "鄂伦春族", "Oroqen"; Hezhen = "53", "赫哲族", "Hezhen"; Monba = "54", "门巴族", "Monba";
        Lhoba = "55", "珞巴族", "Lhoba"; Jino = "56", "基诺族", "Jino";
        Other = "97", "其他", "Other ethnicity", "其他民族";
        ForeignOrigin = "98", "外国血统中国籍人士", "Naturalised citizen of foreign origin";
    }
}

code_list! {
    /// 残疾类别 (GB/T 26341-2010).
    pub enum Disability: "残疾类别" {
        /// 视力残疾
        Visual = "1", "视力残疾", "Visual", "视力";
        /// 听力残疾
        Hearing = "2", "听力残疾", "Hearing", "听力";
        /// 言语残疾
        Speech = "3", "言语残疾", "Speech", "言语";
        /// 肢体残疾
        Physical = "4", "肢体残疾", "Physical", "肢体";
        /// 智力残疾
        Intellectual = "5", "智力残疾", "Intellectual", "智力";
        /// 精神残疾
        Mental = "6", "精神残疾", "Mental", "精神";
        /// 多重残疾
        Multiple = "7", "多重残疾", "Multiple", "多重";
    }
}

code_list! {
    /// 监护人关系 (guardian's relation to the student).
    pub enum Relation: "监护人关系" {
        Father = "father", "父亲", "Father", "父";
        Mother = "mother", "母亲", "Mother", "母";
        Grandfather = "grandfather", "祖父", "Paternal grandfather", "爷爷";
        Grandmother = "grandmother", "祖母", "Paternal grandmother", "奶奶";
        MaternalGrandfather = "maternal_grandfather", "外祖父", "Maternal grandfather", "外公", "姥爷";
        MaternalGrandmother = "maternal_grandmother", "外祖母", "Maternal grandmother", "外婆", "姥姥";
        Sibling = "sibling", "兄姐", "Elder sibling", "哥哥", "姐姐";
        Relative = "relative", "其他亲属", "Other relative", "亲属";
        Other = "other", "其他监护人", "Other guardian", "其他";
    }
}

/// Parses a contact phone: an 11-digit mobile number (1[3-9]…), or a landline with its area code
/// (0539-1234567; Linyi's area code is 0539). Spaces and hyphens are ignored.
pub fn parse_phone(input: &str) -> Result<String, String> {
    let s: String = crate::text::normalize(input)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '—'))
        .collect();
    let b = s.as_bytes();
    let ok_mobile = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    let ok_landline =
        (10..=12).contains(&b.len()) && b[0] == b'0' && b.iter().all(u8::is_ascii_digit);
    if ok_mobile {
        Ok(s)
    } else if ok_landline {
        let area = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
        Ok(format!("{}-{}", &s[..area], &s[area..]))
    } else {
        Err("电话应为 11 位手机号或带区号的固定电话（如 0539-1234567）".into())
    }
}

/// A guardian (监护人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guardian {
    /// 姓名
    pub name: String,
    /// 关系
    pub relation: Relation,
    /// 联系电话
    pub phone: Option<String>,
}

/// Reference to a class by its natural key within a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ClassRef {
    /// 学年
    pub year: crate::SchoolYear,
    /// 年级
    pub grade: crate::Grade,
    /// 班号
    pub class_no: i32,
}

/// A student as validated from a form or a file row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentRecord {
    /// 学校标识码 of the current school
    pub school_code: SchoolCode,
    /// 班级 (学年, 年级, 班号); absent for students not placed in a class
    pub class: Option<ClassRef>,
    /// 姓名
    pub name: String,
    /// 性别
    pub sex: Sex,
    /// 出生日期
    pub birth_date: NaiveDate,
    /// 身份证件号 (absent for children without one: they hold a J or L 学籍号)
    pub id_card: Option<IdCardNo>,
    /// 学籍号
    pub student_no: StudentNo,
    /// 民族
    pub ethnicity: Ethnicity,
    /// 户籍所在地 (county code)
    pub hukou: Option<RegionCode>,
    /// 随迁子女 (child of migrant workers)
    pub migrant: bool,
    /// 留守儿童 (left-behind child)
    pub left_behind: bool,
    /// 残疾类别
    pub disability: Option<Disability>,
    /// 建档立卡 (registered-poor household; now 脱贫家庭)
    pub poor: bool,
    /// 孤儿
    pub orphan: bool,
    /// 监护人 (up to two)
    pub guardians: Vec<Guardian>,
    /// 学籍状态
    pub status: StudentStatus,
    /// 入学日期
    pub entry_date: Option<NaiveDate>,
}

/// Checks a 性别/出生日期 given next to an ID number against it (domain-rules §1.4 rule 7).
pub fn check_against_id(
    id: &IdCardNo,
    sex: Option<Sex>,
    birth: Option<NaiveDate>,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(sex) = sex
        && sex != id.sex()
    {
        errs.push(FieldError::new(
            "sex",
            sex.label(),
            format!(
                "与身份证件号不一致：证件号第 17 位表示“{}”",
                id.sex().label()
            ),
        ));
    }
    if let Some(b) = birth
        && b != id.birth_date()
    {
        errs.push(FieldError::new(
            "birth_date",
            &b.to_string(),
            format!(
                "与身份证件号不一致：证件号中的出生日期为 {}",
                id.birth_date()
            ),
        ));
    }
    errs
}

/// Parses a date cell: 2015-09-01, 2015/9/1, 2015.9.1, 20150901, 2015年9月1日.
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let s = crate::text::normalize(input);
    let err = || {
        format!(
            "“{}”不是有效日期（应写作 2015-09-01）",
            crate::text::preview(&s, 20)
        )
    };
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").map_err(|_| err());
    }
    let cleaned: String = s
        .replace(['年', '月', '/', '.'], "-")
        .trim_end_matches('日')
        .to_string();
    // Spreadsheet date-times ("2015-09-01 00:00:00") keep only the date.
    let date_part = cleaned.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date_part.split('-').collect();
    if parts.len() != 3 {
        return Err(err());
    }
    let y: i32 = parts[0].parse().map_err(|_| err())?;
    let m: u32 = parts[1].parse().map_err(|_| err())?;
    let d: u32 = parts[2].parse().map_err(|_| err())?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_register_means_enrolled_suspended_or_resumed() {
        let on: Vec<_> = StudentStatus::ALL
            .iter()
            .filter(|s| s.is_on_register())
            .map(|s| s.label())
            .collect();
        assert_eq!(on, ["在读", "休学", "复学"]);
        assert_eq!(
            StudentStatus::parse("在籍").unwrap(),
            StudentStatus::Enrolled
        );
        assert_eq!(
            StudentStatus::parse("流失").unwrap(),
            StudentStatus::DroppedOut
        );
    }

    #[test]
    fn closed_records_cannot_be_reopened_by_hand() {
        assert!(!StudentStatus::Graduated.can_change_to(StudentStatus::Enrolled));
        assert!(StudentStatus::DroppedOut.can_change_to(StudentStatus::Resumed));
        assert!(StudentStatus::Enrolled.can_change_to(StudentStatus::Suspended));
        assert!(!StudentStatus::Enrolled.can_change_to(StudentStatus::Enrolled));
    }

    #[test]
    fn phones_accept_mobiles_and_landlines_with_area_codes() {
        assert_eq!(parse_phone("138 0539 0000").unwrap(), "13805390000");
        assert_eq!(parse_phone("05398888888").unwrap(), "0539-8888888");
        assert_eq!(parse_phone("010-12345678").unwrap(), "010-12345678");
        assert!(parse_phone("12345").is_err());
    }

    #[test]
    fn dates_parse_in_the_spellings_spreadsheets_use() {
        let d = NaiveDate::from_ymd_opt(2015, 9, 1).unwrap();
        for s in [
            "2015-09-01",
            "2015/9/1",
            "2015.9.1",
            "20150901",
            "2015年9月1日",
            "2015-09-01 00:00:00",
        ] {
            assert_eq!(parse_date(s).unwrap(), d, "{s}");
        }
        assert!(parse_date("2015-02-30").is_err());
        assert!(parse_date("昨天").is_err());
    }

    #[test]
    fn sex_and_birth_must_agree_with_the_id_number() {
        let id = IdCardNo::parse("371302201509010012").unwrap();
        let errs = check_against_id(&id, Some(Sex::Female), NaiveDate::from_ymd_opt(2015, 9, 2));
        assert_eq!(errs.len(), 2);
        assert!(errs[0].reason.contains("男"));
        assert!(errs[1].reason.contains("2015-09-01"));
        assert!(
            check_against_id(&id, Some(Sex::Male), NaiveDate::from_ymd_opt(2015, 9, 1)).is_empty()
        );
    }
}
