//! 学校指标事实 (school facts) read from the registry for the plan's computed indicators: the
//! school attributes, the class-size counts of the current school year, the rolls the enrolment
//! indicators divide, and the staff hired in the plan year. One grouped read of the roster index
//! per county, run concurrently, so a full recompute of the city stays a few grouped scans.

use crate::Result;
use crate::browse::{counted_statuses, register_statuses};
use crate::db::{Db, Sql, push_scope};
use chrono::NaiveDate;
use std::collections::HashMap;
use yimeng_domain::facts::{ClassCounts, SchoolFacts};
use yimeng_domain::plan::is_teacher_recruited_in;
use yimeng_domain::school::{LocationClass, Ownership, SchoolType};
use yimeng_domain::staff::{HireSource, Post, StaffStatus};
use yimeng_domain::{Grade, Rules, Scope};

type SchoolTuple = (
    i32,
    i64,
    String,
    String,
    String,
    String,
    bool,
    String,
    bool,
    Option<i64>,
    bool,
    bool,
    bool,
    bool,
);

/// The facts of every school in scope for plan year `year` (staff hired in that calendar year;
/// classes of the latest school year each county has).
pub async fn school_facts(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    year: i32,
) -> Result<Vec<SchoolFacts>> {
    let mut q = Sql::new(
        "/* multi-county: facts_schools */ SELECT s.county_id, s.id, s.code, s.name, s.school_type, s.ownership, \
         s.inclusive, s.location, s.central, s.bandwidth_mbps, s.security_guard, s.closed_campus, \
         s.alarm_and_video, s.guard_post FROM school s WHERE ",
    );
    push_scope(&mut q, scope, "s", "id");
    q.push(" ORDER BY s.county_id, s.code");
    let rows: Vec<SchoolTuple> = db.all(q).await?;
    let mut facts: Vec<SchoolFacts> = Vec::with_capacity(rows.len());
    let mut index: HashMap<(i32, i64), usize> = HashMap::with_capacity(rows.len());
    for r in rows {
        index.insert((r.0, r.1), facts.len());
        facts.push(SchoolFacts {
            county: r.0,
            school_id: r.1,
            code: r.2,
            name: r.3,
            school_type: SchoolType::from_code(&r.4).unwrap_or(SchoolType::Primary),
            ownership: Ownership::from_code(&r.5).unwrap_or(Ownership::Public),
            inclusive: r.6,
            location: LocationClass::from_code(&r.7).unwrap_or(LocationClass::Urban),
            central: r.8,
            bandwidth_mbps: r.9,
            security_guard: r.10,
            closed_campus: r.11,
            alarm_and_video: r.12,
            guard_post: r.13,
            classes: ClassCounts::default(),
            kg_roll: 0,
            senior_first_year: 0,
            vocational_first_year: 0,
            teachers_recruited: 0,
            funded_normal_hired: 0,
        });
    }
    let counties: Vec<i32> = scope.counties().iter().map(|c| c.get()).collect();
    let per_county = futures_util::future::try_join_all(
        counties
            .iter()
            .map(|&c| county_classes(db, scope, rules, c)),
    )
    .await?;
    for classes in per_county {
        for (county, school, grade, size, on_register) in classes {
            let Some(&i) = index.get(&(county, school)) else {
                continue;
            };
            let f = &mut facts[i];
            f.classes.add_class(grade, size);
            match grade.stage() {
                yimeng_domain::school::Stage::Preschool => f.kg_roll += on_register,
                _ if grade == Grade::S1 => f.senior_first_year += on_register,
                _ if grade == Grade::V1 => f.vocational_first_year += on_register,
                _ => {}
            }
        }
    }

    let current: Vec<&'static str> = StaffStatus::ALL
        .iter()
        .filter(|s| s.is_current())
        .map(|s| s.code())
        .collect();
    let mut q = Sql::new(
        "/* multi-county: facts_staff */ SELECT t.county_id, t.school_id, t.post, t.hire_source, COUNT(*) FROM staff t WHERE ",
    );
    push_scope(&mut q, scope, "t", "school_id");
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or_default();
    q.push(" AND t.hire_date >= ")
        .bind(from)
        .push(" AND t.hire_date < ")
        .bind(to)
        .push(" AND t.status IN ")
        .bind_list(current)
        .push(" GROUP BY t.county_id, t.school_id, t.post, t.hire_source");
    for (county, school, post, source, n) in
        db.all::<(i32, i64, String, Option<String>, i64)>(q).await?
    {
        let Some(&i) = index.get(&(county, school)) else {
            continue;
        };
        let source = source.as_deref().and_then(HireSource::from_code);
        // Every row of the group was hired in `year`: the rules see that date.
        let hired = Some(from);
        if let Some(post) = Post::from_code(&post)
            && is_teacher_recruited_in(post, source, hired, year)
        {
            facts[i].teachers_recruited += n;
        }
        if source == Some(HireSource::FundedNormal) {
            facts[i].funded_normal_hired += n;
        }
    }
    Ok(facts)
}

/// The current school year's classes of one county: (county, school, grade, class size, students
/// on the register). Class size counts the statuses the rules count (domain-rules §5); the rolls
/// count every student on the register (在籍).
async fn county_classes(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    county: i32,
) -> Result<Vec<(i32, i64, Grade, i64, i64)>> {
    let mut q = Sql::new("SELECT c.id, c.school_id, c.school_year, c.grade FROM class c WHERE ");
    push_scope(&mut q, scope, "c", "school_id");
    q.push(" AND c.county_id = ").bind(county);
    let classes: Vec<(i64, i64, i32, String)> = db.all(q).await?;
    let Some(year) = classes.iter().map(|c| c.2).max() else {
        return Ok(Vec::new());
    };
    let mut q = Sql::new("SELECT t.class_id, t.status, COUNT(*) FROM student t WHERE ");
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" AND t.county_id = ")
        .bind(county)
        .push(" AND t.class_id IS NOT NULL AND t.status IN ")
        .bind_list(register_statuses())
        .push(" GROUP BY t.school_id, t.class_id, t.status");
    let counted = counted_statuses(rules);
    let mut sizes: HashMap<i64, (i64, i64)> = HashMap::with_capacity(classes.len());
    for (class, status, n) in db.all::<(i64, String, i64)>(q).await? {
        let e = sizes.entry(class).or_default();
        e.1 += n;
        if counted.contains(&status.as_str()) {
            e.0 += n;
        }
    }
    Ok(classes
        .into_iter()
        .filter(|c| c.2 == year)
        .filter_map(|(id, school, _, grade)| {
            let grade = Grade::from_code(&grade)?;
            let (size, roll) = sizes.get(&id).copied().unwrap_or_default();
            Some((county, school, grade, size, roll))
        })
        .collect())
}
