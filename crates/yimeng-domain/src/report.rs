//! The periodic-report cycle (定期报送): a reporting unit — a school, a county bureau, a city
//! department — files one report per period (day, week, month, term) by a due time computed from
//! a rule; the report is reviewed on the one approval flow ([`crate::approval::Flow`]) and an
//! approved report's values are locked.
//!
//! Source: design.md "Shared building blocks" (`domain::report`); the bureau's 月调度 practice
//! (a month's report by a day of the next month, `Rules::dispatch_due_day`); the coming daily
//! school health report (晨午检日报, due the same day at a time, `Rules::daily_report_due_hour`).
//!
//! The pieces:
//! - [`Period`]: a period and its key (`2020-06-15`, `2020-W23`, `2020-06`, `2020-2021-1`),
//!   parsed with a Chinese error naming the value and the expected form.
//! - [`DueRule`]: when a period's report is due ([`Due`], a local date and time in Asia/Shanghai).
//! - [`ReportState`]: 未报送 / 已报送 / 已退回 / 已通过, read from the report's flow.
//! - [`Standing`]: the late (submitted after the due time) and missing (not submitted and the due
//!   time passed) flags of one expected report.
//! - [`review_flow`]: the flow of a report's review (one step, returnable: a reviewer approves or
//!   returns with a reason; the unit resubmits). [`check_editable`]: approval locks values.
//!
//! A new module that reports periodically (daily health report, monthly fund execution) picks a
//! [`PeriodKind`] and a [`DueRule`] (from `Rules`), lists who owes which period, and stores its
//! reports through `yimeng_store::report`; it does not write its own state machine.

use crate::approval::{Applicant, Approver, Flow, FlowStatus, Step, StepKind};
use crate::calendar::{CHINA_STANDARD_TIME_SECONDS, WorkCalendar, shanghai_date};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::Serialize;
use std::fmt;

/// How often a unit reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PeriodKind {
    /// 日报
    Day,
    /// 周报 (ISO weeks, Monday to Sunday)
    Week,
    /// 月报
    Month,
    /// 学期报 (term 1: September to January; term 2: February to August)
    Term,
}

impl PeriodKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Day => "日报",
            PeriodKind::Week => "周报",
            PeriodKind::Month => "月报",
            PeriodKind::Term => "学期报",
        }
    }
    /// The key's form with an example, for messages.
    pub fn form(self) -> &'static str {
        match self {
            PeriodKind::Day => "YYYY-MM-DD，例如 2020-06-15",
            PeriodKind::Week => "YYYY-Www，例如 2020-W23",
            PeriodKind::Month => "YYYY-MM，例如 2020-06",
            PeriodKind::Term => "YYYY-YYYY-学期（1 或 2），例如 2020-2021-1",
        }
    }
}

/// One reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Period {
    /// One day.
    Day(NaiveDate),
    /// An ISO week of an ISO year.
    Week {
        /// ISO year.
        year: i32,
        /// 1–53.
        week: u32,
    },
    /// A calendar month.
    Month {
        /// Year.
        year: i32,
        /// 1–12.
        month: u32,
    },
    /// A school term: `start_year`–`start_year + 1`, term 1 or 2.
    Term {
        /// The school year's first calendar year.
        start_year: i32,
        /// 1 (autumn) or 2 (spring).
        term: u32,
    },
}

/// Why a period key, or an action on a report, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A key that does not read as the expected kind of period.
    #[error("报送周期“{value}”格式不正确，{kind}周期应为 {form}")]
    BadPeriod {
        /// The value as given (shortened).
        value: String,
        /// 日报 / 周报 / 月报 / 学期报
        kind: &'static str,
        /// The expected form with an example.
        form: &'static str,
    },
    /// A key of no known kind.
    #[error(
        "报送周期“{0}”无法识别，应为日期（2020-06-15）、周（2020-W23）、月份（2020-06）或学期（2020-2021-1）"
    )]
    UnknownPeriod(String),
    /// The report was approved: its values are locked.
    #[error("{0}已审核通过，数值已锁定，不能修改")]
    Locked(String),
}

fn bad(kind: PeriodKind, value: &str) -> ReportError {
    ReportError::BadPeriod {
        value: crate::text::preview(value, 20).to_string(),
        kind: kind.label(),
        form: kind.form(),
    }
}

fn digits(s: &str, n: usize) -> Option<i32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl Period {
    /// Reads a key of the given kind.
    pub fn parse_as(kind: PeriodKind, s: &str) -> Result<Period, ReportError> {
        let t = s.trim();
        let p = match kind {
            PeriodKind::Day => {
                let mut it = t.split('-');
                match (it.next(), it.next(), it.next(), it.next()) {
                    (Some(y), Some(m), Some(d), None) => {
                        match (digits(y, 4), digits(m, 2), digits(d, 2)) {
                            (Some(y), Some(m), Some(d)) => {
                                NaiveDate::from_ymd_opt(y, m as u32, d as u32).map(Period::Day)
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                }
            }
            PeriodKind::Week => t.split_once("-W").and_then(|(y, w)| {
                let (year, week) = (digits(y, 4)?, digits(w, 2)? as u32);
                NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)
                    .map(|_| Period::Week { year, week })
            }),
            PeriodKind::Month => t.split_once('-').and_then(|(y, m)| {
                let (year, month) = (digits(y, 4)?, digits(m, 2)? as u32);
                (1..=12)
                    .contains(&month)
                    .then_some(Period::Month { year, month })
            }),
            PeriodKind::Term => {
                let mut it = t.split('-');
                match (it.next(), it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), Some(n), None) => {
                        match (digits(a, 4), digits(b, 4), digits(n, 1)) {
                            (Some(a), Some(b), Some(n)) if b == a + 1 && (n == 1 || n == 2) => {
                                Some(Period::Term {
                                    start_year: a,
                                    term: n as u32,
                                })
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                }
            }
        };
        p.ok_or_else(|| bad(kind, t))
    }

    /// Reads a key of any kind, telling the kind by its shape.
    pub fn parse(s: &str) -> Result<Period, ReportError> {
        let t = s.trim();
        let kind = if t.contains("-W") {
            PeriodKind::Week
        } else {
            match (t.matches('-').count(), t.len()) {
                (1, _) => PeriodKind::Month,
                (2, 10) => PeriodKind::Day,
                (2, 11) => PeriodKind::Term,
                _ => {
                    return Err(ReportError::UnknownPeriod(
                        crate::text::preview(t, 20).to_string(),
                    ));
                }
            }
        };
        Period::parse_as(kind, t)
    }

    /// The kind of period.
    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Day(_) => PeriodKind::Day,
            Period::Week { .. } => PeriodKind::Week,
            Period::Month { .. } => PeriodKind::Month,
            Period::Term { .. } => PeriodKind::Term,
        }
    }

    /// The stored key (`2020-06`, …); [`Period::parse`] reads it back.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The period of a kind that contains a date.
    pub fn containing(kind: PeriodKind, d: NaiveDate) -> Period {
        match kind {
            PeriodKind::Day => Period::Day(d),
            PeriodKind::Week => {
                let w = d.iso_week();
                Period::Week {
                    year: w.year(),
                    week: w.week(),
                }
            }
            PeriodKind::Month => Period::Month {
                year: d.year(),
                month: d.month(),
            },
            PeriodKind::Term => match d.month() {
                9..=12 => Period::Term {
                    start_year: d.year(),
                    term: 1,
                },
                1 => Period::Term {
                    start_year: d.year() - 1,
                    term: 1,
                },
                _ => Period::Term {
                    start_year: d.year() - 1,
                    term: 2,
                },
            },
        }
    }

    /// The period's first day.
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Period::Day(d) => d,
            Period::Week { year, week } => {
                NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).expect("parsed week")
            }
            Period::Month { year, month } => {
                NaiveDate::from_ymd_opt(year, month, 1).expect("parsed month")
            }
            Period::Term { start_year, term } => {
                let (y, m) = if term == 1 {
                    (start_year, 9)
                } else {
                    (start_year + 1, 2)
                };
                NaiveDate::from_ymd_opt(y, m, 1).expect("valid")
            }
        }
    }

    /// The period's last day.
    pub fn last_day(&self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a day before a period")
    }

    /// The period after this one.
    pub fn next(&self) -> Period {
        match *self {
            Period::Day(d) => Period::Day(d.succ_opt().unwrap_or(d)),
            Period::Week { .. } => {
                Period::containing(PeriodKind::Week, self.first_day() + chrono::Days::new(7))
            }
            Period::Month { year, month: 12 } => Period::Month {
                year: year + 1,
                month: 1,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month + 1,
            },
            Period::Term {
                start_year,
                term: 1,
            } => Period::Term {
                start_year,
                term: 2,
            },
            Period::Term { start_year, .. } => Period::Term {
                start_year: start_year + 1,
                term: 1,
            },
        }
    }

    /// The periods of a kind from the one containing `from` to the one containing `to`,
    /// inclusive (empty when `to` is before `from`).
    pub fn range(kind: PeriodKind, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        if to < from {
            return out;
        }
        let last = Period::containing(kind, to);
        let mut p = Period::containing(kind, from);
        while p <= last {
            out.push(p);
            p = p.next();
        }
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Period::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Term { start_year, term } => {
                write!(f, "{start_year:04}-{:04}-{term}", start_year + 1)
            }
        }
    }
}

/// When a report is due: a local date and time (Asia/Shanghai).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Due {
    /// The last day.
    pub date: NaiveDate,
    /// The time on that day by which it is due (23:59:59 for "by the end of the day").
    pub time: NaiveTime,
}

/// The end of a day: a report due "by the 5th" is in time all of the 5th.
pub const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 59) {
    Some(t) => t,
    None => panic!("valid time"),
};

impl Due {
    /// The due instant in UTC.
    pub fn at(&self) -> DateTime<Utc> {
        let cst = FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS).expect("valid offset");
        cst.from_local_datetime(&NaiveDateTime::new(self.date, self.time))
            .single()
            .expect("a fixed offset has one local time")
            .with_timezone(&Utc)
    }
    /// Whether `t` is after the due time.
    pub fn is_past(&self, t: DateTime<Utc>) -> bool {
        t > self.at()
    }
}

/// How a period's due time is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DueRule {
    /// The period's last day at a time (a daily report due at 10:00 the same day).
    SameDayAt(NaiveTime),
    /// A fixed day (1–28) of the month after the period ends, by the end of that day (月调度: the
    /// 5th of the next month).
    DayOfNextMonth(u32),
    /// The Nth working day after the period's last day on the stored calendar, by the end of
    /// that day (for a month: the Nth working day of the next month).
    WorkingDaysAfterEnd(u32),
}

impl DueRule {
    /// The due time of a period's report.
    pub fn due(&self, period: &Period, calendar: &WorkCalendar) -> Due {
        let last = period.last_day();
        match *self {
            DueRule::SameDayAt(time) => Due { date: last, time },
            DueRule::DayOfNextMonth(day) => {
                let next = Period::containing(PeriodKind::Month, last)
                    .next()
                    .first_day();
                Due {
                    date: next.with_day(day.clamp(1, 28)).unwrap_or(next),
                    time: END_OF_DAY,
                }
            }
            DueRule::WorkingDaysAfterEnd(n) => Due {
                date: calendar.add_working_days(last, n.max(1)),
                time: END_OF_DAY,
            },
        }
    }
    /// How the rule reads, for pages: 次月 5 日前, 次月第 3 个工作日前, 当日 10:00 前.
    pub fn label(&self) -> String {
        match *self {
            DueRule::SameDayAt(t) => format!("当日 {} 前", t.format("%H:%M")),
            DueRule::DayOfNextMonth(d) => format!("次月 {} 日前", d.clamp(1, 28)),
            DueRule::WorkingDaysAfterEnd(n) => format!("期末后第 {} 个工作日前", n.max(1)),
        }
    }
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ReportState {
    /// 未报送: no report, or a draft only.
    NotSubmitted,
    /// 已报送: waiting for review.
    Submitted,
    /// 已退回: returned for correction; the unit resubmits.
    Returned,
    /// 已通过: approved; its values are locked.
    Approved,
}

impl ReportState {
    /// The state of a report whose review flow is `flow` (`None`: not submitted yet).
    pub fn of(flow: Option<&FlowStatus>) -> ReportState {
        match flow {
            None | Some(FlowStatus::Withdrawn { .. }) => ReportState::NotSubmitted,
            Some(FlowStatus::Pending { .. }) => ReportState::Submitted,
            Some(FlowStatus::Returned { .. }) | Some(FlowStatus::Refused { .. }) => {
                ReportState::Returned
            }
            Some(FlowStatus::Completed) => ReportState::Approved,
        }
    }
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ReportState::NotSubmitted => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Returned => "returned",
            ReportState::Approved => "approved",
        }
    }
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ReportState::NotSubmitted => "未报送",
            ReportState::Submitted => "已报送",
            ReportState::Returned => "已退回",
            ReportState::Approved => "已通过",
        }
    }
    /// Whether the unit has submitted it (it may since have been returned or approved).
    pub fn was_submitted(self) -> bool {
        self != ReportState::NotSubmitted
    }
}

/// Approval locks values: an approved report may not change. `what` names the report in the
/// message (任务 1.2 2020-06 的月报).
pub fn check_editable(state: ReportState, what: &str) -> Result<(), ReportError> {
    if state == ReportState::Approved {
        Err(ReportError::Locked(what.to_string()))
    } else {
        Ok(())
    }
}

/// One expected report's flags at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// When it is due.
    pub due: Due,
    /// Submitted after the due time.
    pub late: bool,
    /// Not submitted, and the due time has passed.
    pub missing: bool,
}

impl Standing {
    /// The flags of a report due at `due`, submitted at `submitted_at` (`None`: not submitted),
    /// at `now`.
    pub fn of(due: Due, submitted_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Standing {
        Standing {
            due,
            late: submitted_at.is_some_and(|s| due.is_past(s)),
            missing: submitted_at.is_none() && due.is_past(now),
        }
    }
    /// Late or missing: the unit did not report in time.
    pub fn overdue(&self) -> bool {
        self.late || self.missing
    }
}

/// The one step of a report's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReviewStep {
    /// 审核 by the reviewing unit.
    Review,
}

impl StepKind for ReviewStep {
    fn code(self) -> &'static str {
        "review"
    }
    fn label(self) -> &'static str {
        "审核"
    }
    fn approver_label(self, approver: Approver) -> String {
        match approver {
            Approver::City => "市局牵头科室".to_string(),
            a => a.label(),
        }
    }
}

/// The review flow of a report filed by `unit` and reviewed by `reviewer` within
/// `limit_working_days`: one returnable step; the unit resubmits after a return.
pub fn review_flow(
    unit: Approver,
    reviewer: Approver,
    limit_working_days: u32,
) -> Flow<ReviewStep> {
    Flow::new(
        vec![Step {
            kind: ReviewStep::Review,
            approver: reviewer,
            time_limit_working_days: limit_working_days,
        }],
        Applicant::Unit(unit),
        true,
    )
}

/// The Shanghai date of a submission, for pages.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    shanghai_date(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::Action;
    use crate::{RegionCode, Scope};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn keys_of_every_kind_read_back_and_bad_ones_name_the_form() {
        for k in [
            "2020-06-15",
            "2020-W23",
            "2020-06",
            "2020-2021-1",
            "2020-2021-2",
        ] {
            assert_eq!(Period::parse(k).unwrap().key(), k);
        }
        assert_eq!(
            Period::parse_as(PeriodKind::Month, "2020-13")
                .unwrap_err()
                .to_string(),
            "报送周期“2020-13”格式不正确，月报周期应为 YYYY-MM，例如 2020-06"
        );
        assert!(Period::parse_as(PeriodKind::Term, "2020-2022-1").is_err());
        assert!(Period::parse_as(PeriodKind::Term, "2020-2021-3").is_err());
        assert!(Period::parse_as(PeriodKind::Week, "2020-W54").is_err());
        assert!(Period::parse_as(PeriodKind::Day, "2020-02-30").is_err());
        assert!(Period::parse_as(PeriodKind::Month, "2020-6").is_err());
        assert!(
            Period::parse("六月")
                .unwrap_err()
                .to_string()
                .contains("无法识别")
        );
    }

    #[test]
    fn periods_span_their_days() {
        let w = Period::parse("2020-W23").unwrap();
        assert_eq!(
            (w.first_day(), w.last_day()),
            (d(2020, 6, 1), d(2020, 6, 7))
        );
        let t = Period::parse("2020-2021-1").unwrap();
        assert_eq!(
            (t.first_day(), t.last_day()),
            (d(2020, 9, 1), d(2021, 1, 31))
        );
        let t2 = t.next();
        assert_eq!(
            (t2.first_day(), t2.last_day()),
            (d(2021, 2, 1), d(2021, 8, 31))
        );
        assert_eq!(Period::containing(PeriodKind::Term, d(2021, 1, 15)), t);
        let m = Period::parse("2020-12").unwrap();
        assert_eq!(m.next().key(), "2021-01");
        assert_eq!(
            Period::range(PeriodKind::Month, d(2020, 3, 9), d(2020, 6, 1))
                .iter()
                .map(Period::key)
                .collect::<Vec<_>>(),
            ["2020-03", "2020-04", "2020-05", "2020-06"]
        );
        assert!(Period::range(PeriodKind::Day, d(2020, 3, 9), d(2020, 3, 8)).is_empty());
    }

    #[test]
    fn due_times_follow_their_rule() {
        let cal = WorkCalendar::weekends_only();
        let june = Period::parse("2020-06").unwrap();
        assert_eq!(
            DueRule::DayOfNextMonth(5).due(&june, &cal),
            Due {
                date: d(2020, 7, 5),
                time: END_OF_DAY
            }
        );
        // 2020-07-01 is a Wednesday: the 3rd working day of July is Friday the 3rd.
        assert_eq!(
            DueRule::WorkingDaysAfterEnd(3).due(&june, &cal).date,
            d(2020, 7, 3)
        );
        let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        let day = Period::parse("2020-06-15").unwrap();
        let due = DueRule::SameDayAt(ten).due(&day, &cal);
        // 10:00 in Linyi is 02:00 UTC.
        assert_eq!(due.at().to_rfc3339(), "2020-06-15T02:00:00+00:00");
        assert_eq!(DueRule::SameDayAt(ten).label(), "当日 10:00 前");
    }

    #[test]
    fn late_and_missing_flags() {
        let due = Due {
            date: d(2020, 7, 5),
            time: END_OF_DAY,
        };
        let at = |day: u32, h: u32| {
            // Local time h:00 on 2020-07-day.
            Due {
                date: d(2020, 7, day),
                time: NaiveTime::from_hms_opt(h, 0, 0).unwrap(),
            }
            .at()
        };
        let in_time = Standing::of(due, Some(at(5, 23)), at(20, 0));
        assert!(!in_time.late && !in_time.missing && !in_time.overdue());
        let late = Standing::of(due, Some(at(6, 1)), at(20, 0));
        assert!(late.late && !late.missing);
        let not_yet = Standing::of(due, None, at(5, 12));
        assert!(!not_yet.missing);
        let missing = Standing::of(due, None, at(6, 0));
        assert!(missing.missing && !missing.late && missing.overdue());
    }

    #[test]
    fn the_review_runs_on_the_approval_flow_and_approval_locks() {
        let lanshan = RegionCode::from_i32(371302);
        let f = review_flow(Approver::County(lanshan), Approver::City, 5);
        assert_eq!(ReportState::of(Some(&f.status)), ReportState::Submitted);
        // The county cannot approve its own report.
        let e = f
            .apply(&Action::Approve, &Scope::County(lanshan))
            .unwrap_err();
        assert!(e.to_string().contains("市局牵头科室"), "{e}");
        let r = f
            .apply(
                &Action::Return {
                    reason: "补充佐证".into(),
                },
                &Scope::City,
            )
            .unwrap();
        assert_eq!(ReportState::of(Some(&r.status)), ReportState::Returned);
        assert!(r.apply(&Action::Resubmit, &Scope::City).is_err());
        let again = r.apply(&Action::Resubmit, &Scope::County(lanshan)).unwrap();
        let done = again.apply(&Action::Approve, &Scope::City).unwrap();
        let state = ReportState::of(Some(&done.status));
        assert_eq!(state, ReportState::Approved);
        assert_eq!(
            check_editable(state, "任务 1.2 2020-06 的月报")
                .unwrap_err()
                .to_string(),
            "任务 1.2 2020-06 的月报已审核通过，数值已锁定，不能修改"
        );
        assert!(check_editable(ReportState::Returned, "x").is_ok());
        assert_eq!(ReportState::of(None), ReportState::NotSubmitted);
    }

    /// Property: for every date and kind, the containing period holds the date, its key reads
    /// back, and the next period starts the day after it ends.
    #[test]
    fn every_date_lies_in_exactly_one_period_of_each_kind() {
        let mut day = d(2019, 12, 20);
        while day < d(2022, 1, 10) {
            for kind in [
                PeriodKind::Day,
                PeriodKind::Week,
                PeriodKind::Month,
                PeriodKind::Term,
            ] {
                let p = Period::containing(kind, day);
                assert!(p.first_day() <= day && day <= p.last_day(), "{p} {day}");
                assert_eq!(Period::parse_as(kind, &p.key()), Ok(p));
                assert_eq!(Period::parse(&p.key()), Ok(p));
                assert_eq!(p.next().first_day(), p.last_day().succ_opt().unwrap());
                assert!(p < p.next());
            }
            day = day.succ_opt().unwrap();
        }
    }

    /// Property: a due time is never before the period's end, and a report submitted at the due
    /// time is in time while one a second later is late.
    #[test]
    fn due_times_are_never_before_the_period_ends() {
        let cal = WorkCalendar::seeded();
        let rules = [
            DueRule::DayOfNextMonth(5),
            DueRule::DayOfNextMonth(31),
            DueRule::WorkingDaysAfterEnd(3),
            DueRule::SameDayAt(NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
        ];
        let mut day = d(2020, 1, 1);
        while day < d(2021, 12, 31) {
            for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
                let p = Period::containing(kind, day);
                for r in rules {
                    let due = r.due(&p, &cal);
                    assert!(due.date >= p.last_day(), "{r:?} {p}");
                    let s = Standing::of(due, Some(due.at()), due.at());
                    assert!(!s.late);
                    let s =
                        Standing::of(due, Some(due.at() + chrono::Duration::seconds(1)), due.at());
                    assert!(s.late);
                }
            }
            day = day + chrono::Days::new(9);
        }
    }
}
