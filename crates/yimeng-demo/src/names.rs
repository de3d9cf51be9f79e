//! Word lists for synthetic names. Surname weights follow the usual Shandong ranking; the lists
//! include surnames read differently as surnames (单, 曾) and compound surnames (诸葛 — 沂南 is
//! Zhuge Liang's home county) so search and sorting meet them.

use crate::rng::Rng;

/// Surnames with weights (per mille, roughly).
pub const SURNAMES: &[(&str, f64)] = &[
    ("王", 85.0),
    ("张", 75.0),
    ("李", 70.0),
    ("刘", 60.0),
    ("陈", 30.0),
    ("杨", 30.0),
    ("孙", 30.0),
    ("徐", 25.0),
    ("高", 20.0),
    ("赵", 20.0),
    ("于", 15.0),
    ("马", 15.0),
    ("宋", 13.0),
    ("朱", 13.0),
    ("胡", 10.0),
    ("郑", 10.0),
    ("杜", 10.0),
    ("吴", 10.0),
    ("周", 10.0),
    ("韩", 10.0),
    ("郭", 10.0),
    ("魏", 8.0),
    ("石", 8.0),
    ("姜", 8.0),
    ("曹", 7.0),
    ("袁", 5.0),
    ("田", 5.0),
    ("董", 5.0),
    ("邵", 5.0),
    ("庞", 4.0),
    ("公", 3.0),
    ("颜", 3.0),
    ("薛", 3.0),
    ("褚", 2.0),
    ("蒋", 3.0),
    ("秦", 3.0),
    ("许", 4.0),
    ("何", 4.0),
    ("沈", 2.0),
    ("彭", 3.0),
    ("鲁", 2.0),
    ("葛", 2.0),
    ("解", 1.0),
    ("单", 1.5),
    ("曾", 1.0),
    ("仇", 0.5),
    ("诸葛", 0.5),
    ("司马", 0.2),
    ("欧阳", 0.3),
    ("厉", 1.0),
    ("卞", 1.0),
    ("伏", 0.5),
    ("侯", 3.0),
    ("武", 3.0),
    ("梁", 3.0),
    ("崔", 3.0),
];

const BOY: &[&str] = &[
    "浩", "宇", "轩", "博", "子", "俊", "杰", "涛", "鹏", "鑫", "睿", "泽", "晨", "航", "一", "明",
    "辰", "豪", "文", "凯", "梓", "铭", "天", "嘉", "锦", "瑞", "振", "昊", "伟", "强", "奕", "骏",
    "承", "恒", "哲", "煜", "宸", "皓", "佑", "安", "诚", "毅", "峰", "林", "磊", "帅", "硕", "彬",
    "政", "远",
];

const GIRL: &[&str] = &[
    "欣", "怡", "雨", "涵", "萱", "梓", "琪", "思", "佳", "诗", "梦", "瑶", "婷", "雅", "可", "馨",
    "悦", "晴", "妍", "彤", "静", "慧", "丽", "芳", "颖", "紫", "若", "语", "晓", "艺", "宁", "璐",
    "蕊", "菲", "倩", "月", "蓉", "洁", "曼", "玥", "冉", "沐", "依", "甜", "乐", "雪", "娜", "燕",
    "敏", "丹",
];

/// A surname.
pub fn surname(r: &mut Rng) -> &'static str {
    r.weighted::<&str>(SURNAMES)
}

/// A given name of one or two characters.
pub fn given(r: &mut Rng, male: bool) -> String {
    let pool = if male { BOY } else { GIRL };
    if r.chance(0.2) {
        r.pick(pool).to_string()
    } else {
        format!("{}{}", r.pick(pool), r.pick(pool))
    }
}

/// A full name with a given surname.
pub fn full(r: &mut Rng, surname: &str, male: bool) -> String {
    format!("{surname}{}", given(r, male))
}

/// A mobile number (synthetic; 1[3-9] plus nine digits).
pub fn mobile(r: &mut Rng) -> String {
    format!("1{}{:09}", r.range(3, 9), r.range(0, 999_999_999))
}

/// Private kindergarten and school brand names.
pub const BRANDS: &[&str] = &[
    "金色摇篮",
    "小天使",
    "阳光宝贝",
    "童之梦",
    "新蕾",
    "蓝天",
    "贝贝",
    "启明星",
    "博爱",
    "育才",
    "七彩虹",
    "小太阳",
    "春苗",
    "星辰",
    "童馨",
    "爱心",
    "花朵",
    "明德",
    "睿思",
    "未来星",
    "智慧树",
    "金苹果",
    "彩虹桥",
    "童乐",
];

/// Village names for rural schools.
pub const VILLAGES: &[&str] = &[
    "王庄",
    "李家庄",
    "东营",
    "西岭",
    "北沟",
    "南坡",
    "后村",
    "前河",
    "大店子",
    "石门",
    "柳沟",
    "马家庄",
    "杨家湖",
    "张家峪",
    "刘家庄",
    "东岭",
    "西官庄",
    "河湾",
    "南庄",
    "北村",
    "高家岭",
    "孙家沟",
    "上庄",
    "下庄",
    "朱家洼",
    "小岭",
    "大岭",
    "桃园",
    "杏山",
    "沙河",
    "青石",
    "黄埠",
    "白马",
    "红旗",
    "新村",
    "古城",
    "双山",
    "龙泉",
];

/// Roads for addresses.
pub const ROADS: &[&str] = &[
    "沂蒙路",
    "解放路",
    "人民路",
    "通达路",
    "金雀山路",
    "银雀山路",
    "北京路",
    "上海路",
    "滨河路",
    "沂河路",
    "涑河街",
    "红旗路",
    "新华路",
    "文化路",
    "建设路",
    "育才路",
    "府前街",
    "兴华路",
    "振兴路",
    "平安路",
];
