//! The matching: batches, quota reversion, serial dictatorship (fast path) and student-proposing
//! deferred acceptance (general path).

use super::rng::{fnv1a, mix};
use super::{
    CandidateIdx, FinalTie, Instance, Outcome, Placement, Policy, PoolKind, PoolResult, Precedence,
    SchoolIdx, Score,
};
use crate::EngineError;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

const NONE: u32 = u32::MAX;

/// Which algorithm runs a batch pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Algorithm {
    /// Serial dictatorship when every pool ranks candidates the same way (one lottery for all, or
    /// 同分同录), deferred acceptance otherwise.
    #[default]
    Auto,
    /// Always deferred acceptance (except under 同分同录, which only serial dictatorship defines);
    /// for tests that compare the two.
    DeferredAcceptance,
}

/// Runs the admission with the automatic choice of algorithm. See [`admit_with`].
pub fn admit(instance: &Instance, policy: &Policy) -> Result<Outcome, EngineError> {
    admit_with(instance, policy, Algorithm::Auto)
}

/// Runs every batch of `policy` over `instance`. Fails only when the policy names schools the
/// instance does not have, or names a school in two batches (the exchange loader reports these
/// with file and row; this check is for callers that build the policy themselves).
pub fn admit_with(
    instance: &Instance,
    policy: &Policy,
    algorithm: Algorithm,
) -> Result<Outcome, EngineError> {
    let m = Matcher::new(instance, policy)?;
    Ok(m.run(algorithm))
}

/// The 抽签号 (lottery number) of a candidate at a school: splitmix64 of the seed, the candidate
/// id and (per-school lottery only) the school code. Lower draws first. Public so that anyone
/// holding the published seed can recompute the order.
pub fn lottery(seed: u64, candidate_id: &str, school_code: Option<&str>) -> u64 {
    let s = school_code.map_or(0, |c| mix(fnv1a(c)));
    mix(seed ^ mix(fnv1a(candidate_id) ^ s))
}

/// Compares two candidates at a school's pools: `Less` = `a` comes first. `Equal` only under
/// 同分同录 with equal total and tie-break scores.
pub fn priority_cmp(
    inst: &Instance,
    tie: &FinalTie,
    school: SchoolIdx,
    a: CandidateIdx,
    b: CandidateIdx,
) -> Ordering {
    let (ca, cb) = (&inst.candidates[a as usize], &inst.candidates[b as usize]);
    let by_score = cb
        .total
        .cmp(&ca.total)
        .then_with(|| cb.tie_breaks.cmp(&ca.tie_breaks));
    if by_score != Ordering::Equal || a == b {
        return by_score;
    }
    match *tie {
        FinalTie::AdmitAll => Ordering::Equal,
        FinalTie::Lottery { seed, per_school } => {
            let code = per_school.then(|| inst.schools[school as usize].code.as_str());
            lottery(seed, &ca.id, code)
                .cmp(&lottery(seed, &cb.id, code))
                .then(a.cmp(&b))
        }
    }
}

/// Quota pool lookup by (school, junior school): a dense table when small, a map otherwise.
enum QuotaIndex {
    Dense {
        base: Vec<u32>,
        juniors: usize,
        table: Vec<u32>,
    },
    Sparse(HashMap<(u32, u32), u32>),
}

impl QuotaIndex {
    fn new(inst: &Instance) -> QuotaIndex {
        let mut base = vec![NONE; inst.schools.len()];
        let mut n = 0u32;
        for q in &inst.quotas {
            if base[q.school as usize] == NONE {
                base[q.school as usize] = n;
                n += 1;
            }
        }
        let juniors = inst.juniors.len();
        if (n as usize).saturating_mul(juniors) <= 32 << 20 {
            let mut table = vec![NONE; n as usize * juniors];
            for (k, q) in inst.quotas.iter().enumerate() {
                table[base[q.school as usize] as usize * juniors + q.junior as usize] = k as u32;
            }
            QuotaIndex::Dense {
                base,
                juniors,
                table,
            }
        } else {
            QuotaIndex::Sparse(
                inst.quotas
                    .iter()
                    .enumerate()
                    .map(|(k, q)| ((q.school, q.junior), k as u32))
                    .collect(),
            )
        }
    }

    #[inline]
    fn get(&self, school: u32, junior: u32) -> u32 {
        match self {
            QuotaIndex::Dense {
                base,
                juniors,
                table,
            } => {
                let b = base[school as usize];
                if b == NONE {
                    NONE
                } else {
                    table[b as usize * juniors + junior as usize]
                }
            }
            QuotaIndex::Sparse(m) => m.get(&(school, junior)).copied().unwrap_or(NONE),
        }
    }
}

struct Matcher<'a> {
    inst: &'a Instance,
    policy: &'a Policy,
    /// Batch of each school (`NONE` = in no batch).
    batch_of: Vec<u32>,
    /// (control line, schools) per batch.
    batches: Vec<(Option<Score>, Vec<SchoolIdx>)>,
    quota_index: QuotaIndex,
    /// Candidates in priority order (best first), as used by serial dictatorship.
    order: Vec<CandidateIdx>,
    /// Dense rank by (total, tie-breaks): equal scores share a rank.
    base_rank: Vec<u32>,
    /// Start of each group of candidates equal on every key (size 1 unless 同分同录).
    group_start: Vec<bool>,
    /// The choices, junior schools and totals laid out in priority order, so that a serial
    /// dictatorship pass reads memory front to back (choices of position `i` are
    /// `seq_school[seq_off[i]..seq_off[i + 1]]`).
    seq_off: Vec<u32>,
    seq_school: Vec<SchoolIdx>,
    seq_junior: Vec<u32>,
    seq_total: Vec<Score>,
    n_schools: usize,
}

/// Per-pass state.
struct Pass {
    cap: Vec<u32>,
    admitted: Vec<u32>,
    /// Pool id per candidate (`NONE` = unplaced in this pass).
    pool: Vec<u32>,
    /// 1-based choice number of the placement.
    choice: Vec<u32>,
}

impl<'a> Matcher<'a> {
    fn new(inst: &'a Instance, policy: &'a Policy) -> Result<Matcher<'a>, EngineError> {
        let n_schools = inst.schools.len();
        let mut batch_of = vec![NONE; n_schools];
        let mut batches = Vec::new();
        if policy.batches.is_empty() {
            batch_of.fill(0);
            batches.push((None, (0..n_schools as u32).collect()));
        } else {
            let by_code: HashMap<&str, u32> = inst
                .schools
                .iter()
                .enumerate()
                .map(|(i, s)| (s.code.as_str(), i as u32))
                .collect();
            for (b, batch) in policy.batches.iter().enumerate() {
                let mut schools = Vec::new();
                for code in &batch.schools {
                    let &s = by_code.get(code.as_str()).ok_or_else(|| {
                        EngineError::AdmissionPolicy(format!(
                            "批次“{}”中的学校 {code} 不在学校名单中",
                            batch.name
                        ))
                    })?;
                    if batch_of[s as usize] != NONE {
                        return Err(EngineError::AdmissionPolicy(format!(
                            "学校 {code} 同时列在两个批次中"
                        )));
                    }
                    batch_of[s as usize] = b as u32;
                    schools.push(s);
                }
                batches.push((batch.control_line, schools));
            }
        }
        let (order, base_rank, group_start) = rank(inst, &policy.final_tie);
        let total_choices: usize = inst.candidates.iter().map(|c| c.choices.len()).sum();
        let mut seq_off = Vec::with_capacity(order.len() + 1);
        let mut seq_school = Vec::with_capacity(total_choices);
        seq_off.push(0u32);
        for &c in &order {
            seq_school.extend_from_slice(&inst.candidates[c as usize].choices);
            seq_off.push(seq_school.len() as u32);
        }
        let seq_junior = order
            .iter()
            .map(|&c| inst.candidates[c as usize].junior)
            .collect();
        let seq_total = order
            .iter()
            .map(|&c| inst.candidates[c as usize].total)
            .collect();
        Ok(Matcher {
            seq_off,
            seq_school,
            seq_junior,
            seq_total,
            inst,
            policy,
            batch_of,
            batches,
            quota_index: QuotaIndex::new(inst),
            order,
            base_rank,
            group_start,
            n_schools,
        })
    }

    fn run(&self, algorithm: Algorithm) -> Outcome {
        let inst = self.inst;
        let n_pools = self.n_schools + inst.quotas.len();
        let mut planned: Vec<u32> = inst.schools.iter().map(|s| s.general_seats).collect();
        planned.extend(inst.quotas.iter().map(|q| q.seats));
        let mut pass = Pass {
            cap: planned.clone(),
            admitted: vec![0; n_pools],
            pool: vec![NONE; inst.candidates.len()],
            choice: vec![0; inst.candidates.len()],
        };
        let mut placed = vec![false; inst.candidates.len()];
        let mut placements: Vec<Option<Placement>> = vec![None; inst.candidates.len()];
        let mut passes = Vec::new();
        // Quota pools per school, to revert their empty seats.
        let mut quotas_of: Vec<Vec<u32>> = vec![Vec::new(); self.n_schools];
        for (k, q) in inst.quotas.iter().enumerate() {
            quotas_of[q.school as usize].push((self.n_schools + k) as u32);
        }
        let da = match (algorithm, self.policy.final_tie) {
            (_, FinalTie::AdmitAll) => false,
            (Algorithm::DeferredAcceptance, _) => true,
            (Algorithm::Auto, FinalTie::Lottery { per_school, .. }) => per_school,
        };
        for (b, (line, schools)) in self.batches.iter().enumerate() {
            let b = b as u32;
            let takes_part = |c: CandidateIdx| {
                !placed[c as usize] && line.is_none_or(|l| inst.candidates[c as usize].total >= l)
            };
            let mut n = 0;
            loop {
                n += 1;
                for &s in schools {
                    pass.admitted[s as usize] = 0;
                    for &q in &quotas_of[s as usize] {
                        pass.admitted[q as usize] = 0;
                    }
                }
                if da {
                    self.deferred_acceptance(b, &takes_part, &mut pass);
                } else if matches!(self.policy.final_tie, FinalTie::AdmitAll) {
                    self.serial_dictatorship::<true>(b, *line, &placed, &mut pass);
                } else {
                    self.serial_dictatorship::<false>(b, *line, &placed, &mut pass);
                }
                // 指标生名额未用完转统招: empty quota seats revert to the school's general pool.
                let mut reverted = false;
                for &s in schools {
                    for &q in &quotas_of[s as usize] {
                        let q = q as usize;
                        if pass.admitted[q] < pass.cap[q] {
                            pass.cap[s as usize] += pass.cap[q] - pass.admitted[q];
                            pass.cap[q] = pass.admitted[q];
                            reverted = true;
                        }
                    }
                }
                if !reverted {
                    break;
                }
                for (c, &p) in placed.iter().enumerate() {
                    if !p {
                        pass.pool[c] = NONE;
                    }
                }
            }
            passes.push(n);
            for ci in 0..inst.candidates.len() {
                if !placed[ci] && pass.pool[ci] != NONE {
                    let pool = pass.pool[ci];
                    let school = if (pool as usize) < self.n_schools {
                        pool
                    } else {
                        inst.quotas[pool as usize - self.n_schools].school
                    };
                    placements[ci] = Some(Placement {
                        school,
                        pool,
                        batch: b,
                        choice: pass.choice[ci],
                    });
                }
            }
            for (c, p) in placements.iter().enumerate() {
                if p.is_some() {
                    placed[c] = true;
                }
            }
        }
        let mut pools: Vec<PoolResult> = (0..n_pools)
            .map(|p| {
                let (school, kind) = if p < self.n_schools {
                    (p as u32, PoolKind::General)
                } else {
                    let q = &inst.quotas[p - self.n_schools];
                    (q.school, PoolKind::Quota(q.junior))
                };
                PoolResult {
                    school,
                    kind,
                    planned: planned[p],
                    capacity: pass.cap[p],
                    admitted: 0,
                    min_total: None,
                    last_admitted: None,
                }
            })
            .collect();
        for (c, p) in placements.iter().enumerate() {
            let Some(p) = p else { continue };
            let r = &mut pools[p.pool as usize];
            r.admitted += 1;
            let c = c as u32;
            let total = inst.candidates[c as usize].total;
            r.min_total = Some(r.min_total.map_or(total, |m| m.min(total)));
            r.last_admitted = Some(match r.last_admitted {
                Some(l)
                    if priority_cmp(inst, &self.policy.final_tie, p.school, c, l)
                        != Ordering::Greater =>
                {
                    l
                }
                _ => c,
            });
        }
        Outcome {
            placements,
            pools,
            passes,
        }
    }

    /// The pools of school `s` a candidate may use, in precedence order.
    #[inline]
    fn pools_for(&self, s: u32, c: CandidateIdx) -> [u32; 2] {
        let cand = &self.inst.candidates[c as usize];
        let q = self.quota_index.get(s, cand.junior);
        let q = if q != NONE && cand.total >= self.inst.quotas[q as usize].min_total {
            q + self.n_schools as u32
        } else {
            NONE
        };
        match self.policy.precedence {
            Precedence::GeneralFirst => [s, q],
            Precedence::QuotaFirst => [q, s],
        }
    }

    /// 平行志愿 serial dictatorship: candidates in priority order each take the first choice with
    /// an open pool. Under 同分同录 (`TIES`) a group of fully tied candidates sees the pools as they
    /// were before the group, so all of them get a pool that had a seat left for the first of them.
    fn serial_dictatorship<const TIES: bool>(
        &self,
        b: u32,
        line: Option<Score>,
        placed: &[bool],
        pass: &mut Pass,
    ) {
        let mut stamp = if TIES {
            vec![NONE; pass.cap.len()]
        } else {
            Vec::new()
        };
        let mut frozen = if TIES {
            vec![0u32; pass.cap.len()]
        } else {
            Vec::new()
        };
        let quotas = &self.inst.quotas;
        let n_schools = self.n_schools as u32;
        let general_first = self.policy.precedence == Precedence::GeneralFirst;
        let mut group = 0u32;
        for (pos, &c) in self.order.iter().enumerate() {
            if TIES && self.group_start[pos] {
                group += 1;
            }
            let total = self.seq_total[pos];
            if placed[c as usize] || line.is_some_and(|l| total < l) {
                continue;
            }
            let junior = self.seq_junior[pos];
            let (from, to) = (self.seq_off[pos] as usize, self.seq_off[pos + 1] as usize);
            'choices: for (k, &s) in self.seq_school[from..to].iter().enumerate() {
                if self.batch_of[s as usize] != b {
                    continue;
                }
                // The quota pool is looked up only when it is needed.
                let quota = || {
                    let q = self.quota_index.get(s, junior);
                    if q != NONE && total >= quotas[q as usize].min_total {
                        q + n_schools
                    } else {
                        NONE
                    }
                };
                for step in 0..2 {
                    // General first: the general pool, then the quota pool; quota first: the
                    // other way round.
                    let p = if (step == 0) == general_first {
                        s
                    } else {
                        quota()
                    };
                    if p == NONE {
                        continue;
                    }
                    let pi = p as usize;
                    let open = if TIES {
                        if stamp[pi] != group {
                            stamp[pi] = group;
                            frozen[pi] = pass.admitted[pi];
                        }
                        frozen[pi] < pass.cap[pi]
                    } else {
                        pass.admitted[pi] < pass.cap[pi]
                    };
                    if open {
                        pass.admitted[pi] += 1;
                        pass.pool[c as usize] = p;
                        pass.choice[c as usize] = k as u32 + 1;
                        break 'choices;
                    }
                }
            }
        }
    }

    /// Student-proposing deferred acceptance with one heap per pool (worst holder on top).
    /// A school's choice among its applicants: general-first = the general pool takes the best,
    /// each quota pool the best eligible of the rest; quota-first = quota pools first, the general
    /// pool the best of the rest. Each proposal displaces at most one holder.
    fn deferred_acceptance(
        &self,
        b: u32,
        takes_part: &dyn Fn(CandidateIdx) -> bool,
        pass: &mut Pass,
    ) {
        let inst = self.inst;
        let (seed, per_school) = match self.policy.final_tie {
            FinalTie::Lottery { seed, per_school } => (seed, per_school),
            FinalTie::AdmitAll => (0, false),
        };
        let school_salt: Vec<Option<&str>> = inst
            .schools
            .iter()
            .map(|s| per_school.then_some(s.code.as_str()))
            .collect();
        let prio = |c: CandidateIdx, s: SchoolIdx| -> (u32, u64, u32) {
            let id = &inst.candidates[c as usize].id;
            (
                self.base_rank[c as usize],
                lottery(seed, id, school_salt[s as usize]),
                c,
            )
        };
        let mut heaps: HashMap<u32, BinaryHeap<(u32, u64, u32)>> = HashMap::new();
        let mut next = vec![0u32; inst.candidates.len()];
        let mut free: Vec<CandidateIdx> = self
            .order
            .iter()
            .rev()
            .copied()
            .filter(|&c| takes_part(c))
            .collect();
        // Insert into one pool: Ok(displaced) or Err(()) when refused.
        let insert = |heaps: &mut HashMap<u32, BinaryHeap<(u32, u64, u32)>>,
                      pool: u32,
                      key: (u32, u64, u32)|
         -> Result<Option<u32>, ()> {
            if pool == NONE {
                return Err(());
            }
            let cap = pass.cap[pool as usize] as usize;
            let h = heaps.entry(pool).or_default();
            if h.len() < cap {
                h.push(key);
                Ok(None)
            } else if cap > 0 && h.peek().is_some_and(|w| key < *w) {
                let w = h.pop().map(|w| w.2);
                h.push(key);
                Ok(w)
            } else {
                Err(())
            }
        };
        while let Some(c) = free.pop() {
            let cand = &inst.candidates[c as usize];
            let mut displaced = None;
            while (next[c as usize] as usize) < cand.choices.len() {
                let s = cand.choices[next[c as usize] as usize];
                next[c as usize] += 1;
                if self.batch_of[s as usize] != b {
                    continue;
                }
                let [first, second] = self.pools_for(s, c);
                let key = prio(c, s);
                match insert(&mut heaps, first, key) {
                    Ok(d) => {
                        // The displaced holder of the first pool tries the second pool.
                        displaced = match d {
                            Some(w) => {
                                let second_w = self.pools_for(s, w)[1];
                                match insert(&mut heaps, second_w, prio(w, s)) {
                                    Ok(d2) => d2,
                                    Err(()) => Some(w),
                                }
                            }
                            None => None,
                        };
                    }
                    Err(()) => match insert(&mut heaps, second, key) {
                        Ok(d) => displaced = d,
                        Err(()) => continue,
                    },
                }
                break;
            }
            if let Some(w) = displaced {
                free.push(w);
            }
        }
        for &c in &self.order {
            if takes_part(c) {
                pass.pool[c as usize] = NONE;
            }
        }
        for (&pool, h) in &heaps {
            pass.admitted[pool as usize] = h.len() as u32;
            for &(_, _, c) in h.iter() {
                pass.pool[c as usize] = pool;
                pass.choice[c as usize] = next[c as usize];
            }
        }
    }
}

/// Priority order of all candidates (best first), their dense rank by scores, and where each
/// group of fully tied candidates starts.
fn rank(inst: &Instance, tie: &FinalTie) -> (Vec<CandidateIdx>, Vec<u32>, Vec<bool>) {
    let n = inst.candidates.len();
    let (seed, lottery_on) = match *tie {
        FinalTie::Lottery { seed, .. } => (seed, true),
        FinalTie::AdmitAll => (0, false),
    };
    // Total and the first three tie-breaks packed in one word, descending by complement; only
    // a fourth tie-break and beyond are read from the candidates while sorting.
    let mut keys: Vec<(u128, u64, u32)> = inst
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let tb = |k: usize| u128::from(c.tie_breaks.get(k).map_or(0, |s| s.0));
            let packed = (u128::from(c.total.0) << 96) | (tb(0) << 64) | (tb(1) << 32) | tb(2);
            let lot = if lottery_on {
                lottery(seed, &c.id, None)
            } else {
                0
            };
            (!packed, lot, i as u32)
        })
        .collect();
    let long_chain = inst.candidates.iter().any(|c| c.tie_breaks.len() > 3);
    let rest = |a: u32, b: u32| -> Ordering {
        if !long_chain {
            return Ordering::Equal;
        }
        let (ca, cb) = (&inst.candidates[a as usize], &inst.candidates[b as usize]);
        cb.tie_breaks.get(3..).cmp(&ca.tie_breaks.get(3..))
    };
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| rest(a.2, b.2))
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut base_rank = vec![0u32; n];
    let mut group_start = vec![false; n];
    let mut r = 0u32;
    for (pos, k) in keys.iter().enumerate() {
        if pos > 0 {
            let prev = &keys[pos - 1];
            let same_scores = prev.0 == k.0 && rest(prev.2, k.2) == Ordering::Equal;
            if !same_scores {
                r += 1;
            }
            group_start[pos] = !same_scores || lottery_on;
        } else {
            group_start[pos] = true;
        }
        base_rank[k.2 as usize] = r;
    }
    (
        keys.into_iter().map(|k| k.2).collect(),
        base_rank,
        group_start,
    )
}
