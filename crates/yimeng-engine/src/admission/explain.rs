//! 落选说明 (explanations): for one candidate, why each choice above the one they got did not
//! admit them. Read from the final outcome, which is stable: every pool the candidate could use
//! at a school they prefer is full with candidates ranked ahead of them.

use super::matching::priority_cmp;
use super::{CandidateIdx, Instance, Outcome, Policy, PoolKind, SchoolIdx, Score};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// Why one pool or school did not admit the candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The school is in no batch of this year's policy.
    NotInAnyBatch,
    /// 后续批次: the school is in a later batch and the candidate was placed before it.
    LaterBatch {
        /// The school's batch.
        batch: String,
        /// The batch the candidate was placed in.
        placed_in: String,
    },
    /// 未达批次控制线 (below the batch control line).
    BelowControlLine {
        /// Batch name.
        batch: String,
        /// Control line.
        line: Score,
        /// The candidate's total.
        total: Score,
    },
    /// 计划已满 (the pool is full) with candidates ranked ahead.
    PoolFull {
        /// Which pool.
        kind: PoolKind,
        /// Seats (after reversion).
        capacity: u32,
        /// Total of the last admitted candidate.
        last_total: Score,
        /// The candidate's total.
        total: Score,
        /// Same total as the last admitted: the tie-break chain or lottery decided.
        tied: bool,
    },
    /// The pool has no seats (a general pool with no plan, or a quota pool whose seats all
    /// reverted to general).
    NoSeats {
        /// Which pool.
        kind: PoolKind,
    },
    /// 未达指标生最低控制线 (below the quota pool's minimum total).
    BelowQuotaMin {
        /// Minimum total.
        min_total: Score,
        /// The candidate's total.
        total: Score,
    },
    /// 非本校指标 (the school's quota seats belong to other junior schools).
    QuotaOtherJunior,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pool = |k: &PoolKind| match k {
            PoolKind::General => "统招计划",
            PoolKind::Quota(_) => "本初中的指标名额",
        };
        match self {
            Reason::NotInAnyBatch => write!(f, "该校未列入任何录取批次"),
            Reason::LaterBatch { batch, placed_in } => write!(
                f,
                "该校属于“{batch}”，考生已在“{placed_in}”被录取，不再参加后续批次"
            ),
            Reason::BelowControlLine { batch, line, total } => {
                write!(f, "总分 {total} 低于“{batch}”最低录取控制线 {line}")
            }
            Reason::PoolFull {
                kind,
                capacity,
                last_total,
                total,
                tied,
            } => {
                write!(
                    f,
                    "{} {capacity} 人已录满，最后录取者总分 {last_total}，考生总分 {total}",
                    pool(kind)
                )?;
                if *tied {
                    write!(f, "（同分，按同分比较科目和抽签顺序排在其后）")?;
                }
                Ok(())
            }
            Reason::NoSeats { kind } => match kind {
                PoolKind::General => write!(f, "该校没有统招计划"),
                PoolKind::Quota(_) => write!(f, "本初中的指标名额已全部转为统招"),
            },
            Reason::BelowQuotaMin { min_total, total } => write!(
                f,
                "总分 {total} 低于该校指标生最低控制线 {min_total}，不能使用指标名额"
            ),
            Reason::QuotaOtherJunior => {
                write!(f, "该校的指标名额分配给其他初中，考生不具备资格")
            }
        }
    }
}

/// One choice above the placement and why it did not admit the candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceExplanation {
    /// 1-based choice number.
    pub choice: u32,
    /// School.
    pub school: SchoolIdx,
    /// School code.
    pub code: String,
    /// Every reason, one per pool (or one for the school).
    pub reasons: Vec<Reason>,
}

/// 录取说明 of one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// Candidate id.
    pub candidate_id: String,
    /// Total.
    pub total: Score,
    /// `(school code, pool kind, choice number, batch name)` when placed.
    pub placed: Option<(String, PoolKind, u32, String)>,
    /// The choices above the placement (every choice when unplaced).
    pub choices: Vec<ChoiceExplanation>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "考生 {}（总分 {}）：", self.candidate_id, self.total)?;
        match &self.placed {
            Some((code, kind, choice, batch)) => writeln!(
                f,
                "在“{batch}”被第 {choice} 志愿 {code} 录取（{}）",
                match kind {
                    PoolKind::General => "统招",
                    PoolKind::Quota(_) => "指标生",
                }
            )?,
            None => writeln!(f, "未被录取")?,
        }
        if self.choices.is_empty() {
            if self.placed.is_some() {
                writeln!(f, "  第一志愿即被录取，无需说明。")?;
            } else {
                writeln!(f, "  没有填报志愿。")?;
            }
        }
        for c in &self.choices {
            writeln!(f, "  第 {} 志愿 {}：", c.choice, c.code)?;
            for r in &c.reasons {
                writeln!(f, "    - {r}")?;
            }
        }
        Ok(())
    }
}

/// Explains the outcome for candidate `c`. `policy` must be the one the outcome was computed
/// with.
pub fn explain(
    instance: &Instance,
    policy: &Policy,
    outcome: &Outcome,
    c: CandidateIdx,
) -> Explanation {
    let cand = &instance.candidates[c as usize];
    let batch_of: HashMap<&str, usize> = policy
        .batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| batch.schools.iter().map(move |s| (s.as_str(), b)))
        .collect();
    let batch_name = |b: usize| {
        policy
            .batches
            .get(b)
            .map_or_else(|| "录取批次".to_string(), |x| x.name.clone())
    };
    let school_batch = |s: SchoolIdx| -> Option<usize> {
        if policy.batches.is_empty() {
            Some(0)
        } else {
            batch_of
                .get(instance.schools[s as usize].code.as_str())
                .copied()
        }
    };
    let n_schools = instance.schools.len();
    let placement = outcome.placements[c as usize];
    let upto = placement.map_or(cand.choices.len(), |p| p.choice as usize - 1);
    let mut choices = Vec::new();
    for (k, &s) in cand.choices.iter().enumerate().take(upto) {
        let mut reasons = Vec::new();
        match school_batch(s) {
            None => reasons.push(Reason::NotInAnyBatch),
            Some(b) if placement.is_some_and(|p| b > p.batch as usize) => {
                reasons.push(Reason::LaterBatch {
                    batch: batch_name(b),
                    placed_in: batch_name(placement.map_or(0, |p| p.batch as usize)),
                })
            }
            Some(b) => {
                let line = policy.batches.get(b).and_then(|x| x.control_line);
                if let Some(line) = line.filter(|l| cand.total < *l) {
                    reasons.push(Reason::BelowControlLine {
                        batch: batch_name(b),
                        line,
                        total: cand.total,
                    });
                } else {
                    let mut pools = vec![s as usize];
                    let mut other_junior = false;
                    let mut below_min = None;
                    for (q, pool) in instance.quotas.iter().enumerate() {
                        if pool.school == s {
                            if pool.junior == cand.junior {
                                if cand.total < pool.min_total {
                                    below_min = Some(Reason::BelowQuotaMin {
                                        min_total: pool.min_total,
                                        total: cand.total,
                                    });
                                } else {
                                    pools.push(n_schools + q);
                                }
                            } else {
                                other_junior = true;
                            }
                        }
                    }
                    let quota_seen = pools.len() > 1 || below_min.is_some();
                    for p in pools {
                        let r = &outcome.pools[p];
                        match r.last_admitted {
                            Some(last) if r.capacity > 0 => {
                                let last_total = instance.candidates[last as usize].total;
                                debug_assert_ne!(
                                    priority_cmp(instance, &policy.final_tie, s, last, c),
                                    Ordering::Greater
                                );
                                reasons.push(Reason::PoolFull {
                                    kind: r.kind,
                                    capacity: r.capacity,
                                    last_total,
                                    total: cand.total,
                                    tied: last_total == cand.total,
                                });
                            }
                            _ => reasons.push(Reason::NoSeats { kind: r.kind }),
                        }
                    }
                    reasons.extend(below_min);
                    if other_junior && !quota_seen {
                        reasons.push(Reason::QuotaOtherJunior);
                    }
                }
            }
        }
        choices.push(ChoiceExplanation {
            choice: k as u32 + 1,
            school: s,
            code: instance.schools[s as usize].code.clone(),
            reasons,
        });
    }
    Explanation {
        candidate_id: cand.id.clone(),
        total: cand.total,
        placed: placement.map(|p| {
            (
                instance.schools[p.school as usize].code.clone(),
                outcome.pools[p.pool as usize].kind,
                p.choice,
                batch_name(p.batch as usize),
            )
        }),
        choices,
    }
}
