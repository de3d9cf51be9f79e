//! Demo accounts: one for each role, in each demo county, and for some schools, so that every
//! view of the platform can be tried at once. Created only on a store without accounts.

use crate::auth::hash_password;
use crate::error::Failure;
use yimeng_domain::{RegionCode, Role, SchoolRef};
use yimeng_store::user::NewUser;
use yimeng_store::{Actor, Db, SystemContext};

/// The password of every demo account (shown by `yimeng serve`; change it for real use).
pub const DEMO_PASSWORD: &str = "Linyi2020";

/// A created demo account, for printing.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// What it covers.
    pub covers: String,
}

fn login_of(code: i32) -> &'static str {
    match code {
        371302 => "lanshan",
        371311 => "luozhuang",
        371312 => "hedong",
        371321 => "yinan",
        371322 => "tancheng",
        371323 => "yishui",
        371324 => "lanling",
        371325 => "feixian",
        371326 => "pingyi",
        371327 => "junan",
        371328 => "mengyin",
        371329 => "linshu",
        371371 => "gaoxin",
        371372 => "jingkai",
        _ => "lingang",
    }
}

/// Creates the demo accounts when the store has none. Returns what was created.
pub async fn ensure(db: &Db, sys: &SystemContext) -> Result<Vec<DemoAccount>, Failure> {
    if yimeng_store::user::count(db).await? > 0 {
        return Ok(vec![]);
    }
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))??;
    let actor = Actor {
        name: "demo".into(),
        role: "operator".into(),
        ip: None,
        request_id: None,
    };
    let mut out = Vec::new();
    let mut add = |username: String,
                   display: String,
                   role: Role,
                   county: Option<RegionCode>,
                   school: Option<i64>,
                   covers: String| {
        out.push((
            NewUser {
                username: username.clone(),
                display_name: display,
                password_hash: hash.clone(),
                role,
                county,
                school_id: school,
                must_change_password: false,
                department: None,
            },
            DemoAccount {
                username,
                role,
                covers,
            },
        ));
    };
    add(
        "admin".into(),
        "市局管理员".into(),
        Role::CityAdmin,
        None,
        None,
        "全市".into(),
    );
    add(
        department_username("basic"),
        "市局基础教育科".into(),
        Role::CityDept,
        None,
        None,
        "全市".into(),
    );
    add(
        "gongzhong".into(),
        "公众用户".into(),
        Role::Public,
        None,
        None,
        "学校名录".into(),
    );
    let briefs = yimeng_store::school::briefs(db, &sys.scope()).await?;
    let mut inspectors = Vec::new();
    for unit in yimeng_domain::region::LINYI_UNITS {
        let c = unit.code;
        let schools: Vec<_> = briefs.iter().filter(|b| b.county_id == c.get()).collect();
        if schools.is_empty() {
            continue;
        }
        let login = login_of(c.get());
        add(
            login.into(),
            format!("{}教育局", unit.name),
            Role::County,
            Some(c),
            None,
            unit.name.into(),
        );
        add(
            format!("{login}_dd"),
            format!("{}责任督学", unit.name),
            Role::Inspector,
            Some(c),
            None,
            format!("{}的 {} 所学校", unit.name, schools.len().min(8)),
        );
        inspectors.push((
            format!("{login}_dd"),
            schools
                .iter()
                .take(8)
                .map(|s| SchoolRef {
                    county: c,
                    id: s.id,
                })
                .collect::<Vec<_>>(),
        ));
        // Two schools per county: a primary-stage school and another, with their own accounts.
        let mut picked: Vec<_> = schools
            .iter()
            .filter(|s| s.school_type != "kindergarten")
            .take(1)
            .collect();
        picked.extend(
            schools
                .iter()
                .filter(|s| s.school_type == "kindergarten")
                .take(1),
        );
        for s in picked {
            add(
                format!("s{}", s.code),
                s.name.clone(),
                Role::School,
                Some(c),
                Some(s.id),
                s.name.clone(),
            );
        }
    }
    // 市局科室: one account per department leading items of the seed plan (see
    // [`department_username`]) (the 基础教育科
    // account `jyk` is the basic-education department's), so each can file and approve its own
    // items' monthly reports.
    if let Ok(plan) = yimeng_domain::plan::Plan::parse(crate::service::tracker::SEED_PLAN) {
        for (new, _) in out.iter_mut() {
            if new.username == department_username("basic") {
                new.department = Some("basic".into());
            }
        }
        let mut leads: Vec<&str> = plan.items.iter().map(|i| i.lead.as_str()).collect();
        leads.sort();
        leads.dedup();
        for code in leads {
            if code == "basic" {
                continue;
            }
            let Some(d) = plan.department(code) else {
                continue;
            };
            out.push((
                NewUser {
                    username: department_username(code),
                    display_name: format!("市局{}", d.name),
                    password_hash: hash.clone(),
                    role: Role::CityDept,
                    county: None,
                    school_id: None,
                    must_change_password: false,
                    department: Some(code.to_string()),
                },
                DemoAccount {
                    username: department_username(code),
                    role: Role::CityDept,
                    covers: format!("{}牵头的工作要点", d.name),
                },
            ));
        }
    }
    let mut created = Vec::new();
    for (new, shown) in out {
        yimeng_store::user::create(db, &actor, new).await?;
        created.push(shown);
    }
    for (login, schools) in inspectors {
        if let Some(u) = yimeng_store::user::by_username(db, &login).await? {
            yimeng_store::user::assign_schools(db, &actor, u.id, &schools).await?;
        }
    }
    Ok(created)
}

/// The demo account of a city department that leads plan items: `jyk` for the basic-education
/// department (基础教育科), `k_<code>` for the others.
pub fn department_username(code: &str) -> String {
    if code == "basic" {
        "jyk".into()
    } else {
        format!("k_{code}")
    }
}
