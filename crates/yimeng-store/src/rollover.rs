//! 学年升级 (year rollover, issue 5): at the start of school year `Y`, every 在籍 student (在读,
//! 休学, 复学) in a class of year `Y-1` moves to the class with the same number in the next grade
//! of year `Y` (created here from the old class: same school, number and head teacher), and every
//! 在读 or 复学 student in the final grade of a stage (大班, 六年级, 九年级, 高三, 中职三年级 —
//! the last of [`Grade::of_stage`]) graduates (毕业, with a 学籍异动 row); a 休学 student there
//! stays 休学 in its class (leaving 休学 is a 复学, made only by an approved request). In a school that also teaches
//! 初中 (九年一贯制, or any school whose stages hold both), 六年级 go on to 七年级 of the same
//! school and class number (直升) instead of graduating. The starting grades (小班, 一年级,
//! 七年级, 高一, 中职一年级) of year `Y` get as many classes, by number, as the school had in
//! year `Y-1` (empty and without a head teacher: the new intake comes through enrolment and
//! 阳光分班; the school adds or removes classes as its intake needs). Mixed-age kindergarten
//! classes (混龄班) and students without a class are left as they are.
//!
//! Set-based: a few statements per county (1.7 million students at full scale), never a row at a
//! time; every county in one transaction; recorded in `rollover_run` (one per school year, so a
//! second run is refused) and the audit log. A dry run counts what would change, per county.

use crate::audit::{self, CITY_COUNTY_ID, Entry};
use crate::db::{Db, Sql, Tx, Value};
use crate::{Actor, Result, StoreError};
use chrono::{SubsecRound, Utc};
use serde::Serialize;
use yimeng_domain::{Grade, Stage, StudentStatus};

/// What the rollover changes (or would change) in one county.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CountyCounts {
    pub county_id: i32,
    /// 在籍 students moved one grade up.
    pub promoted: i64,
    /// 在籍 students of a final grade who graduate.
    pub graduated: i64,
    /// Classes of the new year created.
    pub classes_created: i64,
}

/// The rollover's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rollover {
    /// The new school year (its start year).
    pub school_year: i32,
    pub dry_run: bool,
    pub counties: Vec<CountyCounts>,
}

impl Rollover {
    /// Totals over the counties.
    pub fn total(&self) -> CountyCounts {
        let mut t = CountyCounts::default();
        for c in &self.counties {
            t.promoted += c.promoted;
            t.graduated += c.graduated;
            t.classes_created += c.classes_created;
        }
        t
    }
}

/// Whether the school of class alias `a` also teaches 初中 (九年一贯制): its 六年级 go on to
/// 七年级 in the same school.
fn through_school(a: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM school k WHERE k.county_id = {a}.county_id AND k.id = {a}.school_id \
         AND (',' || k.stages || ',') LIKE '%,{}%')",
        Stage::Junior.code()
    )
}

/// The `CASE` that maps the grade of class alias `a` to the next grade (`NULL` for final grades
/// and 混龄班; 六年级 → 七年级 in a school that teaches 初中). Searched `CASE WHEN a.grade = …`
/// only: Citus rewrites the simple form `CASE a.grade WHEN …` wrongly in some statement shapes.
fn next_grade_case(a: &str) -> String {
    let mut s = format!(
        "CASE WHEN {a}.grade = '{}' AND {} THEN '{}'",
        Grade::P6.code(),
        through_school(a),
        Grade::J1.code()
    );
    for stage in Stage::ALL {
        let grades = Grade::of_stage(*stage);
        for w in grades.windows(2) {
            s.push_str(&format!(
                " WHEN {a}.grade = '{}' THEN '{}'",
                w[0].code(),
                w[1].code()
            ));
        }
    }
    s.push_str(" END");
    s
}

/// `AND` the class alias `a` is of a final grade (not a 六年级 that goes on in its school).
fn push_final(q: &mut Sql, a: &str) {
    q.push(&format!(" AND {a}.grade IN "))
        .bind_list(final_grades())
        .push(&format!(
            " AND NOT ({a}.grade = '{}' AND {})",
            Grade::P6.code(),
            through_school(a)
        ));
}

/// The first grade of each stage: their classes of the new year are made from last year's.
fn starting_grades() -> Vec<&'static str> {
    Stage::ALL
        .iter()
        .filter_map(|s| Grade::of_stage(*s).first().map(|g| g.code()))
        .collect()
}

/// `FROM class o WHERE …`: the starting-grade classes of year `year - 1` whose copy in year `year`
/// does not exist and will not come from a promotion.
fn push_new_starting(q: &mut Sql, county: i32, year: i32) {
    q.push(" FROM class o WHERE o.county_id = ")
        .bind(county)
        .push(" AND o.school_year = ")
        .bind(year - 1)
        .push(" AND o.grade IN ")
        .bind_list(starting_grades())
        .push(" AND NOT EXISTS (SELECT 1 FROM class n WHERE n.county_id = o.county_id AND n.school_id = o.school_id AND n.school_year = ")
        .bind(year)
        .push(" AND n.grade = o.grade AND n.class_no = o.class_no)")
        .push(" AND NOT EXISTS (SELECT 1 FROM class p WHERE p.county_id = o.county_id AND p.school_id = o.school_id AND p.school_year = ")
        .bind(year - 1)
        .push(&format!(
            " AND p.class_no = o.class_no AND {} = o.grade)",
            next_grade_case("p")
        ));
}

/// The class name of grade expression `grade` and number `o.class_no`: 三年级（2）班 (searched
/// `CASE`, as [`next_grade_case`]).
fn class_name_expr(grade: &str) -> String {
    let mut s = "CASE".to_string();
    for g in Grade::ALL {
        s.push_str(&format!(
            " WHEN ({grade}) = '{}' THEN '{}'",
            g.code(),
            g.label()
        ));
    }
    s.push_str(" END || '（' || CAST(o.class_no AS TEXT) || '）班'");
    s
}

/// The grades that graduate: the last grade of each stage.
fn final_grades() -> Vec<&'static str> {
    Stage::ALL
        .iter()
        .filter_map(|s| Grade::of_stage(*s).last().map(|g| g.code()))
        .collect()
}

/// The statuses that are 在籍 (on the register).
fn on_register() -> Vec<&'static str> {
    StudentStatus::ALL
        .iter()
        .filter(|s| s.is_on_register())
        .map(|s| s.code())
        .collect()
}

/// The statuses that graduate: 在籍 statuses from which 毕业 is a change the rollover may make
/// itself ([`yimeng_domain::status_change::check_direct_write`], held to the compulsory stage's
/// rule for every stage): 在读 and 复学. A 休学 student of a final grade keeps the status and the
/// class; leaving 休学 is a 复学, which only an approved request makes.
fn graduating() -> Vec<&'static str> {
    StudentStatus::ALL
        .iter()
        .filter(|s| {
            s.is_on_register()
                && s.can_change_to(StudentStatus::Graduated)
                && yimeng_domain::status_change::check_direct_write(
                    Some(**s),
                    StudentStatus::Graduated,
                    true,
                )
                .is_ok()
        })
        .map(|s| s.code())
        .collect()
}

/// Runs (or, with `dry_run`, counts) the rollover into school year `year`.
#[tracing::instrument(skip_all, fields(year, dry_run))]
pub async fn run(db: &Db, actor: &Actor, year: i32, dry_run: bool) -> Result<Rollover> {
    let mut q = Sql::new("SELECT COUNT(*) FROM rollover_run WHERE school_year = ");
    q.bind(year);
    if db.scalar(q).await? > 0 {
        return Err(StoreError::Conflict(format!(
            "{year}-{} 学年的学年升级已经执行过，不能重复执行",
            year + 1
        )));
    }
    let counties: Vec<(i32,)> = db
        .all(Sql::new(
            "SELECT code FROM region WHERE kind IN ('district', 'county') AND in_gb2260 ORDER BY sort_order",
        ))
        .await?;
    let mut out = Rollover {
        school_year: year,
        dry_run,
        counties: Vec::new(),
    };
    if dry_run {
        for (c,) in counties {
            out.counties.push(count(db, c, year).await?);
        }
        return Ok(out);
    }
    let mut tx = db.begin().await?;
    for (c,) in &counties {
        out.counties.push(apply(&mut tx, actor, *c, year).await?);
    }
    let t = out.total();
    let id = tx.alloc_ids("rollover_run", 1).await?;
    let mut q =
        Sql::new("INSERT INTO rollover_run (id, school_year, counts_json, actor, at) VALUES ");
    q.bind_list([
        Value::from(id),
        year.into(),
        serde_json::to_string(&out.counties)
            .unwrap_or_default()
            .into(),
        actor.name.as_str().into(),
        Utc::now().trunc_subsecs(0).into(),
    ]);
    tx.exec(q).await?;
    tx.exec(Sql::new("UPDATE data_version SET version = version + 1"))
        .await?;
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: CITY_COUNTY_ID,
            action: "rollover",
            entity: "rollover_run",
            entity_id: Some(id),
            summary: format!(
                "学年升级至 {year}-{} 学年：升级 {} 人，毕业 {} 人，新建班级 {} 个",
                year + 1,
                t.promoted,
                t.graduated,
                t.classes_created
            ),
            before: None,
            after: Some(serde_json::to_string(&out.counties).unwrap_or_default()),
        }],
    )
    .await?;
    tx.commit().await?;
    db.analyze().await?;
    Ok(out)
}

/// Counts for a dry run.
async fn count(db: &Db, county: i32, year: i32) -> Result<CountyCounts> {
    let promote = |final_grades: bool| {
        let mut q = Sql::new(
            "SELECT COUNT(*) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id WHERE s.county_id = ",
        );
        q.bind(county)
            .push(" AND c.county_id = ")
            .bind(county)
            .push(" AND c.school_year = ")
            .bind(year - 1)
            .push(" AND s.status IN ")
            .bind_list(if final_grades {
                graduating()
            } else {
                on_register()
            });
        if final_grades {
            push_final(&mut q, "c");
        } else {
            q.push(&format!(" AND {} IS NOT NULL", next_grade_case("c")));
        }
        q
    };
    let promoted = db.scalar(promote(false)).await?;
    let graduated = db.scalar(promote(true)).await?;
    let mut q = Sql::new("SELECT COUNT(*) FROM class o WHERE o.county_id = ");
    q.bind(county)
        .push(" AND o.school_year = ")
        .bind(year - 1)
        .push(&format!(" AND {} IS NOT NULL", next_grade_case("o")));
    push_no_target(&mut q, year);
    let mut classes_created = db.scalar(q).await?;
    let mut q = Sql::new("SELECT COUNT(*)");
    push_new_starting(&mut q, county, year);
    classes_created += db.scalar(q).await?;
    Ok(CountyCounts {
        county_id: county,
        promoted,
        graduated,
        classes_created,
    })
}

/// `AND NOT EXISTS` the class of year `year` the old class `o` moves to. The subquery is joined
/// on `county_id` (not given the county as a parameter of its own): Citus pushes a correlated
/// subquery down to the county's shard only when it is joined on the distribution column.
fn push_no_target(q: &mut Sql, year: i32) {
    q.push(" AND NOT EXISTS (SELECT 1 FROM class n WHERE n.county_id = o.county_id")
        .push(" AND n.school_id = o.school_id AND n.school_year = ")
        .bind(year)
        .push(&format!(
            " AND n.grade = {} AND n.class_no = o.class_no)",
            next_grade_case("o")
        ));
}

/// The rollover of one county inside the transaction.
async fn apply(tx: &mut Tx, actor: &Actor, county: i32, year: i32) -> Result<CountyCounts> {
    let now = Utc::now().trunc_subsecs(0);
    // 1. The classes of the new year.
    let mut q = Sql::new("SELECT COUNT(*) FROM class o WHERE o.county_id = ");
    q.bind(county)
        .push(" AND o.school_year = ")
        .bind(year - 1)
        .push(&format!(" AND {} IS NOT NULL", next_grade_case("o")));
    push_no_target(&mut q, year);
    let n_classes = tx.scalar(q).await?;
    if n_classes > 0 {
        let first = tx.alloc_ids("class", n_classes).await?;
        let next = next_grade_case("o");
        // The class name follows the grade: 三年级（2）班 (as default_class_name).
        let name = class_name_expr(&next);
        let mut q = Sql::new(&format!(
            "INSERT INTO class (county_id, id, school_id, school_year, grade, class_no, name, head_teacher_id, content_hash, created_batch, created_at, updated_at) \
             SELECT o.county_id, {first} - 1 + ROW_NUMBER() OVER (ORDER BY o.id), o.school_id, {year}, {next}, o.class_no, \
             {name}, o.head_teacher_id, 0, NULL, "
        ));
        q.bind(now)
            .push(", ")
            .bind(now)
            .push(" FROM class o WHERE o.county_id = ");
        q.bind(county)
            .push(" AND o.school_year = ")
            .bind(year - 1)
            .push(&format!(" AND {next} IS NOT NULL"));
        push_no_target(&mut q, year);
        tx.exec(q).await?;
    }
    // 1b. The starting grades' classes of the new year, by last year's numbers, empty.
    let mut q = Sql::new("SELECT COUNT(*)");
    push_new_starting(&mut q, county, year);
    let n_starting = tx.scalar(q).await?;
    if n_starting > 0 {
        let first = tx.alloc_ids("class", n_starting).await?;
        let mut q = Sql::new(&format!(
            "INSERT INTO class (county_id, id, school_id, school_year, grade, class_no, name, head_teacher_id, content_hash, created_batch, created_at, updated_at) \
             SELECT o.county_id, {first} - 1 + ROW_NUMBER() OVER (ORDER BY o.id), o.school_id, {year}, o.grade, o.class_no, \
             {}, NULL, 0, NULL, ",
            class_name_expr("o.grade")
        ));
        q.bind(now).push(", ").bind(now);
        push_new_starting(&mut q, county, year);
        tx.exec(q).await?;
    }
    let n_classes = n_classes + n_starting;
    // 2. Graduates: a 学籍异动 row each, then the status.
    let mut q = Sql::new("SELECT COUNT(*) FROM student s WHERE s.county_id = ");
    q.bind(county);
    push_in_old_classes(&mut q, year, true);
    let graduated = tx.scalar(q).await?;
    if graduated > 0 {
        let first = tx.alloc_ids("student_event", graduated).await?;
        let to = StudentStatus::Graduated;
        let mut q = Sql::new(&format!(
            "INSERT INTO student_event (county_id, id, student_id, school_id, change_type, from_status, to_status, reason, occurred_on, actor, source, batch_id, recorded_at) \
             SELECT s.county_id, {first} - 1 + ROW_NUMBER() OVER (ORDER BY s.id), s.id, s.school_id, "
        ));
        q.bind(to.change_type().code())
            .push(", s.status, ")
            .bind(to.code())
            .push(", ")
            .bind(format!("{year} 年学年升级：毕业"))
            .push(", ")
            .bind(now.date_naive())
            .push(", ")
            .bind(actor.name.as_str())
            .push(", 'rollover', NULL, ")
            .bind(now)
            .push(" FROM student s WHERE s.county_id = ")
            .bind(county);
        push_in_old_classes(&mut q, year, true);
        tx.exec(q).await?;
        let mut q = Sql::new("UPDATE student SET status = ");
        q.bind(to.code())
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE county_id = ")
            .bind(county);
        push_in_old_classes_bare(&mut q, year, true);
        tx.exec(q).await?;
    }
    // 3. Promotion: every 在籍 student of a non-final class moves to its next-year class.
    let next = next_grade_case("o");
    let mut q = Sql::new("UPDATE student SET class_id = m.new_id, updated_at = ");
    q.bind(now).push(&format!(
        " FROM (SELECT o.county_id, o.id AS old_id, n.id AS new_id FROM class o JOIN class n ON n.county_id = o.county_id \
         AND n.school_id = o.school_id AND n.class_no = o.class_no AND n.grade = {next} AND n.school_year = "
    ));
    q.bind(year)
        .push(" WHERE o.county_id = ")
        .bind(county)
        .push(" AND o.school_year = ")
        .bind(year - 1)
        .push(") m WHERE student.county_id = m.county_id AND m.county_id = ")
        .bind(county)
        .push(" AND student.class_id = m.old_id AND student.status IN ")
        .bind_list(on_register());
    let promoted = tx.exec(q).await? as i64;
    Ok(CountyCounts {
        county_id: county,
        promoted,
        graduated,
        classes_created: n_classes,
    })
}

/// `AND` the student `s` is 在籍 in a class of year `year - 1` of a final grade (or not). The
/// class is matched with its county (`(county_id, class_id) IN …`), so that Citus can push the
/// subquery down to the county's shard.
fn push_in_old_classes(q: &mut Sql, year: i32, final_grade: bool) {
    q.push(" AND s.status IN ")
        .bind_list(if final_grade {
            graduating()
        } else {
            on_register()
        })
        .push(" AND (s.county_id, s.class_id) IN (SELECT c.county_id, c.id FROM class c WHERE c.school_year = ")
        .bind(year - 1);
    if final_grade {
        push_final(q, "c");
    }
    q.push(")");
}

/// As [`push_in_old_classes`] for an `UPDATE student` without an alias.
fn push_in_old_classes_bare(q: &mut Sql, year: i32, final_grade: bool) {
    q.push(" AND status IN ")
        .bind_list(if final_grade {
            graduating()
        } else {
            on_register()
        })
        .push(" AND (county_id, class_id) IN (SELECT c.county_id, c.id FROM class c WHERE c.school_year = ")
        .bind(year - 1);
    if final_grade {
        push_final(q, "c");
    }
    q.push(")");
}
