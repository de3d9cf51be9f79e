//! # 中考统一招生 平行志愿 (senior-high admission with parallel preferences)
//!
//! Student-proposing deferred acceptance over seat pools. Each 高中 (senior high school) has a
//! 统招 (general) pool and may have 指标到校 (quota) pools, each reserved for the graduates of one
//! 初中 (junior school) who reach the pool's minimum total. Within a pool, candidates rank by total
//! score, then by the configured 同分比较 (tie-break) scores, then by a final policy: a lottery
//! drawn from a published seed, or 同分同录 (admit every tied candidate, beyond capacity).
//!
//! Batches (提前批, 第一批, …) run in order with their own control line and school set; a candidate
//! placed in one batch leaves the later ones. Within a batch, quota seats that stay empty revert to
//! the general pool of the same school and the batch is matched again until every quota pool is
//! either full or has given its empty seats back; the result is stable for the final pools.
//! With fixed pools the mechanism is strategy-proof for unlimited lists; matching again after a
//! reversion is not (a candidate can leave out a quota seat so that it reverts; see the test
//! `leaving_out_a_quota_seat_that_then_reverts_can_win_a_better_school`).
//!
//! When every pool ranks candidates the same way (the usual case: one score order and one lottery)
//! deferred acceptance equals serial dictatorship, which [`admit`] runs as a fast path. A per-school
//! lottery (`per_school = true`) makes the pools rank differently and runs the general algorithm.
//!
//! Modules: [`exchange`] reads and validates the CSV exchange files and the policy and writes the
//! results; [`quota`] splits a quota share by largest remainder; [`explain`] says why a candidate
//! was not admitted to the choices above the one they got; [`synth`] generates benchmark instances.

pub mod exchange;
pub mod explain;
mod matching;
pub mod policy;
pub mod quota;
mod rng;
pub mod synth;
#[cfg(test)]
mod tests;

pub use explain::{ChoiceExplanation, Explanation, Reason, explain};
pub use matching::{Algorithm, admit, admit_with, lottery, priority_cmp};
pub use policy::{Batch, FinalTie, Policy, Precedence, QuotaShare};

use std::fmt;

/// Index of a school in [`Instance::schools`].
pub type SchoolIdx = u32;
/// Index of a junior school in [`Instance::juniors`].
pub type JuniorIdx = u32;
/// Index of a candidate in [`Instance::candidates`] (input order).
pub type CandidateIdx = u32;

/// A score in hundredths of a point (612.5 → 61250), so comparisons are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(pub u32);

impl Score {
    /// Whole points (for tests and generators).
    pub const fn points(p: u32) -> Score {
        Score(p * 100)
    }

    /// Parses `612`, `612.5` or `612.25` (at most two decimals, not negative).
    pub fn parse(s: &str) -> Result<Score, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("分数为空");
        }
        if s.starts_with('-') {
            return Err("分数不能为负");
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("不是数字");
        }
        if frac.len() > 2 {
            return Err("最多保留两位小数");
        }
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| "数值过大")?
        };
        let mut f: u64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            f += u64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let v = int
            .checked_mul(100)
            .and_then(|v| v.checked_add(f))
            .filter(|v| *v <= u64::from(u32::MAX))
            .ok_or("数值过大")?;
        Ok(Score(v as u32))
    }
}

impl fmt::Display for Score {
    /// `61250` → `612.5`, `61200` → `612`, `61225` → `612.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (i, h) = (self.0 / 100, self.0 % 100);
        match h {
            0 => write!(f, "{i}"),
            h if h % 10 == 0 => write!(f, "{i}.{}", h / 10),
            h => write!(f, "{i}.{h:02}"),
        }
    }
}

/// 高中 (a senior high school taking part in the admission).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct School {
    /// School code as written in the choices.
    pub code: String,
    /// 统招计划 (general seats).
    pub general_seats: u32,
}

/// 指标到校名额 (a quota pool): seats of one senior school reserved for one junior school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaPool {
    /// The senior school.
    pub school: SchoolIdx,
    /// 初中学校 (the junior school whose graduates may use it).
    pub junior: JuniorIdx,
    /// Seats.
    pub seats: u32,
    /// 指标生最低控制线 (minimum total for this pool).
    pub min_total: Score,
}

/// 考生 (a candidate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// 考生号 (candidate id).
    pub id: String,
    /// 毕业初中 (junior school).
    pub junior: JuniorIdx,
    /// 总分 (total score).
    pub total: Score,
    /// 同分比较科目 (tie-break scores), compared in order, higher first.
    pub tie_breaks: Box<[Score]>,
    /// 志愿 (choices) in preference order.
    pub choices: Box<[SchoolIdx]>,
}

/// One admission problem: schools, junior schools, quota pools and candidates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    /// Senior schools.
    pub schools: Vec<School>,
    /// Junior school codes.
    pub juniors: Vec<String>,
    /// Quota pools (at most one per school and junior school).
    pub quotas: Vec<QuotaPool>,
    /// Candidates in input order.
    pub candidates: Vec<Candidate>,
    /// Names of the tie-break columns, in comparison order.
    pub tie_break_names: Vec<String>,
}

/// Which kind of pool a seat came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolKind {
    /// 统招 (general).
    General,
    /// 指标生 (quota) for one junior school.
    Quota(JuniorIdx),
}

impl PoolKind {
    /// `general` or `quota`, as in the exchange files.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolKind::General => "general",
            PoolKind::Quota(_) => "quota",
        }
    }
}

/// 录取结果 of one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Admitting school.
    pub school: SchoolIdx,
    /// Pool: index into [`Outcome::pools`].
    pub pool: u32,
    /// Batch index in [`Policy::batches`] order.
    pub batch: u32,
    /// 1-based position of the school in the candidate's choices.
    pub choice: u32,
}

/// The final state of one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolResult {
    /// School.
    pub school: SchoolIdx,
    /// General or quota (with its junior school).
    pub kind: PoolKind,
    /// Seats as planned (general: from schools.csv or after the quota share is taken out).
    pub planned: u32,
    /// Seats after empty quota seats reverted: quota pools give seats away, general pools gain them.
    pub capacity: u32,
    /// Candidates admitted (may exceed `capacity` under 同分同录).
    pub admitted: u32,
    /// 最低录取分 (lowest admitted total), `None` if nobody was admitted.
    pub min_total: Option<Score>,
    /// The lowest-priority admitted candidate (the one a rejected applicant is compared with).
    pub last_admitted: Option<CandidateIdx>,
}

/// Result of [`admit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// One entry per candidate in input order; `None` = 未录取 (not placed).
    pub placements: Vec<Option<Placement>>,
    /// Pools: general pools first (index = school index), then quota pools in
    /// [`Instance::quotas`] order (index = number of schools + quota index).
    pub pools: Vec<PoolResult>,
    /// Matching passes run per batch (more than one when quota seats reverted).
    pub passes: Vec<u32>,
}

impl Outcome {
    /// The pool of a candidate's placement.
    pub fn pool_of(&self, c: CandidateIdx) -> Option<&PoolResult> {
        self.placements[c as usize].map(|p| &self.pools[p.pool as usize])
    }
}
