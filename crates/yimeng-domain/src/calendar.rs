//! Working-day calendar (工作日历): the basis of every time limit counted in 工作日 (working days),
//! e.g. the 10 working days each party has to handle a transfer (domain-rules §3.3).
//!
//! Rule (domain-rules §0): "工作日" are the working days of the State Council's annual holiday
//! arrangement (国务院办公厅关于部分节假日安排的通知): Monday to Friday, except public holidays
//! (休息日, including the weekdays taken off by 调休), plus the weekend days declared working days
//! (调休上班日). The administrator maintains the list in the product; [`HOLIDAY_SEED`] is the
//! initial content.
//!
//! Counting (the same convention as the Civil Code for periods, 民法典 art. 201): the day the period
//! starts is **not** counted. A limit of `n` working days from `start` ends on the `n`-th working
//! day after `start` ([`WorkCalendar::add_working_days`]), whatever kind of day `start` is.

use crate::code_list;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc, Weekday};
use serde::Serialize;
use std::collections::BTreeMap;

code_list! {
    /// Kind of a listed calendar day.
    pub enum DayKind: "日期类型" {
        /// 休息日: a public holiday, or a weekday taken off by 调休.
        Holiday = "holiday", "休息日", "Holiday", "节假日", "放假";
        /// 调休上班日: a weekend day declared a working day.
        MakeUpWorkday = "workday", "调休上班日", "Make-up working day", "上班", "补班", "调休上班";
    }
}

/// One listed day of the calendar (a row of the administrator's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    /// The date.
    pub date: NaiveDate,
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// The festival it belongs to (元旦, 春节 …).
    pub name: &'static str,
}

const fn day(y: i32, m: u32, d: u32, kind: DayKind, name: &'static str) -> CalendarDay {
    let date = match NaiveDate::from_ymd_opt(y, m, d) {
        Some(v) => v,
        None => panic!("invalid date in the holiday seed"),
    };
    CalendarDay { date, kind, name }
}

const H: DayKind = DayKind::Holiday;
const W: DayKind = DayKind::MakeUpWorkday;

/// Initial content of the holiday table, for the store migration to load.
///
/// **2026**: 国务院办公厅关于2026年部分节假日安排的通知 (published November 2025), as known to the
/// author: 元旦 1.1–1.3 (1.4 上班); 春节 2.15–2.23 (2.14, 2.28 上班); 清明节 4.4–4.6; 劳动节 5.1–5.5
/// (5.9 上班); 端午节 6.19–6.21; 中秋节 9.25–9.27; 国庆节 10.1–10.7 (9.20, 10.10 上班). Re-check
/// against the official notice before relying on it; weekend days inside a holiday are listed too
/// (harmless: they are rest days anyway) so the table reads like the notice.
///
/// **2027**: the arrangement was not known to the author, so only the statutory days fixed by
/// date in 《全国年节及纪念日放假办法》 (2024 revision) are listed: 元旦 1.1, 劳动节 5.1–5.2,
/// 国庆节 10.1–10.3. The lunar-calendar festivals (春节, 清明节, 端午节, 中秋节) and every 调休
/// day of 2027 must be added by the administrator from the State Council's notice.
pub const HOLIDAY_SEED: &[CalendarDay] = &[
    // 2026 元旦
    day(2026, 1, 1, H, "元旦"),
    day(2026, 1, 2, H, "元旦"),
    day(2026, 1, 3, H, "元旦"),
    day(2026, 1, 4, W, "元旦"),
    // 2026 春节
    day(2026, 2, 14, W, "春节"),
    day(2026, 2, 15, H, "春节"),
    day(2026, 2, 16, H, "春节"),
    day(2026, 2, 17, H, "春节"),
    day(2026, 2, 18, H, "春节"),
    day(2026, 2, 19, H, "春节"),
    day(2026, 2, 20, H, "春节"),
    day(2026, 2, 21, H, "春节"),
    day(2026, 2, 22, H, "春节"),
    day(2026, 2, 23, H, "春节"),
    day(2026, 2, 28, W, "春节"),
    // 2026 清明节
    day(2026, 4, 4, H, "清明节"),
    day(2026, 4, 5, H, "清明节"),
    day(2026, 4, 6, H, "清明节"),
    // 2026 劳动节
    day(2026, 5, 1, H, "劳动节"),
    day(2026, 5, 2, H, "劳动节"),
    day(2026, 5, 3, H, "劳动节"),
    day(2026, 5, 4, H, "劳动节"),
    day(2026, 5, 5, H, "劳动节"),
    day(2026, 5, 9, W, "劳动节"),
    // 2026 端午节
    day(2026, 6, 19, H, "端午节"),
    day(2026, 6, 20, H, "端午节"),
    day(2026, 6, 21, H, "端午节"),
    // 2026 中秋节
    day(2026, 9, 25, H, "中秋节"),
    day(2026, 9, 26, H, "中秋节"),
    day(2026, 9, 27, H, "中秋节"),
    // 2026 国庆节
    day(2026, 9, 20, W, "国庆节"),
    day(2026, 10, 1, H, "国庆节"),
    day(2026, 10, 2, H, "国庆节"),
    day(2026, 10, 3, H, "国庆节"),
    day(2026, 10, 4, H, "国庆节"),
    day(2026, 10, 5, H, "国庆节"),
    day(2026, 10, 6, H, "国庆节"),
    day(2026, 10, 7, H, "国庆节"),
    day(2026, 10, 10, W, "国庆节"),
    // 2027: statutory fixed-date days only (see above).
    day(2027, 1, 1, H, "元旦"),
    day(2027, 5, 1, H, "劳动节"),
    day(2027, 5, 2, H, "劳动节"),
    day(2027, 10, 1, H, "国庆节"),
    day(2027, 10, 2, H, "国庆节"),
    day(2027, 10, 3, H, "国庆节"),
];

/// A problem with the administrator's list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The same date listed as both kinds.
    #[error("{date} 同时被设为休息日和调休上班日，只能是其中一种")]
    Conflict {
        /// The date.
        date: NaiveDate,
    },
}

/// The working-day calendar: weekends and listed holidays are rest days, listed make-up days are
/// working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    listed: BTreeMap<NaiveDate, DayKind>,
}

/// Offset of China Standard Time (UTC+8, no daylight saving since 1991), in which the bureau's
/// days begin and end.
pub const CHINA_STANDARD_TIME_SECONDS: i32 = 8 * 3600;

/// The calendar date in Asia/Shanghai of a UTC instant: a request submitted at 2026-01-05T17:00Z
/// was submitted on 2026-01-06 for its time limit.
pub fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    let cst = FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS).expect("valid offset");
    t.with_timezone(&cst).date_naive()
}

impl WorkCalendar {
    /// Weekends only (no listed days).
    pub fn weekends_only() -> Self {
        WorkCalendar::default()
    }

    /// From the administrator's list (e.g. the rows of the store's holiday table). A date listed
    /// twice with the same kind is accepted; with both kinds it is refused.
    pub fn from_days<I>(days: I) -> Result<Self, CalendarError>
    where
        I: IntoIterator<Item = (NaiveDate, DayKind)>,
    {
        let mut listed = BTreeMap::new();
        for (date, kind) in days {
            if let Some(old) = listed.insert(date, kind)
                && old != kind
            {
                return Err(CalendarError::Conflict { date });
            }
        }
        Ok(WorkCalendar { listed })
    }

    /// The calendar of [`HOLIDAY_SEED`].
    pub fn seeded() -> Self {
        WorkCalendar::from_days(HOLIDAY_SEED.iter().map(|d| (d.date, d.kind)))
            .expect("the seed has no conflicts")
    }

    /// True on a working day (工作日).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.listed.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::MakeUpWorkday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th working day after `start` (the start day is not counted): the last day of a time
    /// limit of `n` working days that starts on `start`. `n == 0` gives `start` itself.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("date in range");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in the period after `a` up to and including `b` (the start day is not counted),
    /// negative when `b` is before `a`. So `working_days_between(a, add_working_days(a, n)) == n`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        if b == a {
            return 0;
        }
        // Whole weeks have five weekdays; adjust by the listed days in the range.
        let days = (b - a).num_days();
        let mut count = (days / 7) * 5;
        let mut d = a + chrono::Duration::days((days / 7) * 7);
        while d < b {
            d = d.succ_opt().expect("date in range");
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                count += 1;
            }
        }
        for (&date, &kind) in self.listed.range(a.succ_opt().unwrap_or(a)..=b) {
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            match (kind, weekend) {
                (DayKind::Holiday, false) => count -= 1,
                (DayKind::MakeUpWorkday, true) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// Whether a limit of `n` working days started on `start` has run out on `today` (the last day
    /// itself is still in time).
    pub fn is_overdue(&self, start: NaiveDate, n: u32, today: NaiveDate) -> bool {
        today > self.add_working_days(start, n)
    }

    /// The listed days in a year, for display.
    pub fn listed_in(&self, year: i32) -> Vec<(NaiveDate, DayKind)> {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Vec::new();
        };
        self.listed
            .range(from..=to)
            .map(|(d, k)| (*d, *k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_rest_and_weekdays_work() {
        let c = WorkCalendar::weekends_only();
        assert!(c.is_working_day(d(2025, 3, 7))); // Friday
        assert!(!c.is_working_day(d(2025, 3, 8))); // Saturday
        // Ten working days from a Friday end on the Friday two weeks later.
        assert_eq!(c.add_working_days(d(2025, 3, 7), 10), d(2025, 3, 21));
        // From a Saturday, the first working day is the Monday.
        assert_eq!(c.add_working_days(d(2025, 3, 8), 1), d(2025, 3, 10));
        assert_eq!(c.add_working_days(d(2025, 3, 8), 0), d(2025, 3, 8));
    }

    #[test]
    fn the_2026_new_year_and_spring_festival_follow_the_notice() {
        let c = WorkCalendar::seeded();
        assert!(!c.is_working_day(d(2026, 1, 1)));
        assert!(!c.is_working_day(d(2026, 1, 2)));
        assert!(c.is_working_day(d(2026, 1, 4))); // Sunday make-up day
        assert!(c.is_working_day(d(2026, 2, 14))); // Saturday make-up day
        assert!(!c.is_working_day(d(2026, 2, 23))); // Monday off
        assert!(c.is_working_day(d(2026, 2, 24)));
        // A transfer step opened on Friday 2026-02-13 with 10 working days:
        // 14 (Sat, make-up), 24, 25, 26, 27, 28 (Sat, make-up), 3.2, 3.3, 3.4, 3.5.
        assert_eq!(c.add_working_days(d(2026, 2, 13), 10), d(2026, 3, 5));
        assert_eq!(c.working_days_between(d(2026, 2, 13), d(2026, 3, 5)), 10);
    }

    #[test]
    fn the_national_day_week_has_two_make_up_days() {
        let c = WorkCalendar::seeded();
        assert!(c.is_working_day(d(2026, 9, 20)));
        assert!(c.is_working_day(d(2026, 10, 10)));
        assert_eq!(c.working_days_between(d(2026, 9, 30), d(2026, 10, 8)), 1);
    }

    #[test]
    fn between_and_add_agree_and_between_is_antisymmetric() {
        let c = WorkCalendar::seeded();
        let mut start = d(2025, 12, 20);
        while start < d(2026, 12, 31) {
            for n in [0u32, 1, 3, 10, 20] {
                let end = c.add_working_days(start, n);
                assert_eq!(
                    c.working_days_between(start, end),
                    i64::from(n),
                    "{start} + {n}"
                );
                assert_eq!(c.working_days_between(end, start), -i64::from(n));
            }
            start += chrono::Duration::days(3);
        }
    }

    #[test]
    fn a_day_listed_as_both_kinds_is_refused() {
        let e = WorkCalendar::from_days([
            (d(2026, 1, 4), DayKind::MakeUpWorkday),
            (d(2026, 1, 4), DayKind::Holiday),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("2026-01-04"), "{e}");
    }

    #[test]
    fn the_seed_lists_no_weekday_as_a_make_up_day_and_no_day_twice() {
        let mut seen = std::collections::BTreeSet::new();
        for day in HOLIDAY_SEED {
            assert!(seen.insert(day.date), "{} twice", day.date);
            if day.kind == DayKind::MakeUpWorkday {
                assert!(
                    matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun),
                    "{}",
                    day.date
                );
            }
        }
    }

    #[test]
    fn instants_are_dated_in_china_standard_time() {
        let t = DateTime::parse_from_rfc3339("2026-01-05T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(shanghai_date(t), d(2026, 1, 6));
    }
}
