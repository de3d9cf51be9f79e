//! Transfer requests as the pages and the API build them: who may start a cross-boundary
//! request, the request read from a multipart form with its material, the choices of a form.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use crate::kit::upload::{RawFile, read_multipart_files};
use axum::extract::Multipart;
use axum::http::HeaderMap;
use std::collections::HashMap;
use yimeng_domain::transfer::{Initiator, TransferMaterial};
use yimeng_domain::{Grade, RegionCode, Role, Scope};
use yimeng_io::schema::Table;
use yimeng_store::enrolment::MAX_FILE_BYTES;
use yimeng_store::transfer::{NewIncoming, NewOutgoing, TransferUpload};

/// The school of a school account that starts a cross-boundary (外市) request.
pub fn require_school(u: &User) -> Result<yimeng_domain::SchoolRef, Failure> {
    match (&u.scope, u.role()) {
        (Scope::School(s), Role::School) => Ok(*s),
        _ => Err(Failure::Forbidden(
            "跨市转学由本市学校发起（外市转入由转入学校、转出本市由学生所在学校发起）；家长可在“网上申请转学”页面申请".into(),
        )),
    }
}

/// The material files of a transfer request (unknown material codes dropped).
pub fn uploads(files: Vec<RawFile>) -> Vec<TransferUpload> {
    files
        .into_iter()
        .filter_map(|f| {
            Some(TransferUpload {
                material: TransferMaterial::from_code(&f.code)?,
                file_name: f.file_name,
                bytes: f.bytes,
            })
        })
        .collect()
}

fn optional_region(v: &str, what: &str) -> Result<Option<RegionCode>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    RegionCode::parse_any(v)
        .map(Some)
        .map_err(|e| format!("{what}“{v}”：{e}"))
}

/// Builds a 外市转入 request from the form: the student's fields go through the registry's own
/// student parser (the same checks as the student form and imports), placed at `school` and,
/// when chosen, in `class` (the school's own classes).
pub async fn incoming_input(
    state: &AppState,
    f: &HashMap<String, String>,
    school: (i32, i64),
    class_choice: bool,
    started_by: Initiator,
    files: Vec<TransferUpload>,
) -> Result<NewIncoming, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let grade = Grade::parse(get("grade")).map_err(|e| format!("转入年级：{e}"))?;
    let from_county = optional_region(get("from_county"), "转出学校所在地代码")?;
    let s = yimeng_store::school::public_get(&state.db, school.0, school.1)
        .await
        .ok()
        .ok_or_else(|| "转入学校不存在".to_string())?;
    let mut values: HashMap<String, String> = [
        "name",
        "id_card",
        "student_no",
        "sex",
        "birth_date",
        "ethnicity",
        "hukou",
        "guardian1_name",
        "guardian1_relation",
        "guardian1_phone",
    ]
    .iter()
    .map(|k| (k.to_string(), get(k).to_string()))
    .collect();
    values.insert("school_code".into(), s.code.clone());
    values.insert("migrant".into(), "否".into());
    if class_choice && !get("class").is_empty() {
        let id: i64 = get("class")
            .parse()
            .map_err(|_| "所选班级不存在".to_string())?;
        let c = yimeng_store::class::get_in_school(&state.db, &s, id)
            .await
            .ok()
            .ok_or_else(|| "所选班级不属于转入学校".to_string())?;
        values.insert("school_year".into(), c.school_year.to_string());
        values.insert("grade".into(), c.grade.clone());
        values.insert("class_no".into(), c.class_no.to_string());
    }
    let getter = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let record =
        yimeng_io::records::parse_student(&getter, &crate::kit::forms::ctx()).map_err(|errs| {
            errs.iter()
                .map(|e| {
                    let label = Table::Students.header_of(e.field);
                    if e.value.is_empty() {
                        format!("{label}：{}", e.reason)
                    } else {
                        format!("{label}“{}”：{}", e.value, e.reason)
                    }
                })
                .collect::<Vec<_>>()
                .join("；")
        })?;
    Ok(NewIncoming {
        record,
        grade,
        from_name: get("from_name").to_string(),
        from_county,
        started_by,
        reason: get("reason").to_string(),
        files,
        applicant_phone: None,
    })
}

/// Builds a 转出本市 request from the form.
pub fn outgoing_input(
    f: &HashMap<String, String>,
    started_by: Initiator,
    files: Vec<TransferUpload>,
) -> Result<NewOutgoing, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    Ok(NewOutgoing {
        student_no: get("student_no").to_string(),
        id_card: get("id_card").to_string(),
        to_name: get("to_name").to_string(),
        to_county: optional_region(get("to_county"), "转入学校所在地代码")?,
        started_by,
        reason: get("reason").to_string(),
        files,
        applicant_phone: None,
    })
}

/// The fields and material files of a cross-boundary request form; `csrf` as for
/// [`read_multipart_files`].
pub async fn read_form(
    csrf: Option<(&Option<User>, &HeaderMap)>,
    mp: Multipart,
) -> Result<(HashMap<String, String>, Vec<RawFile>), Failure> {
    read_multipart_files(csrf, mp, MAX_FILE_BYTES, |c| {
        TransferMaterial::from_code(c).map(TransferMaterial::label)
    })
    .await
}

/// The classes of a school account's own school, as (id, label), for a form's class choice.
pub async fn own_classes(state: &AppState, u: &User) -> Result<Vec<(i64, String)>, Failure> {
    let Scope::School(s) = &u.scope else {
        return Ok(vec![]);
    };
    let briefs = yimeng_store::class::briefs(&state.db, &u.scope).await?;
    let mut v: Vec<(i64, String)> = briefs
        .into_iter()
        .filter(|c| c.school_id == s.id)
        .map(|c| {
            let g = yimeng_domain::Grade::from_code(&c.grade).map_or("", |g| g.label());
            (
                c.id,
                format!("{} 学年 {}（{}）班", c.school_year, g, c.class_no),
            )
        })
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(v)
}

/// What a parent narrows a public form's receiving schools by: the county, the stage the child
/// goes into, a part of the name. The city has about 3,000 schools; one list of all of them is a
/// page of a quarter megabyte and no way to find one.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SchoolPick {
    /// County code.
    pub county: Option<String>,
    /// Stage code (primary, junior …).
    pub stage: Option<String>,
    /// A part of the school's name.
    pub q: Option<String>,
}

impl SchoolPick {
    /// The pick that lists the county of a chosen school ("county:id"), to show the form again.
    pub fn of_choice(school: &str) -> SchoolPick {
        SchoolPick {
            county: school.split_once(':').map(|(c, _)| c.to_string()),
            ..SchoolPick::default()
        }
    }
    /// The county asked for, if it is one of Linyi's.
    pub fn county(&self) -> Option<i32> {
        let c = self.county.as_deref()?.trim().parse::<i32>().ok()?;
        yimeng_domain::region::LINYI_UNITS
            .iter()
            .any(|u| u.code.get() == c)
            .then_some(c)
    }
    fn stage(&self) -> Option<yimeng_domain::Stage> {
        yimeng_domain::Stage::from_code(self.stage.as_deref()?.trim())
    }
    fn name_part(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
    /// True when nothing narrows the list yet (the form then asks for a county or a name).
    pub fn is_empty(&self) -> bool {
        self.county().is_none() && self.name_part().is_none()
    }
}

/// The schools of the city a pick names, as ("county:id", "county · name"), for a public form's
/// choice; none until a county or a part of the name is given.
pub async fn city_schools(
    state: &AppState,
    pick: &SchoolPick,
) -> Result<Vec<(String, String)>, Failure> {
    if pick.is_empty() {
        return Ok(Vec::new());
    }
    let (county, stage, q) = (pick.county(), pick.stage(), pick.name_part());
    let b = yimeng_store::school::public_briefs(&state.db).await?;
    Ok(b.into_iter()
        .filter(|s| county.is_none_or(|c| s.county_id == c))
        .filter(|s| stage.is_none_or(|st| s.stage_set().contains(st)))
        .filter(|s| q.is_none_or(|q| s.name.contains(q)))
        .map(|s| {
            (
                format!("{}:{}", s.county_id, s.id),
                format!(
                    "{} · {}",
                    yimeng_domain::RegionCode::from_i32(s.county_id).name(),
                    s.name
                ),
            )
        })
        .collect())
}
