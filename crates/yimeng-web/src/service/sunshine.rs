//! 阳光分班 (balanced class assignment, issue 5): the work behind the page (`pages::sunshine`) and
//! the API (`api::sunshine`). A school (or its county bureau) chooses the children — the accepted
//! enrolment applicants of a starting grade, or the school's students on the register without a
//! class — the number of classes, the published seed and the sibling requests (同班/分班);
//! [`yimeng_engine::assignment::assign_classes`] runs in `spawn_blocking`. [`preview`] gives the
//! print-ready public list with the balance figures; [`commit`] places every child into 1..k 班
//! of that grade (created when missing) through the registry's student save and enrolment, so the
//! class-size gate applies to each placement.
//!
//! Both surfaces share the rules here: registry writers only, the school in the caller's scope
//! (404 outside), every input problem a [`Failure::Fields`] naming the field in Chinese.

use crate::auth::User;
use crate::error::Failure;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use yimeng_domain::grade::{Gate, gate_placement};
use yimeng_domain::{FieldError, Grade, IdCardNo, Rules, SchoolYear, Sex};
use yimeng_engine::assignment::{Assignment, Child, Sibling, SiblingMode, assign_classes};
use yimeng_store::Db;
use yimeng_store::edit::Saved;
use yimeng_store::import::GateOptions;
use yimeng_store::school::SchoolRow;

/// What an assignment is asked for, as the form and the API body give it (text, parsed here).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Request {
    /// `applications` (accepted enrolment applicants) or `unplaced` (students without a class).
    pub source: String,
    /// The school year's start year, e.g. 2026.
    pub year: String,
    /// The starting grade's code (P1, J1 …).
    pub grade: String,
    /// Number of classes, 1 to 40.
    pub classes: String,
    /// The published seed (a non-negative integer).
    pub seed: String,
    /// One group per line: ID numbers, then 同班 or 分班.
    pub siblings: String,
}

/// A request, parsed.
#[derive(Debug, Clone, Copy)]
struct Params {
    unplaced: bool,
    year: i32,
    grade: Grade,
    classes: u32,
    seed: u64,
}

fn refused(field: &'static str, value: &str, reason: impl Into<String>) -> Failure {
    Failure::Fields(vec![FieldError::new(field, value, reason)])
}

impl Request {
    fn parse(&self) -> Result<Params, Failure> {
        let unplaced = match self.source.trim() {
            "" | "applications" => false,
            "unplaced" => true,
            other => {
                return Err(refused(
                    "source",
                    other,
                    "名单来源应为 applications（已录取的入学申请）或 unplaced（未分班的在籍学生）",
                ));
            }
        };
        let year = self
            .year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| refused("year", &self.year, "学年应为起始年份，如 2026"))?;
        let grade = Grade::from_code(self.grade.trim())
            .filter(|g| g.is_starting())
            .ok_or_else(|| refused("grade", &self.grade, "请选择起始年级"))?;
        let classes = self
            .classes
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|k| (1..=40).contains(k))
            .ok_or_else(|| refused("classes", &self.classes, "班级数应为 1 至 40"))?;
        let seed = self
            .seed
            .trim()
            .parse::<u64>()
            .map_err(|_| refused("seed", &self.seed, "随机种子应为非负整数（公开公布）"))?;
        Ok(Params {
            unplaced,
            year,
            grade,
            classes,
            seed,
        })
    }
}

/// One child as listed (ID number masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listed {
    /// Name.
    pub name: String,
    /// 男 or 女.
    pub sex: &'static str,
    /// ID number, masked.
    pub id_card: String,
}

/// One class of the public list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedClass {
    /// Class number (1-based).
    pub no: u32,
    /// The children, by name.
    pub children: Vec<Listed>,
    /// Boys.
    pub boys: u32,
    /// Girls.
    pub girls: u32,
    /// Mean score, or “—” without scores.
    pub mean: String,
}

/// The preview: the public list and its balance figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    /// Children assigned.
    pub candidates: usize,
    /// The seed used.
    pub seed: u64,
    /// The classes with their children.
    pub classes: Vec<ListedClass>,
    /// The balance figures in words (班额最大差, 男生比例最大差, 平均分最大差).
    pub summary: String,
}

/// What a commit did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Committed {
    /// Children placed into their classes.
    pub placed: usize,
    /// Number of classes (1..k 班 of the grade).
    pub classes: u32,
    /// The seed used.
    pub seed: u64,
    /// The grade's Chinese name.
    pub grade: String,
    /// Children that could not be placed: name and reason.
    pub problems: Vec<String>,
}

impl Committed {
    /// The message shown after a commit.
    pub fn message(&self) -> String {
        let mut m = format!(
            "阳光分班已编班：{} 人编入{}（1）至（{}）班（随机种子 {}）",
            self.placed, self.grade, self.classes, self.seed
        );
        if !self.problems.is_empty() {
            m.push_str(&format!(
                "；未能编班 {} 人：{}",
                self.problems.len(),
                self.problems.join("；")
            ));
        }
        m
    }
}

/// The school of a 阳光分班 (registry writers, in scope) and its starting grades (code, name).
pub async fn school(
    db: &Db,
    u: &User,
    id: i64,
) -> Result<(SchoolRow, Vec<(&'static str, &'static str)>), Failure> {
    u.require_writer()?;
    let s = yimeng_store::school::get(db, &u.scope, id).await?;
    let stages = yimeng_domain::StageSet::from_codes(&s.stages);
    let grades = stages
        .iter()
        .filter_map(|st| Grade::of_stage(st).first().copied())
        .map(|g| (g.code(), g.label()))
        .collect();
    Ok((s, grades))
}

/// A child of the intake with what the list shows and how to place it.
struct Candidate {
    child: Child,
    listed: Listed,
    place: Place,
    id_card: Option<String>,
}

/// The application (county, id) or the student.
enum Place {
    Application(i32, i64),
    Student(Box<yimeng_store::student::StudentRow>),
}

async fn candidates(
    db: &Db,
    u: &User,
    school: &SchoolRow,
    p: Params,
) -> Result<Vec<Candidate>, Failure> {
    let (county, id) = (school.county_id, school.id);
    Ok(if p.unplaced {
        yimeng_store::enrolment::unplaced(db, &u.scope, county, id)
            .await?
            .into_iter()
            .map(|s| {
                let sex = Sex::from_code(s.sex).unwrap_or(Sex::Male);
                Candidate {
                    child: Child {
                        id: s.id,
                        sex,
                        score: None,
                        sibling: None,
                    },
                    listed: Listed {
                        name: s.name.clone(),
                        sex: sex.label(),
                        id_card: s
                            .id_card
                            .as_deref()
                            .map(yimeng_domain::idcard::mask)
                            .unwrap_or_default(),
                    },
                    id_card: s.id_card.clone(),
                    place: Place::Student(Box::new(s)),
                }
            })
            .collect()
    } else {
        yimeng_store::enrolment::accepted_for(db, &u.scope, county, id, p.year, p.grade)
            .await?
            .into_iter()
            .map(|a| {
                let sex = IdCardNo::from_stored(a.id_card.clone()).sex();
                Candidate {
                    child: Child {
                        id: a.id,
                        sex,
                        score: None,
                        sibling: None,
                    },
                    listed: Listed {
                        name: a.child_name.clone(),
                        sex: sex.label(),
                        id_card: a.id_card_masked(),
                    },
                    id_card: Some(a.id_card.clone()),
                    place: Place::Application(a.county_id, a.id),
                }
            })
            .collect()
    })
}

/// Applies the sibling lines ("身份证件号 身份证件号 同班|分班") to the candidates.
fn apply_siblings(cands: &mut [Candidate], text: &str) -> Result<(), Failure> {
    let by_card: HashMap<String, usize> = cands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.id_card.clone().map(|k| (k, i)))
        .collect();
    for (n, line) in text.lines().enumerate() {
        let tokens: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|t| !t.is_empty())
            .collect();
        let Some((mode, ids)) = tokens.split_last() else {
            continue;
        };
        let mode = match *mode {
            "同班" | "together" => SiblingMode::Together,
            "分班" | "apart" => SiblingMode::Apart,
            m => {
                return Err(refused(
                    "siblings",
                    line,
                    format!(
                        "同胞第 {} 行：最后一项应为“同班”或“分班”，不是“{}”",
                        n + 1,
                        yimeng_domain::text::preview(m, 20)
                    ),
                ));
            }
        };
        if ids.len() < 2 {
            return Err(refused(
                "siblings",
                line,
                format!("同胞第 {} 行：至少填写两名儿童的身份证件号", n + 1),
            ));
        }
        let mut members = Vec::new();
        for id in ids {
            let key = id.trim().to_uppercase();
            let Some(&i) = by_card.get(&key) else {
                return Err(refused(
                    "siblings",
                    &format!("第 {} 行", n + 1),
                    format!(
                        "同胞第 {} 行：身份证件号“{}”不在本次分班名单中",
                        n + 1,
                        yimeng_domain::idcard::mask(&key)
                    ),
                ));
            };
            members.push(i);
        }
        let group = cands[members[0]].child.id;
        for i in members {
            cands[i].child.sibling = Some(Sibling { group, mode });
        }
    }
    Ok(())
}

fn listed(cands: &[Candidate], a: &Assignment) -> (Vec<ListedClass>, String) {
    let mut classes: Vec<ListedClass> = a
        .classes
        .iter()
        .map(|b| ListedClass {
            no: b.class + 1,
            children: Vec::new(),
            boys: b.boys,
            girls: b.girls,
            mean: b
                .score_mean
                .map(|m| format!("{m:.1}"))
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    for c in cands {
        if let Some(k) = a.class_of(c.child.id) {
            classes[k as usize].children.push(c.listed.clone());
        }
    }
    for c in &mut classes {
        c.children.sort_by(|x, y| x.name.cmp(&y.name));
    }
    let s = &a.summary;
    let summary = format!(
        "班额最大差 {} 人；男生比例最大差 {:.1} 个百分点{}",
        s.max_size_difference,
        s.max_sex_ratio_spread * 100.0,
        s.max_mean_spread
            .map(|m| format!("；平均分最大差 {m:.1}"))
            .unwrap_or_default()
    );
    (classes, summary)
}

/// Reads the children, applies the sibling requests and runs the engine on a blocking thread.
async fn assign(
    db: &Db,
    u: &User,
    school: &SchoolRow,
    r: &Request,
) -> Result<(Params, Vec<Candidate>, Assignment), Failure> {
    let p = r.parse()?;
    let mut cands = candidates(db, u, school, p).await?;
    apply_siblings(&mut cands, &r.siblings)?;
    if cands.is_empty() {
        return Err(refused("source", &r.source, "没有待分班的儿童"));
    }
    let children: Vec<Child> = cands.iter().map(|c| c.child.clone()).collect();
    let (k, seed) = (p.classes, p.seed);
    let a = tokio::task::spawn_blocking(move || assign_classes(&children, k, seed))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
        .map_err(|e| refused("classes", &r.classes, e.to_string()))?;
    Ok((p, cands, a))
}

/// The assignment for `r`, not written: the public list and its balance figures.
pub async fn preview(
    db: &Db,
    u: &User,
    school: &SchoolRow,
    r: &Request,
) -> Result<Preview, Failure> {
    let (p, cands, a) = assign(db, u, school, r).await?;
    let (classes, summary) = listed(&cands, &a);
    Ok(Preview {
        candidates: cands.len(),
        seed: p.seed,
        classes,
        summary,
    })
}

/// The classes 1..k of the grade (created when missing), each checked against the class-size
/// gate for what it receives before anything is placed.
async fn classes_for(
    db: &Db,
    u: &User,
    rules: &Rules,
    school: &SchoolRow,
    p: Params,
    a: &Assignment,
) -> Result<Vec<i64>, Failure> {
    let mut ids = Vec::new();
    for no in 1..=p.classes as i32 {
        let existing =
            yimeng_store::class::find_in_school(db, &u.scope, school, p.year, p.grade, no).await?;
        let cid = match existing {
            Some(cid) => cid,
            None => {
                let rec = yimeng_domain::class::ClassRecord {
                    school_code: yimeng_domain::SchoolCode::from_stored(school.code.clone()),
                    year: SchoolYear::from_start(p.year),
                    grade: p.grade,
                    class_no: no,
                    name: yimeng_domain::class::default_class_name(p.grade, no),
                    head_teacher: None,
                };
                match yimeng_store::edit::save_class(db, &u.scope, &u.actor(), rec, None).await? {
                    Saved::Ok(cid) => cid,
                    Saved::Invalid(e) => return Err(Failure::Fields(e)),
                }
            }
        };
        let now = yimeng_store::gate::class_size_now(db, rules, school.county_id, cid).await?;
        let adding = a.classes[(no - 1) as usize].size;
        if let Gate::Refused { message } = gate_placement(p.grade, now as u32, adding, rules, None)
        {
            return Err(refused(
                "classes",
                &p.classes.to_string(),
                format!(
                    "{}：{message}（请增加班级数）",
                    yimeng_domain::class::default_class_name(p.grade, no)
                ),
            ));
        }
        ids.push(cid);
    }
    Ok(ids)
}

fn reasons(e: &[FieldError]) -> String {
    e.iter()
        .map(|e| e.reason.clone())
        .collect::<Vec<_>>()
        .join("；")
}

/// What every placement of a commit shares.
#[derive(Clone, Copy)]
struct Job<'a> {
    db: &'a Db,
    u: &'a User,
    rules: &'a Rules,
    school: &'a SchoolRow,
    p: Params,
}

/// Places one child into its class: an accepted application is enrolled, a student on the
/// register is saved with the class. Returns the reason when refused.
async fn place(job: &Job<'_>, c: Candidate, class_id: i64, class_no: i32) -> Result<(), String> {
    let Job {
        db,
        u,
        rules,
        school,
        p,
    } = *job;
    let gate = GateOptions::with_rules(rules);
    match c.place {
        Place::Application(county, app) => {
            match yimeng_store::enrolment::enrol(
                db,
                &u.actor(),
                &u.scope,
                county,
                app,
                class_id,
                gate,
            )
            .await
            {
                Ok((Ok(_), _)) => Ok(()),
                Ok((Err(e), _)) => Err(reasons(&e)),
                Err(e) => Err(e.to_string()),
            }
        }
        Place::Student(row) => {
            let rec = row.to_record(
                &school.code,
                Some(yimeng_domain::student::ClassRef {
                    year: SchoolYear::from_start(p.year),
                    grade: p.grade,
                    class_no,
                }),
            );
            match yimeng_store::edit::save_student_gated(
                db,
                &u.scope,
                &u.actor(),
                rec,
                Some(row.id),
                None,
                gate,
            )
            .await
            {
                Ok((Saved::Ok(_), _)) => Ok(()),
                Ok((Saved::Invalid(e), _)) => Err(reasons(&e)),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Runs the assignment for `r` and places every child (each placement audited by the enrolment
/// or the student save); the classes are checked against the class-size gate first.
pub async fn commit(
    db: &Db,
    u: &User,
    rules: &Rules,
    school: &SchoolRow,
    r: &Request,
) -> Result<Committed, Failure> {
    let (p, cands, a) = assign(db, u, school, r).await?;
    let class_ids = classes_for(db, u, rules, school, p, &a).await?;
    let job = Job {
        db,
        u,
        rules,
        school,
        p,
    };
    let mut placed = 0;
    let mut problems = Vec::new();
    for c in cands {
        let Some(k) = a.class_of(c.child.id) else {
            continue;
        };
        let name = c.listed.name.clone();
        match place(&job, c, class_ids[k as usize], k as i32 + 1).await {
            Ok(()) => placed += 1,
            Err(m) => problems.push(format!("{name}：{m}")),
        }
    }
    Ok(Committed {
        placed,
        classes: p.classes,
        seed: p.seed,
        grade: p.grade.label().to_string(),
        problems,
    })
}
