//! Counts per county and school type: schools, classes, students by status, staff — the first thing
//! a bureau user checks after an import.

use crate::Result;
use crate::db::{Db, Sql, push_scope};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use yimeng_domain::Scope;

/// Counts of one (county, school type) cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Schools.
    pub schools: i64,
    /// Classes.
    pub classes: i64,
    /// Students by status code.
    pub students: BTreeMap<String, i64>,
    /// Staff on the current staff list (在岗, 病假, 借调).
    pub staff_current: i64,
    /// All staff rows.
    pub staff_total: i64,
}

impl Counts {
    /// Students of any status.
    pub fn students_total(&self) -> i64 {
        self.students.values().sum()
    }
    fn add(&mut self, o: &Counts) {
        self.schools += o.schools;
        self.classes += o.classes;
        for (k, v) in &o.students {
            *self.students.entry(k.clone()).or_default() += v;
        }
        self.staff_current += o.staff_current;
        self.staff_total += o.staff_total;
    }
}

/// The counts, keyed by (county code, school type code); totals are computed in Rust.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Per county and school type.
    pub cells: BTreeMap<(i32, String), Counts>,
}

impl Stats {
    /// Totals per county.
    pub fn by_county(&self) -> BTreeMap<i32, Counts> {
        let mut m: BTreeMap<i32, Counts> = BTreeMap::new();
        for ((c, _), v) in &self.cells {
            m.entry(*c).or_default().add(v);
        }
        m
    }
    /// Totals per school type.
    pub fn by_type(&self) -> BTreeMap<String, Counts> {
        let mut m: BTreeMap<String, Counts> = BTreeMap::new();
        for ((_, t), v) in &self.cells {
            m.entry(t.clone()).or_default().add(v);
        }
        m
    }
    /// Grand total.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for v in self.cells.values() {
            t.add(v);
        }
        t
    }
}

/// Counts the registry in scope. Groups by school in SQL and folds schools into types in Rust, so no
/// statement joins county tables or aggregates across counties with ROLLUP.
#[tracing::instrument(skip_all)]
pub async fn compute(db: &Db, scope: &Scope) -> Result<Stats> {
    let mut q = Sql::new(
        "/* multi-county: stats_schools */ SELECT s.county_id, s.id, s.school_type FROM school s WHERE ",
    );
    push_scope(&mut q, scope, "s", "id");
    let schools: Vec<(i32, i64, String)> = db.all(q).await?;
    let type_of: HashMap<(i32, i64), String> = schools
        .iter()
        .map(|(c, id, t)| ((*c, *id), t.clone()))
        .collect();
    let mut stats = Stats::default();
    for (c, _, t) in &schools {
        stats.cells.entry((*c, t.clone())).or_default().schools += 1;
    }

    let mut q = Sql::new(
        "/* multi-county: stats_classes */ SELECT c.county_id, c.school_id, COUNT(*) FROM class c WHERE ",
    );
    push_scope(&mut q, scope, "c", "school_id");
    q.push(" GROUP BY c.county_id, c.school_id");
    for (c, school, n) in db.all::<(i32, i64, i64)>(q).await? {
        if let Some(t) = type_of.get(&(c, school)) {
            stats.cells.entry((c, t.clone())).or_default().classes += n;
        }
    }

    let mut q = Sql::new(
        "/* multi-county: stats_students */ SELECT t.county_id, t.school_id, t.status, COUNT(*) FROM student t WHERE ",
    );
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" GROUP BY t.county_id, t.school_id, t.status");
    for (c, school, status, n) in db.all::<(i32, i64, String, i64)>(q).await? {
        if let Some(t) = type_of.get(&(c, school)) {
            *stats
                .cells
                .entry((c, t.clone()))
                .or_default()
                .students
                .entry(status)
                .or_default() += n;
        }
    }

    let mut q = Sql::new(
        "/* multi-county: stats_staff */ SELECT t.county_id, t.school_id, t.status, COUNT(*) FROM staff t WHERE ",
    );
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" GROUP BY t.county_id, t.school_id, t.status");
    for (c, school, status, n) in db.all::<(i32, i64, String, i64)>(q).await? {
        if let Some(t) = type_of.get(&(c, school)) {
            let cell = stats.cells.entry((c, t.clone())).or_default();
            cell.staff_total += n;
            if yimeng_domain::staff::StaffStatus::from_code(&status).is_some_and(|s| s.is_current())
            {
                cell.staff_current += n;
            }
        }
    }
    Ok(stats)
}
