//! Rules that are local or unconfirmed (domain-rules marks them *local*): they are configuration,
//! read from `yimeng.toml` `[rules]`, with these defaults.

use serde::{Deserialize, Serialize};

/// Locally configurable rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// School-entry cut-off, month: a child 6 周岁 on this date enters grade 1 (domain-rules §4.1;
    /// 31 August is common practice; confirm in Linyi's annual enrolment notice).
    pub entry_cutoff_month: u32,
    /// School-entry cut-off, day.
    pub entry_cutoff_day: u32,
    /// Whether 休学 students count in class size (domain-rules §5: local; default exclude).
    pub class_size_counts_suspended: bool,
    /// 转学: working days each party has to act on its step (domain-rules §3.3: 10 working days,
    /// 2013 办法 art. 14 [S7]; re-check against the 2025 text).
    pub transfer_step_working_days: u32,
    /// 转学 during 休学 (domain-rules §3.3: a common local ban, so banned by default).
    pub transfer_allowed_while_suspended: bool,
    /// 休学: the longest single suspension, in months (domain-rules §3.3: "typically ≤ 1 school
    /// year", *local*; default 12).
    pub suspension_max_months: u32,
    /// Class-size gate: warn when a 小学 class would exceed this (domain-rules §5; default the
    /// standard size 45 of [`crate::Grade::standard_class_size`]).
    pub class_warn_above_primary: u32,
    /// Class-size gate: warn when a 初中/高中/中职 class would exceed this (default 50).
    pub class_warn_above_secondary: u32,
    /// Class-size gate: refuse when a starting-grade class would exceed this (default 55,
    /// [`crate::grade::STARTING_GRADE_MAX`], 2020 plan item 8).
    pub starting_class_max: u32,
    /// Class-size gate: refuse when any class would reach this size (default 56,
    /// [`crate::grade::BIG_CLASS_MIN`], 大班额).
    pub class_refuse_at: u32,
    /// 月调度: a month's report is due by this day of the next month (the bureau's practice:
    /// the 5th; 1–28).
    pub dispatch_due_day: u32,
    /// 月调度: when not 0, a month's report is due by this working day of the next month on the
    /// stored calendar instead of [`Rules::dispatch_due_day`] (default 0: the fixed day applies).
    pub dispatch_due_working_day: u32,
    /// Daily reports (晨午检日报): due on the day itself by this hour, local time (default 10).
    pub daily_report_due_hour: u32,
    /// Periodic reports: the reviewer's time limit in working days (default 5).
    pub report_review_working_days: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            entry_cutoff_month: 8,
            entry_cutoff_day: 31,
            class_size_counts_suspended: false,
            transfer_step_working_days: 10,
            transfer_allowed_while_suspended: false,
            suspension_max_months: 12,
            class_warn_above_primary: crate::Grade::P1.standard_class_size() as u32,
            class_warn_above_secondary: crate::Grade::J1.standard_class_size() as u32,
            starting_class_max: crate::grade::STARTING_GRADE_MAX as u32,
            class_refuse_at: crate::grade::BIG_CLASS_MIN as u32,
            dispatch_due_day: 5,
            dispatch_due_working_day: 0,
            daily_report_due_hour: 10,
            report_review_working_days: 5,
        }
    }
}

impl Rules {
    /// When a month's 月调度 report is due: the Nth working day of the next month when
    /// `dispatch_due_working_day` is set, else day `dispatch_due_day` of the next month.
    pub fn dispatch_due_rule(&self) -> crate::report::DueRule {
        match self.dispatch_due_working_day {
            0 => crate::report::DueRule::DayOfNextMonth(self.dispatch_due_day),
            n => crate::report::DueRule::WorkingDaysAfterEnd(n),
        }
    }
    /// When a daily report is due: the same day at `daily_report_due_hour`:00.
    pub fn daily_report_due_rule(&self) -> crate::report::DueRule {
        let t = chrono::NaiveTime::from_hms_opt(self.daily_report_due_hour.min(23), 0, 0)
            .unwrap_or(crate::report::END_OF_DAY);
        crate::report::DueRule::SameDayAt(t)
    }
    /// The entry cut-off date in `year`.
    pub fn entry_cutoff(&self, year: i32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(year, self.entry_cutoff_month, self.entry_cutoff_day)
            .unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(year, 8, 31).expect("valid"))
    }
}
