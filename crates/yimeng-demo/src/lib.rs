//! # yimeng-demo — a synthetic Linyi
//!
//! Builds a deterministic demo city at real scale: at `scale = 1.0` about 3,000 schools and
//! kindergartens with a realistic type and ownership mix per county, about 1.7 million students with
//! valid ID numbers and 学籍号, about 130,000 staff, class sizes with a tail of 56+ classes, and
//! plausible rates of migrant, left-behind, disabled and registered-poor children.
//!
//! The plan (schools, classes, staff) is small and held in memory; students are generated as a
//! stream, class by class, so the city never sits in memory at once. The same seed gives the same
//! city on every machine. Everything here is synthetic: no real person or school.
//!
//! It must not do IO: callers write the records to a store or to files.
#![forbid(unsafe_code)]

pub mod names;
pub mod rng;

use chrono::{Datelike, Duration, NaiveDate};
use rng::Rng;
use std::collections::{HashMap, HashSet};
use yimeng_domain::class::{ClassRecord, default_class_name};
use yimeng_domain::school::{Facilities, SchoolRecord};
use yimeng_domain::staff::{
    Backbone, CertKind, Education, HireSource, Post, StaffRecord, StaffStatus, Subject, Title,
};
use yimeng_domain::student::{
    ClassRef, Disability, Ethnicity, Guardian, Relation, StudentRecord, StudentStatus,
};
use yimeng_domain::{
    Grade, IdCardNo, LocationClass, Ownership, RegionCode, SchoolCode, SchoolType, SchoolYear, Sex,
    Stage, StudentNo,
};

/// The school year the demo city is in (the plan's year).
pub const DEMO_YEAR: SchoolYear = SchoolYear::from_start(2020);
/// School-entry cut-off used to derive ages (31 August; see `Rules`).
const CUTOFF: (u32, u32) = (8, 31);

/// A county's profile: population weight (millions), share of urban schools, towns.
struct County {
    code: i32,
    short: &'static str,
    weight: f64,
    urban: f64,
    towns: &'static [&'static str],
}

const COUNTIES: &[County] = &[
    County {
        code: 371302,
        short: "兰山区",
        weight: 1.55,
        urban: 0.75,
        towns: &[
            "银雀山街道",
            "兰山街道",
            "金雀山街道",
            "柳青街道",
            "白沙埠镇",
            "枣园镇",
            "半程镇",
            "义堂镇",
            "李官镇",
            "方城镇",
            "汪沟镇",
            "马厂湖镇",
        ],
    },
    County {
        code: 371311,
        short: "罗庄区",
        weight: 0.58,
        urban: 0.55,
        towns: &[
            "罗庄街道",
            "盛庄街道",
            "付庄街道",
            "傅庄街道",
            "册山街道",
            "高都街道",
            "褚墩镇",
            "黄山镇",
            "沂堂镇",
        ],
    },
    County {
        code: 371312,
        short: "河东区",
        weight: 0.62,
        urban: 0.5,
        towns: &[
            "九曲街道",
            "芝麻墩街道",
            "凤凰岭街道",
            "汤头街道",
            "太平街道",
            "郑旺镇",
            "汤河镇",
            "相公街道",
            "八湖镇",
        ],
    },
    County {
        code: 371321,
        short: "沂南县",
        weight: 0.78,
        urban: 0.3,
        towns: &[
            "界湖街道",
            "岸堤镇",
            "孙祖镇",
            "双堠镇",
            "青驼镇",
            "张庄镇",
            "砖埠镇",
            "葛沟镇",
            "杨坡镇",
            "马牧池乡",
            "辛集镇",
            "蒲汪镇",
            "湖头镇",
            "苏村镇",
            "铜井镇",
            "依汶镇",
        ],
    },
    County {
        code: 371322,
        short: "郯城县",
        weight: 0.85,
        urban: 0.3,
        towns: &[
            "郯城街道",
            "马头镇",
            "重坊镇",
            "李庄镇",
            "杨集镇",
            "港上镇",
            "高峰头镇",
            "庙山镇",
            "红花镇",
            "胜利镇",
            "花园乡",
            "归昌乡",
            "泉源乡",
        ],
    },
    County {
        code: 371323,
        short: "沂水县",
        weight: 0.95,
        urban: 0.3,
        towns: &[
            "沂城街道",
            "龙家圈街道",
            "许家湖镇",
            "黄山铺镇",
            "诸葛镇",
            "崔家峪镇",
            "四十里堡镇",
            "院东头镇",
            "夏蔚镇",
            "沙沟镇",
            "高庄镇",
            "马站镇",
            "高桥镇",
            "富官庄镇",
            "道托镇",
            "泉庄镇",
            "圈里乡",
            "杨庄镇",
        ],
    },
    County {
        code: 371324,
        short: "兰陵县",
        weight: 1.12,
        urban: 0.28,
        towns: &[
            "卞庄街道",
            "苍山街道",
            "尚岩镇",
            "向城镇",
            "长城镇",
            "兰陵镇",
            "大仲村镇",
            "磨山镇",
            "神山镇",
            "车辋镇",
            "鲁城镇",
            "矿坑镇",
            "庄坞镇",
            "南桥镇",
            "下村乡",
            "新兴镇",
            "芦柞镇",
            "层山镇",
        ],
    },
    County {
        code: 371325,
        short: "费县",
        weight: 0.75,
        urban: 0.3,
        towns: &[
            "费城街道",
            "上冶镇",
            "薛庄镇",
            "探沂镇",
            "朱田镇",
            "梁邱镇",
            "新庄镇",
            "马庄镇",
            "胡阳镇",
            "石井镇",
            "东蒙镇",
            "大田庄乡",
            "南张庄乡",
        ],
    },
    County {
        code: 371326,
        short: "平邑县",
        weight: 0.82,
        urban: 0.3,
        towns: &[
            "平邑街道",
            "仲村镇",
            "武台镇",
            "保太镇",
            "柏林镇",
            "卞桥镇",
            "地方镇",
            "铜石镇",
            "温水镇",
            "流峪镇",
            "郑城镇",
            "白彦镇",
            "临涧镇",
            "丰阳镇",
        ],
    },
    County {
        code: 371327,
        short: "莒南县",
        weight: 0.82,
        urban: 0.3,
        towns: &[
            "十字路街道",
            "大店镇",
            "坪上镇",
            "板泉镇",
            "洙边镇",
            "文疃镇",
            "石莲子镇",
            "岭泉镇",
            "筵宾镇",
            "涝坡镇",
            "道口镇",
            "相沟镇",
            "汀水镇",
            "相邸镇",
            "团林镇",
            "朱芦镇",
        ],
    },
    County {
        code: 371328,
        short: "蒙阴县",
        weight: 0.45,
        urban: 0.3,
        towns: &[
            "蒙阴街道",
            "常路镇",
            "岱崮镇",
            "坦埠镇",
            "垛庄镇",
            "高都镇",
            "野店镇",
            "桃墟镇",
            "联城镇",
            "旧寨乡",
        ],
    },
    County {
        code: 371329,
        short: "临沭县",
        weight: 0.58,
        urban: 0.33,
        towns: &[
            "临沭街道",
            "郑山街道",
            "蛟龙镇",
            "大兴镇",
            "石门镇",
            "曹庄镇",
            "南古镇",
            "青云镇",
            "玉山镇",
            "店头镇",
            "白旄镇",
        ],
    },
    County {
        code: 371371,
        short: "高新区",
        weight: 0.2,
        urban: 0.6,
        towns: &["罗西街道", "马厂湖镇"],
    },
    County {
        code: 371372,
        short: "经开区",
        weight: 0.25,
        urban: 0.6,
        towns: &["朝阳街道", "梅埠街道", "芝麻墩街道"],
    },
    County {
        code: 371373,
        short: "临港区",
        weight: 0.15,
        urban: 0.2,
        towns: &["壮岗镇", "团林镇", "坪上镇"],
    },
];

/// A number in Chinese numerals as school names write it (1–999): 十三, 二十, 一百零五.
pub fn chinese_number(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100 % 10, n / 10 % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s.push_str(D[h as usize]);
        s.push('百');
    }
    match (h > 0, t) {
        (_, 0) if h > 0 && u > 0 => s.push('零'),
        (_, 0) => {}
        (false, 1) => s.push('十'),
        _ => {
            s.push_str(D[t as usize]);
            s.push('十');
        }
    }
    if u > 0 || n == 0 {
        s.push_str(D[u as usize]);
    }
    s
}

/// Base numbers at scale 1.0 (whole city): how many schools of each type and their average size.
const TYPE_BASE: &[(SchoolType, f64, f64)] = &[
    (SchoolType::Kindergarten, 1750.0, 180.0),
    (SchoolType::Primary, 700.0, 900.0),
    (SchoolType::TeachingPoint, 130.0, 85.0),
    (SchoolType::Junior, 200.0, 1420.0),
    (SchoolType::NineYear, 110.0, 1040.0),
    (SchoolType::CompleteMiddle, 12.0, 2370.0),
    (SchoolType::Senior, 45.0, 2750.0),
    (SchoolType::TwelveYear, 3.0, 1420.0),
    (SchoolType::Vocational, 35.0, 2270.0),
    (SchoolType::Special, 14.0, 190.0),
];

/// A class of the plan: its record and how many students it will have.
#[derive(Debug, Clone)]
pub struct PlannedClass {
    /// The class.
    pub record: ClassRecord,
    /// Students to generate.
    pub size: u32,
}

/// A school of the plan.
#[derive(Debug, Clone)]
pub struct PlannedSchool {
    /// The school.
    pub record: SchoolRecord,
    /// Its classes.
    pub classes: Vec<PlannedClass>,
    /// Its staff.
    pub staff: Vec<StaffRecord>,
}

/// The demo city: schools, classes and staff in memory; students streamed.
pub struct DemoCity {
    /// Seed.
    pub seed: u64,
    /// Scale.
    pub scale: f64,
    /// The schools with their classes and staff.
    pub schools: Vec<PlannedSchool>,
    id_seq: HashMap<(i32, NaiveDate, bool), u16>,
}

impl DemoCity {
    /// Plans the city for a scale and a seed.
    pub fn plan(scale: f64, seed: u64) -> DemoCity {
        let mut city = DemoCity {
            seed,
            scale,
            schools: Vec::new(),
            id_seq: HashMap::new(),
        };
        let mut r = Rng::new(seed, 1);
        let mut used_names = HashSet::new();
        let mut code_no: i64 = 100;
        let total_w: f64 = COUNTIES.iter().map(|c| c.weight).sum();
        for (ti, (ty, base, avg)) in TYPE_BASE.iter().enumerate() {
            let total = ((base * scale).round() as usize).max(1);
            let per_county = apportion(
                total,
                &COUNTIES
                    .iter()
                    .map(|c| c.weight / total_w)
                    .collect::<Vec<_>>(),
            );
            for (ci, county) in COUNTIES.iter().enumerate() {
                let mut n = per_county[ci];
                // The plan (item 22) wants a special-education school in every county and district.
                if *ty == SchoolType::Special && scale >= 0.5 && county.code < 371370 {
                    n = n.max(1);
                }
                // Every county and zone has a primary school and a kindergarten at any scale, so
                // that small demo cities still show every county.
                if matches!(ty, SchoolType::Primary | SchoolType::Kindergarten) {
                    n = n.max(1);
                }
                for k in 0..n {
                    let mut sr = Rng::new(seed, 1000 + (ti * 100_000 + ci * 5_000 + k) as u64);
                    code_no += sr.range(1, 7);
                    let slot = Slot { county, ty: *ty, k };
                    let s = city.plan_school(&mut sr, slot, *avg, code_no, &mut used_names);
                    city.schools.push(s);
                }
            }
        }
        let _ = r.next_u64();
        // Staff after all schools so that sequence numbers of ID numbers are handed out in a fixed order.
        for i in 0..city.schools.len() {
            let mut sr = Rng::new(seed, 9_000_000 + i as u64);
            let staff = city.plan_staff(&mut sr, i);
            city.schools[i].staff = staff;
            // Head teachers: full-time teachers of the school, in turn.
            let teachers: Vec<IdCardNo> = city.schools[i]
                .staff
                .iter()
                .filter(|s| s.post == Post::Teacher)
                .map(|s| s.id_card.clone())
                .collect();
            if !teachers.is_empty() {
                for (j, c) in city.schools[i].classes.iter_mut().enumerate() {
                    c.record.head_teacher = Some(teachers[j % teachers.len()].clone());
                }
            }
        }
        city
    }

    fn plan_school(
        &self,
        r: &mut Rng,
        slot: Slot<'_>,
        avg: f64,
        code_no: i64,
        used: &mut HashSet<String>,
    ) -> PlannedSchool {
        let Slot { county, ty, .. } = slot;
        let town = *r.pick(county.towns);
        let urban_p = match ty {
            SchoolType::TeachingPoint => 0.0,
            SchoolType::Senior
            | SchoolType::Vocational
            | SchoolType::Special
            | SchoolType::CompleteMiddle
            | SchoolType::TwelveYear => 0.8,
            SchoolType::Junior | SchoolType::NineYear => county.urban * 0.8,
            _ => county.urban,
        };
        let location = if r.chance(urban_p) {
            LocationClass::Urban
        } else if r.chance(0.45) || matches!(ty, SchoolType::Senior | SchoolType::Junior) {
            LocationClass::Town
        } else {
            LocationClass::Rural
        };
        let ownership = {
            let p_private = match ty {
                SchoolType::Kindergarten => 0.55,
                SchoolType::Primary => 0.03,
                SchoolType::Junior | SchoolType::NineYear => 0.05,
                SchoolType::Senior => 0.15,
                SchoolType::TwelveYear => 1.0,
                SchoolType::Vocational => 0.2,
                _ => 0.0,
            };
            if r.chance(p_private) {
                Ownership::Private
            } else {
                Ownership::Public
            }
        };
        let inclusive =
            ty == SchoolType::Kindergarten && ownership == Ownership::Private && r.chance(0.6);
        let central = matches!(ty, SchoolType::Primary | SchoolType::Kindergarten)
            && location != LocationClass::Urban
            && ownership == Ownership::Public
            && r.chance(0.25);
        let parts = NameParts {
            ownership,
            location,
            central,
            town,
        };
        let name = school_name(r, slot, &parts, used);
        let size_factor = (0.35 * r.normal()).exp()
            * match location {
                LocationClass::Urban => 1.3,
                LocationClass::Town => 1.0,
                LocationClass::Rural => 0.6,
            };
        let students = ((avg * size_factor).round() as i64).max(12);
        let stages = ty.default_stages();
        let crowded = location == LocationClass::Urban
            && ownership == Ownership::Public
            && matches!(
                ty,
                SchoolType::Primary
                    | SchoolType::Junior
                    | SchoolType::NineYear
                    | SchoolType::Senior
            )
            && r.chance(0.08);
        let code = SchoolCode::parse(&format!("2137{code_no:06}")).expect("10 digits");
        let mut classes = Vec::new();
        let shares: Vec<(Stage, f64)> = match ty {
            SchoolType::NineYear => vec![(Stage::Primary, 0.55), (Stage::Junior, 0.45)],
            SchoolType::CompleteMiddle => vec![(Stage::Junior, 0.45), (Stage::Senior, 0.55)],
            SchoolType::TwelveYear => vec![
                (Stage::Primary, 0.45),
                (Stage::Junior, 0.25),
                (Stage::Senior, 0.3),
            ],
            SchoolType::Special => vec![(Stage::Primary, 0.6), (Stage::Junior, 0.4)],
            _ => stages.iter().map(|s| (s, 1.0)).collect(),
        };
        for (stage, share) in shares {
            let grades: Vec<Grade> = if ty == SchoolType::TeachingPoint {
                vec![Grade::P1, Grade::P2, Grade::P3]
            } else if ty == SchoolType::Kindergarten && students < 45 {
                vec![Grade::KM]
            } else {
                Grade::of_stage(stage).to_vec()
            };
            let stage_students = students as f64 * share;
            for g in grades {
                let cohort = ((stage_students / Grade::of_stage(stage).len().max(1) as f64)
                    * (1.0 + 0.08 * r.normal()))
                .round()
                .max(4.0) as i64;
                let cohort = if ty == SchoolType::TeachingPoint || g == Grade::KM {
                    (cohort / 2).max(5)
                } else {
                    cohort
                };
                let mut target = match g.stage() {
                    Stage::Preschool => g.standard_class_size() as f64 + r.range(-3, 2) as f64,
                    Stage::Primary => 42.0,
                    Stage::Junior => 47.0,
                    Stage::Senior => 50.0,
                    Stage::Vocational => 45.0,
                } + r.range(-3, 3) as f64;
                if ty == SchoolType::Special {
                    target = 10.0;
                }
                if crowded {
                    target += r.range(8, 14) as f64;
                }
                if g.is_starting() && r.chance(0.95) {
                    target = target.min(54.0);
                }
                let n = ((cohort as f64 / target).round() as i64).max(1);
                let base = cohort / n;
                let mut extra = cohort - base * n;
                for no in 1..=n {
                    let mut size = base + i64::from(extra > 0) + r.range(-1, 1);
                    extra -= 1;
                    size = size.max(3);
                    let year = DEMO_YEAR;
                    classes.push(PlannedClass {
                        record: ClassRecord {
                            school_code: code.clone(),
                            year,
                            grade: g,
                            class_no: no as i32,
                            name: default_class_name(g, no as i32),
                            head_teacher: None,
                        },
                        size: size as u32,
                    });
                }
            }
        }
        let total: i64 = classes.iter().map(|c| i64::from(c.size)).sum();
        let per = |lo: f64, hi: f64, r: &mut Rng| {
            ((total as f64) * (lo + (hi - lo) * r.f64())).round() as i64
        };
        let is_central_or_above = central
            || !matches!(
                ty,
                SchoolType::Kindergarten | SchoolType::Primary | SchoolType::TeachingPoint
            );
        let facilities = Facilities {
            building_area: Some(per(3.2, 7.5, r)),
            sports_area: Some(per(4.5, 13.0, r)),
            equipment_value_fen: Some(per(1500.0, 3500.0, r) * 100),
            books: Some(per(18.0, 45.0, r)),
            computers: Some(per(0.08, 0.22, r)),
            multimedia_rooms: Some(per(0.015, 0.032, r).max(1)),
            bandwidth_mbps: Some(if is_central_or_above && r.chance(0.9) {
                1000
            } else {
                *r.pick(&[100, 200, 300, 500])
            }),
            ipv6: r.chance(0.7),
            security_guard: r.chance(0.97),
            closed_campus: r.chance(0.98),
            alarm_and_video: r.chance(0.96),
            guard_post: r.chance(0.97),
        };
        let record = SchoolRecord {
            code,
            name,
            county: RegionCode::from_i32(county.code),
            school_type: ty,
            stages,
            ownership,
            inclusive,
            location,
            central,
            capacity: Some((total as f64 * (1.0 + 0.25 * r.f64())).round() as i64),
            address: format!(
                "{}{}{}{}号",
                county.short,
                town,
                r.pick(names::ROADS),
                r.range(1, 399)
            ),
            facilities,
        };
        PlannedSchool {
            record,
            classes,
            staff: Vec::new(),
        }
    }

    fn id_for(&mut self, r: &mut Rng, address: i32, birth: NaiveDate, male: bool) -> IdCardNo {
        let start = ((address as u64)
            .wrapping_mul(31)
            .wrapping_add(birth.num_days_from_ce() as u64)
            % 500) as u16;
        let c = self.id_seq.entry((address, birth, male)).or_insert(0);
        let seq = ((start + *c) % 500) * 2 + u16::from(male);
        *c += 1;
        let _ = r;
        IdCardNo::compose(address, birth, seq)
    }

    fn plan_staff(&mut self, r: &mut Rng, i: usize) -> Vec<StaffRecord> {
        let s = &self.schools[i];
        let ty = s.record.school_type;
        let county = s.record.county.get();
        let location = s.record.location;
        let code = s.record.code.clone();
        let students: i64 = s.classes.iter().map(|c| i64::from(c.size)).sum();
        let ratio = match ty {
            SchoolType::Kindergarten => 11.4,
            SchoolType::Primary => 17.7,
            SchoolType::TeachingPoint => 12.5,
            SchoolType::Junior => 13.0,
            SchoolType::NineYear => 14.6,
            SchoolType::CompleteMiddle => 12.5,
            SchoolType::Senior => 12.0,
            SchoolType::TwelveYear => 12.5,
            SchoolType::Vocational => 15.6,
            SchoolType::Special => 3.6,
        };
        let teachers = ((students as f64 / ratio).ceil() as i64).max(1);
        let others = if ty == SchoolType::TeachingPoint {
            0
        } else {
            2 + students / 400
        };
        let female_p = match ty {
            SchoolType::Kindergarten => 0.95,
            SchoolType::Primary | SchoolType::TeachingPoint => 0.75,
            SchoolType::Special => 0.7,
            SchoolType::Junior | SchoolType::NineYear => 0.6,
            _ => 0.5,
        };
        let stage = s.record.stages.iter().next().unwrap_or(Stage::Primary);
        let mut out = Vec::with_capacity((teachers + others) as usize);
        for n in 0..(teachers + others) {
            let post = if n < teachers {
                if ty == SchoolType::Kindergarten && n % 4 == 3 {
                    Post::Carer
                } else {
                    Post::Teacher
                }
            } else {
                *r.weighted(&[
                    (Post::Admin, 0.5),
                    (Post::Support, 0.25),
                    (Post::Service, 0.25),
                ])
            };
            let male = !r.chance(female_p);
            let recruit_2020 = post == Post::Teacher && r.chance(0.025);
            let age = if recruit_2020 {
                r.range(22, 26)
            } else {
                (38.0 + 9.0 * r.normal()).round().clamp(23.0, 59.0) as i64
            };
            let birth = random_birth(r, 2020 - age as i32);
            let address = if r.chance(0.85) {
                county
            } else {
                COUNTIES[r.range(0, 11) as usize].code
            };
            let id_card = self.id_for(r, address, birth, male);
            let hire_year = if recruit_2020 {
                2020
            } else {
                (birth.year() + r.range(21, 25) as i32).min(2019)
            };
            let hire_date = NaiveDate::from_ymd_opt(hire_year, 8, r.range(15, 31) as u32);
            let hire_source = if recruit_2020 && location == LocationClass::Rural && r.chance(0.35)
            {
                HireSource::FundedNormal
            } else if recruit_2020 {
                HireSource::OpenRecruitment
            } else {
                *r.weighted(&[
                    (HireSource::OpenRecruitment, 0.7),
                    (HireSource::TransferIn, 0.15),
                    (HireSource::SpecialPost, 0.06),
                    (HireSource::FundedNormal, 0.04),
                    (HireSource::Talent, 0.02),
                    (HireSource::Veteran, 0.01),
                    (HireSource::Other, 0.02),
                ])
            };
            let education = match stage {
                Stage::Preschool => *r.weighted(&[
                    (Education::College, 0.5),
                    (Education::Bachelor, 0.45),
                    (Education::Secondary, 0.05),
                ]),
                Stage::Primary => *r.weighted(&[
                    (Education::Bachelor, 0.7),
                    (Education::College, 0.25),
                    (Education::Master, 0.05),
                ]),
                Stage::Junior => *r.weighted(&[
                    (Education::Bachelor, 0.85),
                    (Education::Master, 0.1),
                    (Education::College, 0.05),
                ]),
                _ => *r.weighted(&[
                    (Education::Bachelor, 0.7),
                    (Education::Master, 0.28),
                    (Education::Doctor, 0.005),
                    (Education::College, 0.015),
                ]),
            };
            let title = if post != Post::Teacher {
                Title::None
            } else if r.chance(0.002) && age > 45 {
                Title::Senior1
            } else {
                match age {
                    ..=27 => *r.weighted(&[(Title::None, 0.6), (Title::Second, 0.4)]),
                    28..=37 => *r.weighted(&[
                        (Title::Second, 0.5),
                        (Title::First, 0.45),
                        (Title::Third, 0.05),
                    ]),
                    38..=49 => *r.weighted(&[
                        (Title::First, 0.55),
                        (Title::Senior, 0.35),
                        (Title::Second, 0.1),
                    ]),
                    _ => *r.weighted(&[
                        (Title::Senior, 0.5),
                        (Title::First, 0.45),
                        (Title::Second, 0.05),
                    ]),
                }
            };
            let subjects = if post == Post::Teacher {
                subjects_for(r, ty, stage)
            } else {
                vec![]
            };
            let (cert_kind, cert_no) = if post == Post::Teacher && r.chance(0.985) {
                let kind = match stage {
                    Stage::Preschool => CertKind::Kindergarten,
                    Stage::Primary => CertKind::Primary,
                    Stage::Junior => CertKind::Junior,
                    Stage::Senior => CertKind::Senior,
                    Stage::Vocational => CertKind::VocationalSubject,
                };
                (
                    Some(kind),
                    Some(format!(
                        "{}37{:011}",
                        hire_year.max(2000),
                        r.range(0, 99_999_999_999)
                    )),
                )
            } else {
                (None, None)
            };
            let backbone = if post == Post::Teacher {
                *r.weighted(&[
                    (Backbone::None, 0.82),
                    (Backbone::School, 0.06),
                    (Backbone::County, 0.08),
                    (Backbone::City, 0.03),
                    (Backbone::Province, 0.008),
                    (Backbone::Nation, 0.001),
                ])
            } else {
                Backbone::None
            };
            let status = *r.weighted(&[
                (StaffStatus::Active, 0.965),
                (StaffStatus::SickLeave, 0.01),
                (StaffStatus::Seconded, 0.01),
                (StaffStatus::TransferredOut, 0.005),
                (StaffStatus::Left, 0.004),
                (StaffStatus::Retired, 0.006),
            ]);
            let surname = names::surname(r);
            out.push(StaffRecord {
                school_code: code.clone(),
                name: names::full(r, surname, male),
                sex: if male { Sex::Male } else { Sex::Female },
                birth_date: birth,
                id_card,
                post,
                subjects,
                title,
                education,
                cert_kind,
                cert_no,
                hire_date,
                hire_source: Some(hire_source),
                party_member: r.chance(0.33),
                backbone,
                status,
                phone: Some(names::mobile(r)),
            });
        }
        out
    }

    /// Every school.
    pub fn schools(&self) -> impl Iterator<Item = &SchoolRecord> {
        self.schools.iter().map(|s| &s.record)
    }
    /// Every staff member.
    pub fn staff(&self) -> impl Iterator<Item = &StaffRecord> {
        self.schools.iter().flat_map(|s| s.staff.iter())
    }
    /// Every class.
    pub fn classes(&self) -> impl Iterator<Item = &ClassRecord> {
        self.schools
            .iter()
            .flat_map(|s| s.classes.iter().map(|c| &c.record))
    }
    /// Number of students the stream will produce.
    pub fn student_count(&self) -> u64 {
        self.schools
            .iter()
            .flat_map(|s| s.classes.iter())
            .map(|c| u64::from(c.size))
            .sum()
    }
    /// Number of staff.
    pub fn staff_count(&self) -> u64 {
        self.schools.iter().map(|s| s.staff.len() as u64).sum()
    }
    /// Number of classes.
    pub fn class_count(&self) -> u64 {
        self.schools.iter().map(|s| s.classes.len() as u64).sum()
    }

    /// The students, class by class. Deterministic for the seed.
    pub fn students(&self) -> Students<'_> {
        Students {
            city: self,
            school: 0,
            class: 0,
            left: None,
            id_seq: self.id_seq.clone(),
            rng: Rng::new(self.seed, 2),
        }
    }
}

/// Streams the students of a [`DemoCity`].
pub struct Students<'a> {
    city: &'a DemoCity,
    school: usize,
    class: usize,
    left: Option<u32>,
    id_seq: HashMap<(i32, NaiveDate, bool), u16>,
    rng: Rng,
}

impl Iterator for Students<'_> {
    type Item = StudentRecord;
    fn next(&mut self) -> Option<StudentRecord> {
        loop {
            let s = self.city.schools.get(self.school)?;
            let Some(c) = s.classes.get(self.class) else {
                self.school += 1;
                self.class = 0;
                continue;
            };
            let left = self.left.get_or_insert(c.size);
            if *left == 0 {
                self.class += 1;
                self.left = None;
                continue;
            }
            *left -= 1;
            return Some(self.make(s, c));
        }
    }
}

impl Students<'_> {
    fn make(&mut self, s: &PlannedSchool, c: &PlannedClass) -> StudentRecord {
        let r = &mut self.rng;
        let school = &s.record;
        let county = school.county.get();
        let g = c.record.grade;
        let male = r.chance(0.53);
        let age = g.nominal_age() + i32::from(r.chance(0.06));
        // Born between 1 September of (year − age − 1) and the cut-off of (year − age).
        let end =
            NaiveDate::from_ymd_opt(DEMO_YEAR.start() - age, CUTOFF.0, CUTOFF.1).expect("date");
        let birth = end - Duration::days(r.range(0, 364));
        let in_city = r.chance(match school.location {
            LocationClass::Urban => 0.82,
            _ => 0.95,
        });
        let hukou = if in_city {
            if r.chance(0.9) {
                county
            } else {
                COUNTIES[r.range(0, 11) as usize].code
            }
        } else {
            *r.pick(&[
                370102, 370211, 370302, 371102, 371402, 320321, 320382, 321322, 410523, 340321,
                130102,
            ])
        };
        let migrant = hukou != county;
        let rural = school.location != LocationClass::Urban;
        let left_behind = !migrant && r.chance(if rural { 0.11 } else { 0.02 });
        let disability = if school.school_type == SchoolType::Special {
            Some(*r.weighted(&[
                (Disability::Intellectual, 0.6),
                (Disability::Hearing, 0.2),
                (Disability::Visual, 0.1),
                (Disability::Multiple, 0.1),
            ]))
        } else if r.chance(0.0025) {
            Some(*r.pick(&[
                Disability::Physical,
                Disability::Visual,
                Disability::Hearing,
                Disability::Speech,
                Disability::Intellectual,
            ]))
        } else {
            None
        };
        let poor = r.chance(match school.location {
            LocationClass::Rural => 0.025,
            LocationClass::Town => 0.015,
            LocationClass::Urban => 0.004,
        });
        let orphan = r.chance(0.0008);
        let no_id = r.chance(0.005);
        let mut id_card = None;
        let student_no = if no_id {
            // Children without a usable ID number get a J or L number (domain-rules §3.1).
            if r.chance(0.6) {
                let body = IdCardNo::compose(county, birth, r.range(0, 999) as u16);
                StudentNo::parse(&format!("J{}", body.as_str())).expect("J number")
            } else {
                StudentNo::parse(&format!(
                    "L{}{}{:04}",
                    county,
                    birth.format("%Y%m%d"),
                    r.range(0, 9999)
                ))
                .expect("L number")
            }
        } else {
            let start = ((hukou as u64)
                .wrapping_mul(31)
                .wrapping_add(birth.num_days_from_ce() as u64)
                % 500) as u16;
            let n = self.id_seq.entry((hukou, birth, male)).or_insert(0);
            let seq = ((start + *n) % 500) * 2 + u16::from(male);
            *n += 1;
            let id = IdCardNo::compose(hukou, birth, seq);
            let no = StudentNo::from_id_card(&id);
            id_card = Some(id);
            no
        };
        let surname = names::surname(r);
        let name = names::full(r, surname, male);
        let father = Guardian {
            name: names::full(r, surname, true),
            relation: Relation::Father,
            phone: Some(names::mobile(r)),
        };
        let mother_surname = names::surname(r);
        let mother = Guardian {
            name: names::full(r, mother_surname, false),
            relation: Relation::Mother,
            phone: Some(names::mobile(r)),
        };
        let guardians = if left_behind {
            let gp = *r.pick(&[
                Relation::Grandfather,
                Relation::Grandmother,
                Relation::MaternalGrandmother,
            ]);
            let gmale = matches!(gp, Relation::Grandfather);
            vec![
                Guardian {
                    name: names::full(r, surname, gmale),
                    relation: gp,
                    phone: Some(names::mobile(r)),
                },
                father,
            ]
        } else if orphan {
            {
                let gm = r.chance(0.5);
                vec![Guardian {
                    name: names::full(r, surname, gm),
                    relation: Relation::Relative,
                    phone: Some(names::mobile(r)),
                }]
            }
        } else if r.chance(0.85) {
            vec![father, mother]
        } else {
            vec![if r.chance(0.5) { father } else { mother }]
        };
        let status = *r.weighted(&[
            (StudentStatus::Enrolled, 0.9965),
            (StudentStatus::Suspended, 0.002),
            (StudentStatus::Resumed, 0.001),
            (
                StudentStatus::DroppedOut,
                if g.stage() == Stage::Junior {
                    0.0005
                } else {
                    0.0
                },
            ),
        ]);
        let grade_index = Grade::of_stage(g.stage())
            .iter()
            .position(|x| *x == g)
            .unwrap_or(0) as i32;
        let entry_date = NaiveDate::from_ymd_opt(DEMO_YEAR.start() - grade_index, 9, 1);
        let ethnicity = *r.weighted(&[
            (Ethnicity::Han, 0.995),
            (Ethnicity::Hui, 0.003),
            (Ethnicity::Manchu, 0.001),
            (Ethnicity::Zhuang, 0.0005),
            (Ethnicity::Miao, 0.0005),
        ]);
        StudentRecord {
            school_code: school.code.clone(),
            class: Some(ClassRef {
                year: c.record.year,
                grade: g,
                class_no: c.record.class_no,
            }),
            name,
            sex: if male { Sex::Male } else { Sex::Female },
            birth_date: birth,
            id_card,
            student_no,
            ethnicity,
            hukou: Some(RegionCode::from_i32(hukou)),
            migrant,
            left_behind,
            disability,
            poor,
            orphan,
            guardians,
            status,
            entry_date,
        }
    }
}

fn random_birth(r: &mut Rng, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).expect("date") + Duration::days(r.range(0, 364))
}

fn subjects_for(r: &mut Rng, ty: SchoolType, stage: Stage) -> Vec<Subject> {
    use Subject::*;
    let main = match (ty, stage) {
        (SchoolType::Special, _) => SpecialEd,
        (_, Stage::Preschool) => Preschool,
        (_, Stage::Primary) => *r.weighted(&[
            (Chinese, 0.32),
            (Maths, 0.25),
            (English, 0.08),
            (Science, 0.06),
            (Politics, 0.05),
            (PE, 0.07),
            (Music, 0.05),
            (Art, 0.05),
            (IT, 0.03),
            (Practice, 0.02),
            (Psychology, 0.02),
        ]),
        (_, Stage::Vocational) => *r.weighted(&[
            (Vocational, 0.6),
            (Chinese, 0.1),
            (Maths, 0.1),
            (English, 0.08),
            (PE, 0.06),
            (Politics, 0.06),
        ]),
        _ => *r.weighted(&[
            (Chinese, 0.15),
            (Maths, 0.15),
            (English, 0.14),
            (Physics, 0.08),
            (Chemistry, 0.06),
            (Biology, 0.06),
            (Politics, 0.07),
            (History, 0.07),
            (Geography, 0.06),
            (PE, 0.06),
            (Music, 0.03),
            (Art, 0.03),
            (IT, 0.03),
            (Psychology, 0.01),
        ]),
    };
    if r.chance(0.12) && !matches!(main, Preschool | SpecialEd) {
        let second = *r.pick(&[Politics, Practice, Labour, Psychology, IT]);
        if second != main {
            return vec![main, second];
        }
    }
    vec![main]
}

/// Splits `total` by weights with the largest-remainder method (deterministic).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let raw: Vec<f64> = weights.iter().map(|w| w * total as f64).collect();
    let mut out: Vec<usize> = raw.iter().map(|x| x.floor() as usize).collect();
    let mut left = total - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        (raw[*b] - raw[*b].floor())
            .total_cmp(&(raw[*a] - raw[*a].floor()))
            .then(a.cmp(b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// The k-th school of a type in a county, as the plan lays the schools out.
#[derive(Clone, Copy)]
struct Slot<'a> {
    county: &'a County,
    ty: SchoolType,
    k: usize,
}

/// What a school's name is made of besides its slot.
struct NameParts<'a> {
    ownership: Ownership,
    location: LocationClass,
    central: bool,
    town: &'a str,
}

fn school_name(
    r: &mut Rng,
    slot: Slot<'_>,
    parts: &NameParts<'_>,
    used: &mut HashSet<String>,
) -> String {
    let Slot { county, ty, k } = slot;
    let NameParts {
        ownership,
        location,
        central,
        town,
    } = *parts;
    let c = county.short;
    let ord = |k: usize| format!("第{}", chinese_number(k as u32 + 1));
    let village = *r.pick(names::VILLAGES);
    let brand = *r.pick(names::BRANDS);
    let base = match ty {
        SchoolType::Kindergarten if ownership == Ownership::Private => format!("{c}{brand}幼儿园"),
        SchoolType::Kindergarten if central => format!("{c}{town}中心幼儿园"),
        SchoolType::Kindergarten if location == LocationClass::Urban => {
            format!("{c}{}实验幼儿园", ord(k % 12))
        }
        SchoolType::Kindergarten => format!("{c}{town}{village}幼儿园"),
        SchoolType::Primary if ownership == Ownership::Private => format!("{c}{brand}小学"),
        SchoolType::Primary if central => format!("{c}{town}中心小学"),
        SchoolType::Primary if location == LocationClass::Urban => {
            format!("{c}{}实验小学", ord(k % 15))
        }
        SchoolType::Primary => format!("{c}{town}{village}小学"),
        SchoolType::TeachingPoint => format!("{c}{town}{village}教学点"),
        SchoolType::Junior if location == LocationClass::Urban => format!("{c}{}中学", ord(k % 12)),
        SchoolType::Junior => format!("{c}{town}中学"),
        SchoolType::NineYear => format!(
            "{c}{town}{}学校",
            if r.chance(0.5) {
                "实验"
            } else {
                "九年一贯制"
            }
        ),
        SchoolType::CompleteMiddle => format!("{c}{}中学", ord(k + 12)),
        SchoolType::Senior if county.code == 371302 => format!("临沂{}中学", ord(k)),
        SchoolType::Senior if ownership == Ownership::Private => format!("{c}{brand}高级中学"),
        SchoolType::Senior => format!("{c}{}中学", ord(k)),
        SchoolType::TwelveYear => format!("{c}{brand}外国语学校"),
        SchoolType::Vocational if k == 0 => format!("{c}职业中等专业学校"),
        SchoolType::Vocational => format!("{c}{}职业学校", ord(k)),
        SchoolType::Special if k == 0 => format!("{c}特殊教育学校"),
        SchoolType::Special => format!("{c}{}特殊教育学校", ord(k)),
    };
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!(
            "{base}（{}校区）",
            ["", "", "二", "三", "四", "五", "六", "七", "八", "九"]
                .get(n)
                .copied()
                .unwrap_or("新")
        );
        n += 1;
        if n > 9 {
            name = format!("{base}{n}");
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_city() {
        let a = DemoCity::plan(0.01, 7);
        let b = DemoCity::plan(0.01, 7);
        assert_eq!(a.schools.len(), b.schools.len());
        let sa: Vec<_> = a.students().take(500).collect();
        let sb: Vec<_> = b.students().take(500).collect();
        assert_eq!(sa, sb);
        let c = DemoCity::plan(0.01, 8);
        assert_ne!(c.students().next(), a.students().next());
    }

    #[test]
    fn every_number_is_valid_and_unique() {
        let city = DemoCity::plan(0.01, 1);
        let mut ids = HashSet::new();
        let mut nos = HashSet::new();
        for s in city.staff() {
            assert!(IdCardNo::parse(s.id_card.as_str()).is_ok());
            assert!(ids.insert(s.id_card.clone()), "duplicate staff ID");
        }
        let mut n = 0;
        for s in city.students() {
            if let Some(id) = &s.id_card {
                assert_eq!(id.sex(), s.sex);
                assert_eq!(id.birth_date(), s.birth_date);
                assert!(ids.insert(id.clone()), "duplicate student ID");
            }
            assert!(StudentNo::parse(s.student_no.as_str()).is_ok());
            assert!(nos.insert(s.student_no.clone()));
            n += 1;
        }
        assert_eq!(n, city.student_count());
        let codes: HashSet<_> = city.schools().map(|s| s.code.clone()).collect();
        assert_eq!(codes.len(), city.schools.len());
    }

    #[test]
    fn classes_fit_their_schools_stages_and_have_a_tail_of_big_classes() {
        let city = DemoCity::plan(0.2, 3);
        let mut big = 0;
        let mut total = 0;
        for s in &city.schools {
            for c in &s.classes {
                assert!(
                    s.record.stages.contains(c.record.grade.stage()),
                    "{} {:?}",
                    s.record.name,
                    c.record.grade
                );
                if c.record.grade.stage() != Stage::Preschool {
                    total += 1;
                    if c.size >= 56 {
                        big += 1;
                    }
                }
            }
            assert!(s.record.check().is_empty());
        }
        let share = f64::from(big) / f64::from(total);
        assert!(share > 0.003 && share < 0.08, "big-class share {share}");
    }

    #[test]
    fn numbers_read_as_school_names_write_them() {
        let got: Vec<String> = [1, 10, 11, 13, 20, 21, 99, 100, 105, 110, 120]
            .iter()
            .map(|n| chinese_number(*n))
            .collect();
        assert_eq!(
            got,
            [
                "一",
                "十",
                "十一",
                "十三",
                "二十",
                "二十一",
                "九十九",
                "一百",
                "一百零五",
                "一百一十",
                "一百二十"
            ]
        );
    }

    #[test]
    fn every_county_has_schools_even_in_a_tiny_city() {
        let city = DemoCity::plan(0.002, 1);
        for unit in yimeng_domain::region::LINYI_UNITS {
            let types: HashSet<SchoolType> = city
                .schools
                .iter()
                .filter(|s| s.record.county == unit.code)
                .map(|s| s.record.school_type)
                .collect();
            assert!(
                types.contains(&SchoolType::Primary) && types.contains(&SchoolType::Kindergarten),
                "{}",
                unit.name
            );
        }
    }

    #[test]
    fn apportion_keeps_the_total() {
        assert_eq!(apportion(10, &[0.5, 0.3, 0.2]).iter().sum::<usize>(), 10);
        assert_eq!(apportion(1, &[0.2, 0.5, 0.3]), vec![0, 1, 0]);
    }
}
