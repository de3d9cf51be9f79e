//! 阳光分班 (balanced class assignment, issue 5) for a school's new intake: the school (or its
//! county bureau) chooses the children — the accepted enrolment applicants of a starting grade, or
//! the school's students on the register without a class — the number of classes, the published
//! seed and the sibling requests (同班/分班); [`yimeng_engine::assignment::assign_classes`] runs
//! in `spawn_blocking`; the page shows the print-ready public list with the balance figures; the
//! commit places every child into 1..k 班 of that grade (created when missing) through the
//! registry's student save, so the class-size gate applies to each placement.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::{render, see_other};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use yimeng_domain::grade::{Gate, gate_placement};
use yimeng_domain::{Grade, IdCardNo, SchoolYear, Sex};
use yimeng_engine::assignment::{Assignment, Child, Sibling, SiblingMode, assign_classes};
use yimeng_store::edit::Saved;
use yimeng_store::import::GateOptions;

/// The form (preview and commit carry the same fields).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct SunshineForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `applications` (accepted enrolment applicants) or `unplaced` (students without a class).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub classes: String,
    #[serde(default)]
    pub seed: String,
    /// One group per line: ID numbers, then 同班 or 分班.
    #[serde(default)]
    pub siblings: String,
    /// `preview` or `commit`.
    #[serde(default)]
    action: String,
}

/// One child as listed.
pub struct Listed {
    pub name: String,
    pub sex: &'static str,
    pub id_card: String,
}

/// One class of the public list.
pub struct ListedClass {
    pub no: u32,
    pub children: Vec<Listed>,
    pub boys: u32,
    pub girls: u32,
    pub mean: String,
}

#[derive(Template)]
#[template(path = "sunshine.html")]
struct SunshinePage {
    ctx: Ctx,
    school_id: i64,
    school_name: String,
    f: SunshineForm,
    grades: Vec<(&'static str, &'static str)>,
    candidates: usize,
    result: Option<(Vec<ListedClass>, String)>,
    error: Option<String>,
}

fn defaults(grades: &[(&'static str, &'static str)]) -> SunshineForm {
    use chrono::Datelike;
    let today = crate::service::today();
    SunshineForm {
        source: "applications".into(),
        year: today.year().to_string(),
        grade: grades.first().map(|g| g.0.to_string()).unwrap_or_default(),
        classes: "1".into(),
        seed: today.format("%Y%m%d").to_string(),
        ..SunshineForm::default()
    }
}

async fn school_of(
    state: &AppState,
    u: &User,
    id: i64,
) -> Result<
    (
        yimeng_store::school::SchoolRow,
        Vec<(&'static str, &'static str)>,
    ),
    Failure,
> {
    let s = yimeng_store::school::get(&state.db, &u.scope, id).await?;
    let stages = yimeng_domain::StageSet::from_codes(&s.stages);
    let grades = stages
        .iter()
        .filter_map(|st| Grade::of_stage(st).first().copied())
        .map(|g| (g.code(), g.label()))
        .collect();
    Ok((s, grades))
}

/// `GET /schools/{id}/sunshine`
pub async fn form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let (s, grades) = school_of(&state, &u, id).await?;
    let f = defaults(&grades);
    Ok(render(&SunshinePage {
        ctx: Ctx::for_user(&u, "/schools"),
        school_id: id,
        school_name: s.name,
        f,
        grades,
        candidates: 0,
        result: None,
        error: None,
    })?
    .into_response())
}

/// A child of the intake with what the list shows and how to place it.
struct Candidate {
    child: Child,
    listed: Listed,
    /// The application (county, id) or the student id.
    place: Place,
    id_card: Option<String>,
}

enum Place {
    Application(i32, i64),
    Student(Box<yimeng_store::student::StudentRow>),
}

async fn candidates(
    state: &AppState,
    u: &User,
    county: i32,
    school: i64,
    f: &SunshineForm,
    year: i32,
    grade: Grade,
) -> Result<Vec<Candidate>, Failure> {
    let sex_label = |s: Sex| s.label();
    Ok(if f.source == "unplaced" {
        yimeng_store::enrolment::unplaced(&state.db, &u.scope, county, school)
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
                        sex: sex_label(sex),
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
        yimeng_store::enrolment::accepted_for(&state.db, &u.scope, county, school, year, grade)
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
                        sex: sex_label(sex),
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
fn apply_siblings(cands: &mut [Candidate], text: &str) -> Result<(), String> {
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
        if tokens.is_empty() {
            continue;
        }
        let (mode, ids) = tokens.split_last().expect("not empty");
        let mode = match *mode {
            "同班" | "together" => SiblingMode::Together,
            "分班" | "apart" => SiblingMode::Apart,
            m => {
                return Err(format!(
                    "同胞第 {} 行：最后一项应为“同班”或“分班”，不是“{m}”",
                    n + 1
                ));
            }
        };
        if ids.len() < 2 {
            return Err(format!("同胞第 {} 行：至少填写两名儿童的身份证件号", n + 1));
        }
        let mut members = Vec::new();
        for id in ids {
            let key = id.trim().to_uppercase();
            let Some(&i) = by_card.get(&key) else {
                return Err(format!(
                    "同胞第 {} 行：身份证件号“{}”不在本次分班名单中",
                    n + 1,
                    yimeng_domain::idcard::mask(&key)
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
            classes[k as usize].children.push(Listed {
                name: c.listed.name.clone(),
                sex: c.listed.sex,
                id_card: c.listed.id_card.clone(),
            });
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

/// `POST /schools/{id}/sunshine` — preview (`action=preview`) or commit (`action=commit`).
pub async fn run(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<SunshineForm>,
) -> PageResult<Response> {
    u.require_writer()?;
    u.check_csrf(Some(&f.csrf))?;
    let (s, grades) = school_of(&state, &u, id).await?;
    let county = s.county_id;
    let page = |f: SunshineForm, n: usize, result, error| SunshinePage {
        ctx: Ctx::for_user(&u, "/schools"),
        school_id: id,
        school_name: s.name.clone(),
        f,
        grades: grades.clone(),
        candidates: n,
        result,
        error,
    };
    let parsed = (|| {
        let year = f
            .year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or("学年应为起始年份，如 2026")?;
        let grade = Grade::from_code(f.grade.trim())
            .filter(|g| g.is_starting())
            .ok_or("请选择起始年级")?;
        let k = f
            .classes
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|k| (1..=40).contains(k))
            .ok_or("班级数应为 1 至 40")?;
        let seed = f
            .seed
            .trim()
            .parse::<u64>()
            .map_err(|_| "随机种子应为非负整数（公开公布）")?;
        Ok::<_, &str>((year, grade, k, seed))
    })();
    let (year, grade, k, seed) = match parsed {
        Ok(v) => v,
        Err(m) => {
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(f, 0, None, Some(m.to_string())))?,
            )
                .into_response());
        }
    };
    let mut cands = candidates(&state, &u, county, id, &f, year, grade).await?;
    let n = cands.len();
    if let Err(m) = apply_siblings(&mut cands, &f.siblings) {
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&page(f, n, None, Some(m)))?,
        )
            .into_response());
    }
    if cands.is_empty() {
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&page(f, 0, None, Some("没有待分班的儿童".into())))?,
        )
            .into_response());
    }
    let children: Vec<Child> = cands.iter().map(|c| c.child.clone()).collect();
    let assigned = tokio::task::spawn_blocking(move || assign_classes(&children, k, seed))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let a = match assigned {
        Ok(a) => a,
        Err(e) => {
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(f, n, None, Some(e.to_string())))?,
            )
                .into_response());
        }
    };
    if f.action != "commit" {
        let list = listed(&cands, &a);
        return Ok(render(&page(f, n, Some(list), None))?.into_response());
    }
    // Commit: the classes 1..k, the gate checked for every class before anything is placed.
    let code = s.code.clone();
    let mut class_ids = Vec::new();
    for no in 1..=k as i32 {
        let rec = yimeng_domain::class::ClassRecord {
            school_code: yimeng_domain::SchoolCode::from_stored(code.clone()),
            year: SchoolYear::from_start(year),
            grade,
            class_no: no,
            name: yimeng_domain::class::default_class_name(grade, no),
            head_teacher: None,
        };
        let existing =
            yimeng_store::class::find_in_school(&state.db, &u.scope, &s, year, grade, no).await?;
        let cid = match existing {
            Some(cid) => cid,
            None => {
                match yimeng_store::edit::save_class(&state.db, &u.scope, &u.actor(), rec, None)
                    .await?
                {
                    Saved::Ok(cid) => cid,
                    Saved::Invalid(e) => {
                        let m = e
                            .iter()
                            .map(|e| e.reason.clone())
                            .collect::<Vec<_>>()
                            .join("；");
                        return Ok((
                            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                            render(&page(f, n, None, Some(m)))?,
                        )
                            .into_response());
                    }
                }
            }
        };
        let now = yimeng_store::gate::class_size_now(&state.db, &state.rules, county, cid).await?;
        let adding = a.classes[(no - 1) as usize].size;
        if let Gate::Refused { message } =
            gate_placement(grade, now as u32, adding, &state.rules, None)
        {
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(
                    f,
                    n,
                    None,
                    Some(format!(
                        "{}：{message}（请增加班级数）",
                        grade.label_class(no)
                    )),
                ))?,
            )
                .into_response());
        }
        class_ids.push(cid);
    }
    let mut placed = 0;
    let mut problems = Vec::new();
    for c in cands {
        let Some(k) = a.class_of(c.child.id) else {
            continue;
        };
        let cid = class_ids[k as usize];
        let gate = GateOptions::with_rules(&state.rules);
        let ok = match c.place {
            Place::Application(county, app) => {
                match yimeng_store::enrolment::enrol(
                    &state.db,
                    &u.actor(),
                    &u.scope,
                    county,
                    app,
                    cid,
                    gate,
                )
                .await
                {
                    Ok((Ok(_), _)) => Ok(()),
                    Ok((Err(e), _)) => Err(e
                        .iter()
                        .map(|e| e.reason.clone())
                        .collect::<Vec<_>>()
                        .join("；")),
                    Err(e) => Err(e.to_string()),
                }
            }
            Place::Student(row) => {
                let rec = row.to_record(
                    &code,
                    Some(yimeng_domain::student::ClassRef {
                        year: SchoolYear::from_start(year),
                        grade,
                        class_no: k as i32 + 1,
                    }),
                );
                match yimeng_store::edit::save_student_gated(
                    &state.db,
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
                    Ok((Saved::Invalid(e), _)) => Err(e
                        .iter()
                        .map(|e| e.reason.clone())
                        .collect::<Vec<_>>()
                        .join("；")),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        match ok {
            Ok(()) => placed += 1,
            Err(m) => problems.push(format!("{}：{m}", c.listed.name)),
        }
    }
    let mut flash = format!(
        "阳光分班已编班：{placed} 人编入{}（1）至（{k}）班（随机种子 {seed}）",
        grade.label()
    );
    if !problems.is_empty() {
        flash.push_str(&format!(
            "；未能编班 {} 人：{}",
            problems.len(),
            problems.join("；")
        ));
    }
    Ok(see_other(&format!("/schools/{id}"), Some(&flash)))
}

/// `一年级（2）班`.
trait ClassLabel {
    fn label_class(self, no: i32) -> String;
}

impl ClassLabel for Grade {
    fn label_class(self, no: i32) -> String {
        yimeng_domain::class::default_class_name(self, no)
    }
}
