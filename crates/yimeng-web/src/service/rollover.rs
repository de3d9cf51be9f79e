//! 学年升级 (year rollover, issue 5): the work behind the page (`pages::rollover`) and the API
//! (`api::rollover`): the city administrator only, the new school year's start year checked with a
//! Chinese message, a dry run that counts per county, and the run itself (one transaction,
//! recorded and audited by `yimeng_store::rollover`; a second run of a year is a 409).

use crate::auth::User;
use crate::error::Failure;
use yimeng_domain::FieldError;
use yimeng_store::Db;
use yimeng_store::rollover::{self, Rollover};

/// The new school year's start year (2000 to 2100).
pub fn parse_year(s: &str) -> Result<i32, Failure> {
    s.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| {
            Failure::Fields(vec![FieldError::new(
                "year",
                s.trim(),
                format!(
                    "学年“{}”应为新学年的起始年份，如 2021",
                    yimeng_domain::text::preview(s.trim(), 20)
                ),
            )])
        })
}

/// Counts (`dry`) or runs the rollover into school year `year` (city administrator). The caller
/// clears the page cache after a real run.
pub async fn run(db: &Db, u: &User, year: i32, dry: bool) -> Result<Rollover, Failure> {
    u.require_admin()?;
    Ok(rollover::run(db, &u.actor(), year, dry).await?)
}

/// The message after a run.
pub fn done_message(r: &Rollover) -> String {
    let t = r.total();
    format!(
        "已完成 {}-{} 学年升级：升级 {} 人，毕业 {} 人，新建班级 {} 个",
        r.school_year,
        r.school_year + 1,
        t.promoted,
        t.graduated,
        t.classes_created
    )
}
