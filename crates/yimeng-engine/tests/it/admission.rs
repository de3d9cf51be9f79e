//! 平行志愿 admission: property tests on random small instances (capacities, eligibility, no
//! blocking pair, determinism, serial dictatorship = deferred acceptance, no gain from
//! misreporting) and a synthetic city-sized smoke run.

use proptest::prelude::*;
use std::cmp::Ordering;
use yimeng_engine::admission::{
    Algorithm, Batch, Candidate, FinalTie, Instance, Outcome, Policy, PoolKind, Precedence,
    QuotaPool, School, Score, admit, admit_with, priority_cmp, synth,
};

/// A random instance: 1–4 schools, 1–3 junior schools, up to 12 candidates with totals on a
/// small range (so ties are common), one tie-break score, lists of any length, quota pools on
/// some (school, junior school) pairs.
fn instance(max_candidates: usize, full_lists: bool) -> impl Strategy<Value = Instance> {
    (1usize..=4, 1usize..=3).prop_flat_map(move |(ns, nj)| {
        let schools = prop::collection::vec(0u32..=3, ns);
        let quotas =
            prop::collection::vec(prop::option::weighted(0.4, (0u32..=2, 0u32..=15)), ns * nj);
        let cand = (
            0..nj as u32,
            0u32..=20,
            0u32..=2,
            Just(()).prop_perturb(move |_, mut rng| {
                let mut v: Vec<u32> = (0..ns as u32).collect();
                for i in (1..v.len()).rev() {
                    v.swap(i, rng.random_range(0..=i));
                }
                let keep = if full_lists {
                    ns
                } else {
                    rng.random_range(0..=ns)
                };
                v.truncate(keep);
                v
            }),
        );
        let cands = prop::collection::vec(cand, 1..=max_candidates);
        (schools, quotas, cands).prop_map(move |(schools, quotas, cands)| Instance {
            schools: schools
                .iter()
                .enumerate()
                .map(|(i, &n)| School {
                    code: format!("S{i}"),
                    general_seats: n,
                })
                .collect(),
            juniors: (0..nj).map(|j| format!("J{j}")).collect(),
            quotas: quotas
                .iter()
                .enumerate()
                .filter_map(|(k, q)| {
                    q.map(|(seats, min)| QuotaPool {
                        school: (k / nj) as u32,
                        junior: (k % nj) as u32,
                        seats,
                        min_total: Score::points(min),
                    })
                })
                .collect(),
            candidates: cands
                .into_iter()
                .enumerate()
                .map(|(i, (junior, total, tb, choices))| Candidate {
                    id: format!("c{i}"),
                    junior,
                    total: Score::points(total),
                    tie_breaks: vec![Score::points(tb)].into(),
                    choices: choices.into(),
                })
                .collect(),
            tie_break_names: vec!["t1".into()],
        })
    })
}

fn final_tie(admit_all_allowed: bool) -> impl Strategy<Value = FinalTie> {
    let lottery = (any::<u64>(), any::<bool>())
        .prop_map(|(seed, per_school)| FinalTie::Lottery { seed, per_school });
    if admit_all_allowed {
        prop_oneof![3 => lottery, 1 => Just(FinalTie::AdmitAll)].boxed()
    } else {
        lottery.boxed()
    }
}

fn precedence() -> impl Strategy<Value = Precedence> {
    prop_oneof![Just(Precedence::GeneralFirst), Just(Precedence::QuotaFirst)]
}

/// Policy with, half the time, two batches splitting the schools and a control line on the first.
fn policy(inst: &Instance, tie: FinalTie, prec: Precedence, split: Option<(usize, u32)>) -> Policy {
    let codes: Vec<String> = inst.schools.iter().map(|s| s.code.clone()).collect();
    let batches = match split {
        Some((at, line)) if codes.len() > 1 => {
            let at = 1 + at % (codes.len() - 1);
            vec![
                Batch {
                    name: "第一批".into(),
                    control_line: Some(Score::points(line)),
                    schools: codes[..at].to_vec(),
                },
                Batch {
                    name: "第二批".into(),
                    control_line: None,
                    schools: codes[at..].to_vec(),
                },
            ]
        }
        _ => Vec::new(),
    };
    Policy {
        precedence: prec,
        final_tie: tie,
        batches,
        ..Policy::default()
    }
}

fn case(admit_all: bool) -> impl Strategy<Value = (Instance, Policy)> {
    (
        instance(12, false),
        final_tie(admit_all),
        precedence(),
        prop::option::of((0usize..4, 0u32..=20)),
    )
        .prop_map(|(inst, tie, prec, split)| {
            let p = policy(&inst, tie, prec, split);
            (inst, p)
        })
}

fn batch_of(p: &Policy, inst: &Instance, s: u32) -> Option<(usize, Option<Score>)> {
    if p.batches.is_empty() {
        return Some((0, None));
    }
    let code = &inst.schools[s as usize].code;
    p.batches
        .iter()
        .enumerate()
        .find(|(_, b)| b.schools.contains(code))
        .map(|(i, b)| (i, b.control_line))
}

/// The pools of school `s` that candidate `c` may use.
fn eligible_pools(inst: &Instance, c: usize, s: u32) -> Vec<usize> {
    let cand = &inst.candidates[c];
    let mut v = vec![s as usize];
    for (k, q) in inst.quotas.iter().enumerate() {
        if q.school == s && q.junior == cand.junior && cand.total >= q.min_total {
            v.push(inst.schools.len() + k);
        }
    }
    v
}

fn check(inst: &Instance, p: &Policy, o: &Outcome) -> Result<(), TestCaseError> {
    let ns = inst.schools.len();
    prop_assert_eq!(o.placements.len(), inst.candidates.len());
    // Holders per pool.
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); o.pools.len()];
    for (c, pl) in o.placements.iter().enumerate() {
        if let Some(pl) = pl {
            holders[pl.pool as usize].push(c);
        }
    }
    // Capacities hold; seats move only from a quota pool to its school's general pool.
    for (k, pool) in o.pools.iter().enumerate() {
        prop_assert_eq!(pool.admitted as usize, holders[k].len());
        if pool.admitted > pool.capacity {
            prop_assert_eq!(
                p.final_tie,
                FinalTie::AdmitAll,
                "over capacity without 同分同录"
            );
            // Only candidates tied with the last admitted go beyond capacity.
            let last = pool.last_admitted.unwrap();
            let strictly_better = holders[k]
                .iter()
                .filter(|&&h| {
                    priority_cmp(inst, &p.final_tie, pool.school, h as u32, last) == Ordering::Less
                })
                .count();
            prop_assert!(strictly_better < pool.capacity as usize);
        }
        if let PoolKind::Quota(_) = pool.kind {
            prop_assert!(pool.capacity <= pool.planned);
        } else {
            prop_assert!(pool.capacity >= pool.planned);
        }
    }
    for s in 0..ns {
        let (mut planned, mut cap) = (0, 0);
        for pool in o.pools.iter().filter(|x| x.school as usize == s) {
            planned += pool.planned;
            cap += pool.capacity;
        }
        prop_assert_eq!(planned, cap, "school {} keeps its seats", s);
    }
    for (c, pl) in o.placements.iter().enumerate() {
        let cand = &inst.candidates[c];
        // Every placement is eligible.
        if let Some(pl) = pl {
            prop_assert_eq!(cand.choices[pl.choice as usize - 1], pl.school);
            let (b, line) = batch_of(p, inst, pl.school).expect("school in a batch");
            prop_assert_eq!(b, pl.batch as usize);
            prop_assert!(line.is_none_or(|l| cand.total >= l));
            prop_assert!(eligible_pools(inst, c, pl.school).contains(&(pl.pool as usize)));
        }
        // No blocking pair: every school preferred to the placement, in a batch the candidate
        // took part in, has every eligible pool full of candidates ranked at least as high.
        let upto = pl.map_or(cand.choices.len(), |pl| pl.choice as usize - 1);
        for &s in &cand.choices[..upto] {
            let Some((b, line)) = batch_of(p, inst, s) else {
                continue;
            };
            if pl.is_some_and(|pl| b > pl.batch as usize) || line.is_some_and(|l| cand.total < l) {
                continue;
            }
            for k in eligible_pools(inst, c, s) {
                let pool = &o.pools[k];
                prop_assert!(
                    pool.admitted >= pool.capacity,
                    "candidate {} prefers school {} whose pool {} has a free seat",
                    c,
                    s,
                    k
                );
                for &h in &holders[k] {
                    prop_assert!(
                        priority_cmp(inst, &p.final_tie, s, h as u32, c as u32)
                            != Ordering::Greater,
                        "candidate {} blocks with school {}: pool {} holds lower-ranked {}",
                        c,
                        s,
                        k,
                        h
                    );
                }
            }
        }
    }
    prop_assert!(o.pools[..ns].iter().all(|x| x.kind == PoolKind::General));
    Ok(())
}

/// Outcome per candidate id: (school code, pool kind).
fn by_id(inst: &Instance, o: &Outcome) -> Vec<(String, Option<(String, &'static str)>)> {
    let mut v: Vec<_> = inst
        .candidates
        .iter()
        .zip(&o.placements)
        .map(|(c, p)| {
            (
                c.id.clone(),
                p.map(|p| {
                    (
                        inst.schools[p.school as usize].code.clone(),
                        o.pools[p.pool as usize].kind.as_str(),
                    )
                }),
            )
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_outcome_keeps_capacities_places_only_eligible_candidates_and_has_no_blocking_pair(
        (inst, p) in case(true)
    ) {
        let o = admit(&inst, &p).unwrap();
        check(&inst, &p, &o)?;
    }

    #[test]
    fn deferred_acceptance_outcomes_are_stable_too((inst, p) in case(false)) {
        let o = admit_with(&inst, &p, Algorithm::DeferredAcceptance).unwrap();
        check(&inst, &p, &o)?;
    }

    #[test]
    fn the_same_input_in_any_row_order_gives_the_same_seats(
        (inst, p) in case(true),
        rot in 0usize..12,
    ) {
        let a = admit(&inst, &p).unwrap();
        prop_assert_eq!(&a, &admit(&inst, &p).unwrap());
        let mut shuffled = inst.clone();
        let n = shuffled.candidates.len();
        shuffled.candidates.rotate_left(rot % n);
        shuffled.candidates.reverse();
        let b = admit(&shuffled, &p).unwrap();
        prop_assert_eq!(by_id(&inst, &a), by_id(&shuffled, &b));
    }

    #[test]
    fn with_one_order_for_every_pool_deferred_acceptance_equals_serial_dictatorship(
        (inst, mut p) in case(false),
        seed in any::<u64>(),
    ) {
        p.final_tie = FinalTie::Lottery { seed, per_school: false };
        let sd = admit_with(&inst, &p, Algorithm::Auto).unwrap();
        let da = admit_with(&inst, &p, Algorithm::DeferredAcceptance).unwrap();
        prop_assert_eq!(sd, da);
    }
}

/// Every ordered list of distinct schools drawn from `n` (the empty list included).
fn all_lists(n: u32) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new()];
    let mut frontier = vec![Vec::new()];
    for _ in 0..n {
        let mut next = Vec::new();
        for l in &frontier {
            for s in 0..n {
                if !l.contains(&s) {
                    let mut m: Vec<u32> = l.clone();
                    m.push(s);
                    next.push(m);
                }
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    /// Deferred acceptance with fixed pools is strategy-proof. When empty quota seats revert and
    /// the batch is matched again it is not (see the hand-made case below), so comparisons where
    /// either run needed a second pass are left out.
    #[test]
    fn a_candidate_never_gains_by_misreporting_when_lists_are_unlimited(
        inst in instance(7, true),
        tie in final_tie(false),
        prec in precedence(),
    ) {
        let p = policy(&inst, tie, prec, None);
        let truth = admit(&inst, &p).unwrap();
        let lists = all_lists(inst.schools.len() as u32);
        // Rank of an outcome under candidate c's true list (lower is better; unplaced last).
        let rank = |c: usize, o: &Outcome| -> usize {
            o.placements[c].map_or(usize::MAX, |pl| {
                inst.candidates[c].choices.iter().position(|&s| s == pl.school).unwrap()
            })
        };
        for c in 0..inst.candidates.len() {
            let honest = rank(c, &truth);
            for l in &lists {
                let mut lie = inst.clone();
                lie.candidates[c].choices = l.clone().into();
                let o = admit(&lie, &p).unwrap();
                if truth.passes != [1] || o.passes != [1] {
                    continue;
                }
                prop_assert!(
                    rank(c, &o) >= honest,
                    "candidate {} gains by reporting {:?} instead of {:?}",
                    c,
                    l,
                    inst.candidates[c].choices
                );
            }
        }
    }
}

#[test]
fn a_synthetic_city_is_matched_stably() {
    let inst = synth::generate(&synth::SynthParams {
        candidates: 20_000,
        schools: 60,
        juniors: 200,
        ..synth::SynthParams::default()
    });
    for prec in [Precedence::GeneralFirst, Precedence::QuotaFirst] {
        let p = Policy {
            precedence: prec,
            ..Policy::default()
        };
        let o = admit(&inst, &p).unwrap();
        let placed = o.placements.iter().filter(|x| x.is_some()).count();
        assert!(placed > 10_000, "{placed}");
        // Same as deferred acceptance on this common-priority instance.
        assert_eq!(
            o,
            admit_with(&inst, &p, Algorithm::DeferredAcceptance).unwrap()
        );
    }
}

/// Known limit of reverting empty quota seats by matching again (flagged for the 招生 rules'
/// owner): a candidate who would fill a quota seat as a second choice can leave that school out,
/// so the seat reverts to general, a higher-ranked candidate moves into it, and a seat at the
/// candidate's first choice opens.
#[test]
fn leaving_out_a_quota_seat_that_then_reverts_can_win_a_better_school() {
    let cand = |id: &str, junior: u32, total: u32, choices: &[u32]| Candidate {
        id: id.into(),
        junior,
        total: Score::points(total),
        tie_breaks: Vec::new().into(),
        choices: choices.into(),
    };
    let inst = Instance {
        schools: vec![
            School {
                code: "S0".into(),
                general_seats: 0,
            },
            School {
                code: "S1".into(),
                general_seats: 1,
            },
        ],
        juniors: vec!["J0".into(), "J1".into()],
        quotas: vec![QuotaPool {
            school: 0,
            junior: 0,
            seats: 1,
            min_total: Score(0),
        }],
        candidates: vec![cand("high", 1, 700, &[0, 1]), cand("low", 0, 600, &[1, 0])],
        tie_break_names: Vec::new(),
    };
    let p = Policy::default();
    let truth = admit(&inst, &p).unwrap();
    // Truthful: "high" (J1) cannot use S0's quota seat and takes S1; "low" takes the quota seat.
    assert_eq!(truth.placements[0].map(|x| x.school), Some(1));
    assert_eq!(truth.placements[1].map(|x| x.school), Some(0));
    let mut lie = inst.clone();
    lie.candidates[1].choices = vec![1].into();
    let o = admit(&lie, &p).unwrap();
    // Leaving S0 out: its quota seat reverts, "high" moves there and "low" gets S1.
    assert_eq!(o.placements[0].map(|x| x.school), Some(0));
    assert_eq!(o.placements[1].map(|x| x.school), Some(1));
    assert_eq!(o.passes, vec![2]);
}
