//! The columns of each importable table: Chinese header (what the templates write), English alias,
//! whether it is required, and a help text for the template's instructions sheet.

use crate::IoError;
use std::collections::HashMap;

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Field key (shared with the domain's field errors and the web forms).
    pub key: &'static str,
    /// Chinese header.
    pub header: &'static str,
    /// Other accepted headers (English first).
    pub aliases: &'static [&'static str],
    /// The file must have this column.
    pub required: bool,
    /// What to write, for the template's instructions.
    pub help: &'static str,
}

const fn col(
    key: &'static str,
    header: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    help: &'static str,
) -> Column {
    Column {
        key,
        header,
        aliases,
        required,
        help,
    }
}

/// The importable tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// 学校
    Schools,
    /// 班级
    Classes,
    /// 学生
    Students,
    /// 教职工
    Staff,
}

impl Table {
    /// Every table, in import order (schools before the tables that refer to them).
    pub const ALL: [Table; 4] = [
        Table::Schools,
        Table::Staff,
        Table::Classes,
        Table::Students,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Schools => "schools",
            Table::Classes => "classes",
            Table::Students => "students",
            Table::Staff => "staff",
        }
    }
    /// Store entity name.
    pub fn entity(self) -> &'static str {
        match self {
            Table::Schools => "school",
            Table::Classes => "class",
            Table::Students => "student",
            Table::Staff => "staff",
        }
    }
    /// Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            Table::Schools => "学校",
            Table::Classes => "班级",
            Table::Students => "学生",
            Table::Staff => "教职工",
        }
    }
    /// Parses a command-line name (English or Chinese).
    pub fn parse(s: &str) -> Option<Table> {
        match s.trim() {
            "schools" | "school" | "学校" => Some(Table::Schools),
            "classes" | "class" | "班级" => Some(Table::Classes),
            "students" | "student" | "学生" => Some(Table::Students),
            "staff" | "teachers" | "教职工" => Some(Table::Staff),
            _ => None,
        }
    }
    /// The columns, in template order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Schools => SCHOOL_COLUMNS,
            Table::Classes => CLASS_COLUMNS,
            Table::Students => STUDENT_COLUMNS,
            Table::Staff => STAFF_COLUMNS,
        }
    }
    /// The Chinese header of a field key (the key itself if unknown).
    pub fn header_of(self, key: &str) -> &'static str {
        self.columns()
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.header)
            .unwrap_or("（整行）")
    }
}

const YN: &str = "是/否，留空为“否”";

/// 学校
pub const SCHOOL_COLUMNS: &[Column] = &[
    col(
        "code",
        "学校标识码",
        &["school_code", "code", "学校代码"],
        true,
        "10 位数字，教育部颁发的学校标识码",
    ),
    col(
        "name",
        "学校名称",
        &["name", "school_name"],
        true,
        "学校全称，最多 100 字",
    ),
    col(
        "county",
        "所属县区",
        &["county", "县区"],
        true,
        "县区名称或 6 位区划代码，如“兰山区”或 371302",
    ),
    col(
        "school_type",
        "学校类别",
        &["school_type", "type"],
        true,
        "幼儿园、小学、教学点、初级中学、九年一贯制学校、完全中学、高级中学、十二年一贯制学校、中等职业学校、特殊教育学校",
    ),
    col(
        "stages",
        "学段",
        &["stages"],
        false,
        "留空按学校类别；多个用“、”分隔，如“小学、初中”；小学可附设学前",
    ),
    col(
        "ownership",
        "办学性质",
        &["ownership"],
        true,
        "公办 或 民办",
    ),
    col(
        "inclusive",
        "普惠性",
        &["inclusive"],
        false,
        "幼儿园适用：是否认定为普惠性幼儿园，是/否",
    ),
    col(
        "location",
        "城乡分类",
        &["location", "urban_rural"],
        true,
        "城区、镇区 或 乡村",
    ),
    col(
        "central",
        "中心校",
        &["central"],
        false,
        "是否乡镇中心校（中心园），是/否",
    ),
    col("capacity", "核定学位数", &["capacity"], false, "整数"),
    col("address", "地址", &["address"], false, "最多 200 字"),
    col(
        "building_area",
        "教学及辅助用房面积(平方米)",
        &["building_area"],
        false,
        "整数，平方米",
    ),
    col(
        "sports_area",
        "体育运动场馆面积(平方米)",
        &["sports_area"],
        false,
        "整数，平方米",
    ),
    col(
        "equipment_value",
        "教学仪器设备值(元)",
        &["equipment_value"],
        false,
        "金额，元，可带两位小数",
    ),
    col("books", "图书(册)", &["books"], false, "整数"),
    col("computers", "计算机(台)", &["computers"], false, "整数"),
    col(
        "multimedia_rooms",
        "网络多媒体教室(间)",
        &["multimedia_rooms"],
        false,
        "整数",
    ),
    col(
        "bandwidth_mbps",
        "出口带宽(Mbps)",
        &["bandwidth_mbps", "bandwidth"],
        false,
        "整数；1000 及以上为千兆",
    ),
    col("ipv6", "支持IPv6", &["ipv6"], false, YN),
    col("security_guard", "专职保安", &["security_guard"], false, YN),
    col("closed_campus", "封闭化管理", &["closed_campus"], false, YN),
    col(
        "alarm_and_video",
        "一键式报警和视频监控",
        &["alarm_and_video"],
        false,
        YN,
    ),
    col("guard_post", "护学岗", &["guard_post"], false, YN),
];

/// 班级
pub const CLASS_COLUMNS: &[Column] = &[
    col(
        "school_code",
        "学校标识码",
        &["school_code", "学校代码"],
        true,
        "10 位数字，学校须已登记",
    ),
    col(
        "school_year",
        "学年",
        &["school_year", "year"],
        true,
        "如 2020-2021",
    ),
    col(
        "grade",
        "年级",
        &["grade"],
        true,
        "小班、中班、大班、混龄班、一年级…九年级（初一至初三亦可）、高一至高三、中职一年级至三年级",
    ),
    col(
        "class_no",
        "班号",
        &["class_no", "class"],
        true,
        "1–99 的整数",
    ),
    col(
        "name",
        "班级名称",
        &["name", "class_name"],
        false,
        "留空自动生成，如“三年级（2）班”",
    ),
    col(
        "head_teacher",
        "班主任身份证件号",
        &["head_teacher_id_card", "head_teacher"],
        false,
        "本校已登记教职工的身份证件号",
    ),
];

/// 学生
pub const STUDENT_COLUMNS: &[Column] = &[
    col(
        "school_code",
        "学校标识码",
        &["school_code", "学校代码"],
        true,
        "10 位数字，学校须已登记",
    ),
    col(
        "school_year",
        "学年",
        &["school_year", "year"],
        false,
        "所在班级的学年，如 2020-2021；与年级、班号一起确定班级",
    ),
    col("grade", "年级", &["grade"], false, "所在班级的年级"),
    col(
        "class_no",
        "班号",
        &["class_no", "class"],
        false,
        "所在班级的班号",
    ),
    col("name", "姓名", &["name"], true, "最多 50 字"),
    col(
        "sex",
        "性别",
        &["sex", "gender"],
        false,
        "男/女；留空取身份证件号中的性别",
    ),
    col(
        "birth_date",
        "出生日期",
        &["birth_date", "birthday"],
        false,
        "如 2013-05-04；留空取身份证件号中的日期",
    ),
    col(
        "id_card",
        "身份证件号",
        &[
            "id_card",
            "id_number",
            "身份证号",
            "身份证号码",
            "公民身份号码",
        ],
        false,
        "18 位（或 15 位旧号）；无证件号的学生须填 J 或 L 开头的学籍号",
    ),
    col(
        "student_no",
        "学籍号",
        &["student_no", "全国学籍号"],
        false,
        "G/J/L 加 18 位；留空则为 G 加身份证件号",
    ),
    col(
        "ethnicity",
        "民族",
        &["ethnicity", "nation"],
        true,
        "如 汉族、回族",
    ),
    col(
        "hukou",
        "户籍所在地",
        &["hukou", "户籍地", "户籍所在地区划代码"],
        false,
        "户籍所在县区的 6 位区划代码",
    ),
    col("migrant", "随迁子女", &["migrant"], false, YN),
    col("left_behind", "留守儿童", &["left_behind"], false, YN),
    col(
        "disability",
        "残疾类别",
        &["disability"],
        false,
        "视力、听力、言语、肢体、智力、精神、多重残疾；留空为无",
    ),
    col("poor", "建档立卡", &["poor", "建档立卡贫困户"], false, YN),
    col("orphan", "孤儿", &["orphan"], false, YN),
    col(
        "guardian1_name",
        "监护人1姓名",
        &["guardian1_name"],
        false,
        "最多 50 字",
    ),
    col(
        "guardian1_relation",
        "监护人1关系",
        &["guardian1_relation"],
        false,
        "父亲、母亲、祖父、祖母、外祖父、外祖母、兄姐、其他亲属、其他监护人",
    ),
    col(
        "guardian1_phone",
        "监护人1电话",
        &["guardian1_phone"],
        false,
        "11 位手机号或带区号的固定电话",
    ),
    col(
        "guardian2_name",
        "监护人2姓名",
        &["guardian2_name"],
        false,
        "最多 50 字",
    ),
    col(
        "guardian2_relation",
        "监护人2关系",
        &["guardian2_relation"],
        false,
        "同监护人1",
    ),
    col(
        "guardian2_phone",
        "监护人2电话",
        &["guardian2_phone"],
        false,
        "同监护人1",
    ),
    col(
        "status",
        "学籍状态",
        &["status"],
        false,
        "在读、休学、复学、辍学、转出、毕业、死亡等；留空为在读",
    ),
    col(
        "entry_date",
        "入学日期",
        &["entry_date"],
        false,
        "如 2020-09-01",
    ),
];

/// 教职工
pub const STAFF_COLUMNS: &[Column] = &[
    col(
        "school_code",
        "学校标识码",
        &["school_code", "学校代码"],
        true,
        "10 位数字，学校须已登记",
    ),
    col("name", "姓名", &["name"], true, "最多 50 字"),
    col(
        "id_card",
        "身份证件号",
        &["id_card", "id_number", "身份证号", "身份证号码"],
        true,
        "18 位（或 15 位旧号）",
    ),
    col(
        "sex",
        "性别",
        &["sex", "gender"],
        false,
        "男/女；留空取身份证件号中的性别",
    ),
    col(
        "birth_date",
        "出生日期",
        &["birth_date"],
        false,
        "留空取身份证件号中的日期",
    ),
    col(
        "post",
        "岗位类别",
        &["post"],
        true,
        "专任教师、行政人员、教辅人员、工勤人员、保育员",
    ),
    col(
        "subjects",
        "任教学科",
        &["subjects", "subject"],
        false,
        "多个用“、”分隔，如“语文、道德与法治”",
    ),
    col(
        "title",
        "职称",
        &["title"],
        false,
        "正高级、高级、一级、二级、三级、未定级（旧称如“小学高级”自动换算）；留空为未定级",
    ),
    col(
        "education",
        "最高学历",
        &["education"],
        true,
        "博士研究生、硕士研究生、本科、专科、高中阶段、初中及以下",
    ),
    col(
        "cert_kind",
        "教师资格种类",
        &["cert_kind"],
        false,
        "幼儿园、小学、初级中学、高级中学、中职专业课、中职实习指导",
    ),
    col(
        "cert_no",
        "教师资格证书编号",
        &["cert_no"],
        false,
        "8–30 位数字或字母",
    ),
    col(
        "hire_date",
        "入职日期",
        &["hire_date"],
        false,
        "如 2018-08-20",
    ),
    col(
        "hire_source",
        "补充来源",
        &["hire_source"],
        false,
        "公开招聘、公费师范生、特岗教师、调入、人才引进、军转安置、其他",
    ),
    col("party_member", "中共党员", &["party_member"], false, YN),
    col(
        "backbone",
        "骨干教师级别",
        &["backbone"],
        false,
        "无、校级、县级、市级、省级、国家级；留空为无",
    ),
    col(
        "status",
        "任职状态",
        &["status"],
        false,
        "在岗、长期病假、借调、调出、离职、退休、死亡；留空为在岗",
    ),
    col(
        "phone",
        "联系电话",
        &["phone"],
        false,
        "11 位手机号或带区号的固定电话",
    ),
];

/// Headers a file may carry that we ignore: row numbers and remarks.
const IGNORED: &[&str] = &["序号", "no", "no.", "备注", "remark", "remarks"];

fn norm_header(h: &str) -> String {
    yimeng_domain::text::normalize(h)
        .trim_start_matches('*')
        .trim()
        .replace([' ', '\u{3000}'], "")
        .to_lowercase()
}

/// Where each field's column sits in a file.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// The table.
    pub table: Table,
    idx: HashMap<&'static str, usize, KeyHasher>,
    width: usize,
}

/// foldhash, the workspace's hasher: every cell of every row is looked up by key, and SipHash made
/// that lookup a fifth of the time spent reading a large file. Seeded per process.
type KeyHasher = foldhash::fast::RandomState;

impl HeaderMap {
    /// Maps a header row. Refuses unknown, duplicated and missing required columns, naming them all.
    pub fn new(table: Table, header: &[String]) -> Result<HeaderMap, IoError> {
        let mut idx: HashMap<&'static str, usize, KeyHasher> = HashMap::default();
        let mut unknown = Vec::new();
        let mut dup = Vec::new();
        let width = header
            .iter()
            .rposition(|h| !h.trim().is_empty())
            .map_or(0, |i| i + 1);
        for (i, h) in header[..width].iter().enumerate() {
            let n = norm_header(h);
            if n.is_empty() || IGNORED.contains(&n.as_str()) {
                continue;
            }
            let found = table.columns().iter().find(|c| {
                norm_header(c.header) == n
                    || c.aliases.iter().any(|a| norm_header(a) == n)
                    || c.key == n
            });
            match found {
                Some(c) => {
                    if idx.insert(c.key, i).is_some() {
                        dup.push(c.header);
                    }
                }
                None => unknown.push(yimeng_domain::text::preview(h.trim(), 30)),
            }
        }
        let missing: Vec<&str> = table
            .columns()
            .iter()
            .filter(|c| c.required && !idx.contains_key(c.key))
            .map(|c| c.header)
            .collect();
        let mut problems = Vec::new();
        if idx.is_empty() {
            // Nothing in the row is a column name: most often a title row (“2020 年秋季学生名册”)
            // or a merged group row (“基本信息 | 监护人信息”) sits above the real header.
            let first = header[..width]
                .iter()
                .map(|h| h.trim())
                .find(|h| !h.is_empty())
                .unwrap_or("");
            problems.push(format!(
                "第一行必须是表头（列名），但这一行没有一个可识别的列名（第一个非空单元格是“{}”）。如果表格上方有标题行或合并单元格的分组行，请删除这些行，让列名所在的行成为第一行",
                yimeng_domain::text::preview(first, 30)
            ));
        }
        if !missing.is_empty() {
            problems.push(format!("缺少必填列：{}", missing.join("、")));
        }
        if !unknown.is_empty() {
            problems.push(format!(
                "无法识别的列：{}（{}表可用的列：{}）",
                unknown.join("、"),
                table.label(),
                table
                    .columns()
                    .iter()
                    .map(|c| c.header)
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
        if !dup.is_empty() {
            problems.push(format!("重复的列：{}", dup.join("、")));
        }
        if !problems.is_empty() {
            return Err(IoError::Header(problems.join("；")));
        }
        Ok(HeaderMap { table, idx, width })
    }

    /// Whether the file has this column.
    pub fn has(&self, key: &str) -> bool {
        self.idx.contains_key(key)
    }

    /// Number of header columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The headers of the columns from position `from` on, in file order (columns the file has
    /// but the table ignores, such as 备注, are named by their position).
    pub fn headers_from(&self, from: usize) -> Vec<String> {
        (from..self.width)
            .map(|i| {
                self.idx
                    .iter()
                    .find(|(_, j)| **j == i)
                    .map(|(k, _)| format!("“{}”", self.table.header_of(k)))
                    .unwrap_or_else(|| format!("第 {} 列", i + 1))
            })
            .collect()
    }

    /// The cell of a field in a row ("" when the column is absent or the row is short).
    pub fn get<'a>(&self, cells: &'a csv::StringRecord, key: &str) -> &'a str {
        self.idx.get(key).and_then(|i| cells.get(*i)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_headers_english_aliases_and_required_marks_are_accepted() {
        let m = HeaderMap::new(
            Table::Classes,
            &h(&["*学校标识码", "school_year", "年级", "班号 ", "序号"]),
        )
        .unwrap();
        assert!(m.has("school_year") && m.has("class_no"));
        let row = csv::StringRecord::from(vec!["2137020001", "2020-2021", "一年级", "3", "1"]);
        assert_eq!(m.get(&row, "grade"), "一年级");
        assert_eq!(m.get(&row, "name"), "");
    }

    #[test]
    fn missing_unknown_and_duplicate_columns_are_all_named() {
        let e = HeaderMap::new(Table::Classes, &h(&["学校标识码", "年级", "年级", "颜色"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("缺少必填列：学年、班号"), "{e}");
        assert!(e.contains("无法识别的列：颜色"), "{e}");
        assert!(e.contains("重复的列：年级"), "{e}");
    }

    #[test]
    fn a_title_row_above_the_header_gets_a_hint_to_remove_it() {
        let e = HeaderMap::new(Table::Students, &h(&["2020 年秋季学生名册", "", ""]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("第一行必须是表头"), "{e}");
        assert!(e.contains("2020 年秋季学生名册"), "{e}");
        assert!(e.contains("标题行或合并单元格的分组行"), "{e}");
        // A real header with one unknown column gets no such hint.
        let e = HeaderMap::new(
            Table::Classes,
            &h(&["学校标识码", "学年", "年级", "班号", "颜色"]),
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("第一行必须是表头"), "{e}");
    }

    #[test]
    fn every_table_has_unique_keys_and_headers() {
        for t in Table::ALL {
            let cols = t.columns();
            for (i, a) in cols.iter().enumerate() {
                for b in &cols[i + 1..] {
                    assert_ne!(a.key, b.key);
                    assert_ne!(norm_header(a.header), norm_header(b.header));
                }
            }
        }
    }
}
