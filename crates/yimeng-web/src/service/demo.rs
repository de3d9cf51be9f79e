//! The demo city: loads a [`DemoCity`] into the store through the same importers a file goes
//! through, and writes it as import files.

use super::ServiceError;
use std::path::Path;
use std::sync::Arc;
use yimeng_demo::DemoCity;
use yimeng_io::records::{class_cells, school_cells, staff_cells, student_cells};
use yimeng_io::{FileFormat, Table, TableWriter};
use yimeng_store::import::{
    ClassImport, Mode, Options, Report, SchoolImport, StaffImport, StudentImport,
};
use yimeng_store::{Actor, Db, SystemContext};

/// Progress of a long step: (table, rows done, rows in all).
pub type Progress<'a> = &'a (dyn Fn(Table, u64, u64) + Send + Sync);

fn opts(table: Table, seed: u64) -> Options {
    Options {
        mode: Mode::AllOrNothing,
        dry_run: false,
        file_name: format!("demo:{}:seed={seed}", table.name()),
        file_sha256: String::new(),
        edit: None,
        size_hint: None,
    }
}

fn check(r: Report) -> Result<Report, ServiceError> {
    if r.committed {
        Ok(r)
    } else {
        let first = r
            .errors
            .first()
            .map(|e| format!("第 {} 行 {}：{}", e.row, e.field, e.reason))
            .unwrap_or_default();
        Err(ServiceError::Internal(format!(
            "示范数据未能导入（{} 行有误）：{first}",
            r.rejected
        )))
    }
}

/// Loads the city: schools, staff, classes, then students. Returns the four reports.
pub async fn load(
    db: &Db,
    sys: &SystemContext,
    city: Arc<DemoCity>,
    progress: Progress<'_>,
) -> Result<Vec<Report>, ServiceError> {
    let actor = Actor {
        name: "demo".into(),
        role: "operator".into(),
        ip: None,
        request_id: None,
    };
    let scope = sys.scope();
    let mut reports = Vec::new();

    let mut imp = SchoolImport::start(db, &scope, &actor, opts(Table::Schools, city.seed)).await?;
    let n = city.schools.len() as u64;
    for (i, s) in city.schools().enumerate() {
        imp.push(i as u64 + 2, Ok(s.clone())).await?;
    }
    progress(Table::Schools, n, n);
    reports.push(check(imp.finish().await?)?);

    let mut imp = StaffImport::start(db, &scope, &actor, opts(Table::Staff, city.seed)).await?;
    let n = city.staff_count();
    for (i, s) in city.staff().enumerate() {
        imp.push(i as u64 + 2, Ok(s.clone())).await?;
        if i % 20_000 == 0 {
            progress(Table::Staff, i as u64, n);
        }
    }
    progress(Table::Staff, n, n);
    reports.push(check(imp.finish().await?)?);

    let mut imp = ClassImport::start(db, &scope, &actor, opts(Table::Classes, city.seed)).await?;
    let n = city.class_count();
    for (i, c) in city.classes().enumerate() {
        imp.push(i as u64 + 2, Ok(c.clone())).await?;
    }
    progress(Table::Classes, n, n);
    reports.push(check(imp.finish().await?)?);

    let mut imp = StudentImport::start_gated(
        db,
        &scope,
        &actor,
        opts(Table::Students, city.seed),
        yimeng_store::import::GateOptions::as_is(),
    )
    .await?;
    let n = city.student_count();
    // Generation runs on its own thread, ahead of the writer.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<yimeng_domain::student::StudentRecord>>(8);
    let gen_city = Arc::clone(&city);
    let generator = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(2000);
        for s in gen_city.students() {
            chunk.push(s);
            if chunk.len() == 2000
                && tx
                    .blocking_send(std::mem::replace(&mut chunk, Vec::with_capacity(2000)))
                    .is_err()
            {
                return;
            }
        }
        let _ = tx.blocking_send(chunk);
    });
    let mut i = 0u64;
    while let Some(chunk) = rx.recv().await {
        for s in chunk {
            i += 1;
            imp.push(i + 1, Ok(s)).await?;
        }
        if i % 50_000 < 2000 {
            progress(Table::Students, i, n);
        }
    }
    let _ = generator.join();
    progress(Table::Students, n, n);
    reports.push(check(imp.finish().await?)?);
    population(db, sys, &actor, city.seed).await?;
    Ok(reports)
}

/// Writes the city as import files in `dir`: 学校, 教职工 and 班级 as `format`, students always as
/// CSV (1.7 million rows exceed one Excel sheet). Returns the paths written.
pub fn write_files(
    city: &DemoCity,
    dir: &Path,
    format: FileFormat,
    progress: Progress<'_>,
) -> Result<Vec<std::path::PathBuf>, ServiceError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        ServiceError::File(yimeng_io::IoError::Io {
            path: dir.display().to_string(),
            source: e,
        })
    })?;
    let header = |t: Table| t.columns().iter().map(|c| c.header).collect::<Vec<_>>();
    let mut out = Vec::new();
    let path = dir.join(format!("schools.{}", format.ext()));
    let mut w = TableWriter::create(&path, format, "学校", &header(Table::Schools))?;
    for s in city.schools() {
        w.write_row(&school_cells(s))?;
    }
    w.finish()?;
    out.push(path);
    let path = dir.join(format!("staff.{}", format.ext()));
    let mut w = TableWriter::create(&path, format, "教职工", &header(Table::Staff))?;
    for s in city.staff() {
        w.write_row(&staff_cells(s))?;
    }
    w.finish()?;
    out.push(path);
    let path = dir.join(format!("classes.{}", format.ext()));
    let mut w = TableWriter::create(&path, format, "班级", &header(Table::Classes))?;
    for c in city.classes() {
        w.write_row(&class_cells(c))?;
    }
    w.finish()?;
    out.push(path);
    let path = dir.join("students.csv");
    let mut w = TableWriter::create(&path, FileFormat::Csv, "学生", &header(Table::Students))?;
    let n = city.student_count();
    for s in city.students() {
        w.write_row(&student_cells(&s))?;
        if w.rows() % 100_000 == 0 {
            progress(Table::Students, w.rows(), n);
        }
    }
    w.finish()?;
    out.push(path);
    Ok(out)
}

/// The year of the demo city's figures (the 2020 plan's year, the 2020–2021 school year).
pub const DEMO_YEAR: i32 = 2020;

/// The demo counties' resident population aged 3–5, which the registry does not hold: each county's
/// kindergarten roll divided by a gross enrolment rate drawn from 86–97% (deterministic for the
/// seed), so the preschool indicators have a denominator, as a county would report it.
async fn population(
    db: &Db,
    sys: &SystemContext,
    actor: &Actor,
    seed: u64,
) -> Result<(), ServiceError> {
    let facts = yimeng_store::facts::school_facts(
        db,
        &sys.scope(),
        &yimeng_domain::Rules::default(),
        DEMO_YEAR,
    )
    .await?;
    for unit in yimeng_domain::region::LINYI_UNITS {
        let c = unit.code.get();
        let roll: i64 = facts
            .iter()
            .filter(|f| f.county == c)
            .map(|f| f.kg_roll)
            .sum();
        if roll == 0 {
            continue;
        }
        let mut x = seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let rate = 86 + (yimeng_engine::rng::splitmix64(&mut x) % 12) as i64;
        yimeng_store::plan::set_population(
            db,
            actor,
            c,
            DEMO_YEAR,
            roll * 100 / rate,
            "resident",
            "示范数据：按在园幼儿数和 86%–97% 的毛入园率推算",
        )
        .await?;
    }
    Ok(())
}

/// Fills the demo city's monthly dispatch up to `through` (the tracker's clock): for every month
/// of the plan before that day's month, each task's report from its lead department and — for
/// tasks whose item has indicators the counties report — from every county, submitted and approved
/// by the lead department through the same store functions a user's report goes through. Progress
/// rises month by month and reported indicators move from their baseline towards their target,
/// faster in some counties than others, so the dashboard shows a mix of statuses and trends.
/// Returns the number of reports filed; a plan that already has reports is left alone.
pub async fn fill_dispatch(
    db: &Db,
    sys: &SystemContext,
    rules: &yimeng_domain::Rules,
    through: chrono::NaiveDate,
) -> Result<usize, ServiceError> {
    use super::dispatch::{months, reported_indicators};
    use yimeng_domain::plan::{Comparator, Reporters};
    use yimeng_store::dispatch::{self, ReportFilter, ReportInput};
    let Some(row) = yimeng_store::plan::current(db).await? else {
        return Ok(0);
    };
    let plan = row
        .plan()
        .map_err(|e| ServiceError::Internal(format!("{e:?}")))?;
    if !dispatch::list(
        db,
        &ReportFilter {
            // The departments' reports (owned by the city) and every county's.
            counties: std::iter::once(yimeng_store::audit::CITY_COUNTY_ID)
                .chain(
                    yimeng_domain::region::LINYI_UNITS
                        .iter()
                        .map(|u| u.code.get()),
                )
                .collect(),
            plan_code: plan.code.clone(),
            ..ReportFilter::default()
        },
    )
    .await?
    .is_empty()
    {
        return Ok(0);
    }
    let scope = sys.scope();
    use chrono::Datelike;
    let last_day = through
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(through);
    let periods = months(plan.start, last_day.min(plan.end));
    let mut filed = 0;
    for (m, period) in periods.iter().enumerate() {
        // The share of the year gone by at this month's end.
        let year = (m + 1) as f64 / 12.0;
        for item in &plan.items {
            let lead = item.lead.clone();
            let reviewer = Actor {
                name: crate::demo_accounts::department_username(&lead),
                role: yimeng_domain::Role::CityDept.code().into(),
                ip: None,
                request_id: None,
            };
            for (ti, task) in item.tasks.iter().enumerate() {
                let mut units = vec![lead.clone()];
                // Any county code stands for the counties here.
                let county_indicators = reported_indicators(&plan, item, "371302");
                if task.reporters == Reporters::Counties && !county_indicators.is_empty() {
                    units.extend(
                        yimeng_domain::region::LINYI_UNITS
                            .iter()
                            .map(|u| u.code.get().to_string()),
                    );
                }
                for (ui, unit) in units.into_iter().enumerate() {
                    // A steady pace per unit and task, 0.8–1.16 of the plan's.
                    let pace = 0.8 + 0.04 * ((ui * 7 + ti * 3 + item.number as usize) % 10) as f64;
                    let done = (year * pace).min(1.0);
                    let values = reported_indicators(&plan, item, &unit)
                        .into_iter()
                        .filter_map(|def| {
                            let t = item.targets.iter().find(|t| t.indicator == def.code)?;
                            let base = t.baseline.unwrap_or(match t.comparator {
                                Comparator::AtLeast => t.target * 0.9,
                                Comparator::AtMost => t.target.max(1.0) * 1.5,
                                Comparator::Equal => t.target,
                            });
                            let v = base + (t.target - base) * done;
                            let v = if def.unit == "%" {
                                (v.clamp(0.0, 100.0) * 100.0).round() / 100.0
                            } else if t.target.fract() == 0.0 && base.fract() == 0.0 {
                                v.round().max(0.0)
                            } else {
                                (v.max(0.0) * 100.0).round() / 100.0
                            };
                            Some((def.code.clone(), v))
                        })
                        .collect();
                    let county_id = unit
                        .parse::<i32>()
                        .unwrap_or(yimeng_store::audit::CITY_COUNTY_ID);
                    let progress = ((done * 100.0).round() as i32).clamp(0, 100);
                    let filer = Actor {
                        name: format!("demo:{unit}"),
                        role: if county_id == yimeng_store::audit::CITY_COUNTY_ID {
                            yimeng_domain::Role::CityDept.code().into()
                        } else {
                            yimeng_domain::Role::County.code().into()
                        },
                        ip: None,
                        request_id: None,
                    };
                    let id = dispatch::save(
                        db,
                        &filer,
                        &scope,
                        rules,
                        ReportInput {
                            county_id,
                            plan_code: plan.code.clone(),
                            task_code: task.code.clone(),
                            period: period.clone(),
                            unit: unit.clone(),
                            progress,
                            narrative: format!("{period} 按计划推进，累计完成约 {progress}%。"),
                            values,
                            submit: true,
                        },
                    )
                    .await?;
                    let parent = dispatch::visible(db, &scope, county_id, id).await?;
                    dispatch::review(db, &reviewer, &scope, rules, &parent, true, "").await?;
                    filed += 1;
                }
            }
        }
    }
    Ok(filed)
}
