//! 学校指标事实 (school facts) read from the registry for the plan's computed indicators: the
//! school attributes, the class-size counts of the current school year, the rolls the enrolment
//! indicators divide, and the staff hired in the plan year. One grouped read of the roster index
//! in chunks of schools of about equal size, run concurrently beside the school and staff reads,
//! so a full recompute of the city stays a few grouped scans spread over every core.

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
#[tracing::instrument(skip_all)]
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

    // Every hire of the year, whatever the status now: 新招聘教师数 counts everyone who joined in
    // the year; the 公费师范生 placed count those still in post (the status is in the grouping).
    let mut staff_q = Sql::new(
        "/* multi-county: facts_staff */ SELECT t.county_id, t.school_id, t.post, t.hire_source, t.status, COUNT(*) FROM staff t WHERE ",
    );
    push_scope(&mut staff_q, scope, "t", "school_id");
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or_default();
    staff_q
        .push(" AND t.hire_date >= ")
        .bind(from)
        .push(" AND t.hire_date < ")
        .bind(to)
        .push(" GROUP BY t.county_id, t.school_id, t.post, t.hire_source, t.status");

    // The three reads are independent: the roster chunks keep the readers busy while the school
    // and staff tables are read beside them.
    let (rows, staff, classes) = futures_util::future::try_join3(
        db.all::<SchoolTuple>(q),
        db.all::<(i32, i64, String, Option<String>, String, i64)>(staff_q),
        current_classes(db, scope, rules),
    )
    .await?;

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
    for (county, school, grade, size, on_register) in classes {
        let Some(&i) = index.get(&(county, school)) else {
            continue;
        };
        let f = &mut facts[i];
        f.add_class(grade, size);
        match grade.stage() {
            yimeng_domain::school::Stage::Preschool => f.kg_roll += on_register,
            _ if grade == Grade::S1 => f.senior_first_year += on_register,
            _ if grade == Grade::V1 => f.vocational_first_year += on_register,
            _ => {}
        }
    }
    for (county, school, post, source, status, n) in staff {
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
        let in_post = StaffStatus::from_code(&status).is_some_and(|s| s.is_current());
        if source == Some(HireSource::FundedNormal) && in_post {
            facts[i].funded_normal_hired += n;
        }
    }
    Ok(facts)
}

/// Target number of roster reads a full recompute of the city is split into: one read per county
/// leaves a core idle at the end while the largest county (兰山区, a sixth of the city's
/// students) is still being read; chunks of about equal size keep every core and reader busy.
const ROSTER_CHUNKS: i64 = 16;
/// The smallest chunk worth its own query, in classes (about 40 students each).
const MIN_CHUNK_CLASSES: i64 = 250;

/// One roster read: a county's schools with `lower <= school_id < upper` (open ends: no bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RosterChunk {
    county: i32,
    lower: Option<i64>,
    upper: Option<i64>,
    /// Classes in the range (the proxy for its students), to start the biggest reads first.
    weight: i64,
}

/// Splits each county's school-id range into chunks of about equal class count. `classes` holds
/// (county, school, number of classes) sorted by county and school. The chunks of a county cover
/// every school id (the first has no lower bound, the last no upper bound), so a student of a
/// school without classes is still read.
fn roster_chunks(classes: &[(i32, i64, i64)]) -> Vec<RosterChunk> {
    let total: i64 = classes.iter().map(|c| c.2).sum();
    let target = (total / ROSTER_CHUNKS).max(MIN_CHUNK_CLASSES);
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < classes.len() {
        let county = classes[i].0;
        let mut lower = None;
        let mut weight = 0;
        while i < classes.len() && classes[i].0 == county {
            weight += classes[i].2;
            i += 1;
            if weight >= target && i < classes.len() && classes[i].0 == county {
                let upper = Some(classes[i].1);
                chunks.push(RosterChunk {
                    county,
                    lower,
                    upper,
                    weight,
                });
                lower = upper;
                weight = 0;
            }
        }
        chunks.push(RosterChunk {
            county,
            lower,
            upper: None,
            weight,
        });
    }
    chunks.sort_by_key(|c| std::cmp::Reverse(c.weight));
    chunks
}

/// The current school year's classes of every county in scope: (county, school, grade, class
/// size, students on the register). Class size counts the statuses the rules count
/// (domain-rules §5); the rolls count every student on the register (在籍). The roster index is
/// read in chunks of schools of about equal size, concurrently, so that a large county does not
/// leave the other cores idle.
async fn current_classes(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
) -> Result<Vec<(i32, i64, Grade, i64, i64)>> {
    let mut q = Sql::new(
        "/* multi-county: facts_classes */ SELECT c.county_id, c.id, c.school_id, c.school_year, \
         c.grade FROM class c WHERE ",
    );
    push_scope(&mut q, scope, "c", "school_id");
    let classes: Vec<(i32, i64, i64, i32, String)> = db.all(q).await?;
    let mut latest: HashMap<i32, i32> = HashMap::new();
    let mut per_school: std::collections::BTreeMap<(i32, i64), i64> = Default::default();
    for c in &classes {
        let y = latest.entry(c.0).or_insert(c.3);
        *y = (*y).max(c.3);
        *per_school.entry((c.0, c.2)).or_default() += 1;
    }
    let per_school: Vec<(i32, i64, i64)> = per_school
        .into_iter()
        .map(|((c, s), n)| (c, s, n))
        .collect();
    let chunks = roster_chunks(&per_school);
    let reads = chunks.iter().map(|chunk| {
        let mut q = Sql::new("SELECT t.class_id, t.status, COUNT(*) FROM student t WHERE ");
        push_scope(&mut q, scope, "t", "school_id");
        q.push(" AND t.county_id = ").bind(chunk.county);
        if let Some(lower) = chunk.lower {
            q.push(" AND t.school_id >= ").bind(lower);
        }
        if let Some(upper) = chunk.upper {
            q.push(" AND t.school_id < ").bind(upper);
        }
        // Every student of the range, grouped in the roster index's order: filtering the class
        // and the status here instead (below) makes SQLite's scan a third cheaper, and the few
        // groups of students without a class or off the register cost nothing.
        q.push(" GROUP BY t.school_id, t.class_id, t.status");
        let county = chunk.county;
        async move {
            let rows: Vec<(Option<i64>, String, i64)> = db.all(q).await?;
            Ok::<_, crate::StoreError>((county, rows))
        }
    });
    let counted = counted_statuses(rules);
    let on_register = register_statuses();
    let mut sizes: HashMap<(i32, i64), (i64, i64)> = HashMap::with_capacity(classes.len());
    for (county, rows) in futures_util::future::try_join_all(reads).await? {
        for (class, status, n) in rows {
            let Some(class) = class else { continue };
            if !on_register.contains(&status.as_str()) {
                continue;
            }
            let e = sizes.entry((county, class)).or_default();
            e.1 += n;
            if counted.contains(&status.as_str()) {
                e.0 += n;
            }
        }
    }
    Ok(classes
        .into_iter()
        .filter(|c| latest.get(&c.0) == Some(&c.3))
        .filter_map(|(county, id, school, _, grade)| {
            let grade = Grade::from_code(&grade)?;
            let (size, roll) = sizes.get(&(county, id)).copied().unwrap_or_default();
            Some((county, school, grade, size, roll))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_chunks_cover_every_school_of_each_county_once() {
        // Two counties: a big one of 40 schools of 100 classes, a small one of 3 schools.
        let mut classes: Vec<(i32, i64, i64)> = (1..=40).map(|s| (1, s * 10, 100)).collect();
        classes.extend((1..=3).map(|s| (2, s, 5)));
        let chunks = roster_chunks(&classes);
        for county in [1, 2] {
            let mut mine: Vec<_> = chunks.iter().filter(|c| c.county == county).collect();
            mine.sort_by_key(|c| c.lower);
            assert_eq!(mine.first().map(|c| c.lower), Some(None));
            assert_eq!(mine.last().map(|c| c.upper), Some(None));
            for w in mine.windows(2) {
                assert_eq!(w[0].upper, w[1].lower);
            }
            let weight: i64 = mine.iter().map(|c| c.weight).sum();
            let expected: i64 = classes.iter().filter(|c| c.0 == county).map(|c| c.2).sum();
            assert_eq!(weight, expected);
        }
        // The big county is split (4,015 classes, a 16th is 250), the small one is not.
        assert!(chunks.iter().filter(|c| c.county == 1).count() >= 8);
        assert_eq!(chunks.iter().filter(|c| c.county == 2).count(), 1);
        // Biggest first.
        assert!(chunks.windows(2).all(|w| w[0].weight >= w[1].weight));
    }

    #[test]
    fn a_small_registry_is_read_in_one_chunk_per_county() {
        let classes = [(1, 1, 30), (1, 2, 30), (2, 7, 10)];
        let chunks = roster_chunks(&classes);
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks
                .iter()
                .all(|c| c.lower.is_none() && c.upper.is_none())
        );
        assert!(roster_chunks(&[]).is_empty());
    }
}
