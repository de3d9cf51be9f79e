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
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            entry_cutoff_month: 8,
            entry_cutoff_day: 31,
            class_size_counts_suspended: false,
        }
    }
}

impl Rules {
    /// The entry cut-off date in `year`.
    pub fn entry_cutoff(&self, year: i32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(year, self.entry_cutoff_month, self.entry_cutoff_day)
            .unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(year, 8, 31).expect("valid"))
    }
}
