//! 合成考生数据 (synthetic instances) for benchmarks and tests: a city-sized 中考 with senior
//! schools of varied quality and size, junior schools in 12 counties, totals roughly normal on
//! 0–750 (half points), two tie-break scores correlated with the total, choice lists biased to
//! the better schools around each candidate's level, and quota pools on about 30% of the schools
//! (the best ones), split among the junior schools of the school's county by graduates.
//! Deterministic for a seed.

use super::rng::SplitMix;
use super::{Candidate, Instance, QuotaPool, School, Score, quota};

/// Size of a synthetic instance.
#[derive(Clone, Copy, Debug)]
pub struct SynthParams {
    /// Candidates.
    pub candidates: u32,
    /// Senior schools.
    pub schools: u32,
    /// Junior schools.
    pub juniors: u32,
    /// Choices per candidate.
    pub choices: u32,
    /// Seed.
    pub seed: u64,
    /// Share of schools with quota pools, in percent.
    pub quota_school_pct: u32,
    /// Total seats as a share of candidates, in percent.
    pub seat_pct: u32,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            candidates: 1_000_000,
            schools: 600,
            juniors: 2_000,
            choices: 12,
            seed: 2020,
            quota_school_pct: 30,
            seat_pct: 60,
        }
    }
}

const COUNTIES: u32 = 12;

fn normal(r: &mut SplitMix) -> f64 {
    // Box–Muller; one value is enough here.
    let u1 = r.unit().max(1e-12);
    let u2 = r.unit();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn half_points(v: f64, max: f64) -> Score {
    Score(((v.clamp(0.0, max) * 2.0).round() * 50.0) as u32)
}

/// Generates an instance (quota pools included, general seats already net of them).
pub fn generate(p: &SynthParams) -> Instance {
    let mut r = SplitMix(p.seed);
    let m = p.schools.max(1);
    // School quality rank = index (0 best). Size varies 0.5×–1.5× around the mean.
    let total_seats = u64::from(p.candidates) * u64::from(p.seat_pct) / 100;
    let weights: Vec<f64> = (0..m).map(|_| 0.5 + r.unit()).collect();
    let wsum: f64 = weights.iter().sum();
    let mut schools: Vec<School> = (0..m)
        .map(|i| School {
            code: format!("H{:04}", i + 1),
            general_seats: (total_seats as f64 * weights[i as usize] / wsum).round() as u32,
        })
        .collect();
    let juniors: Vec<String> = (0..p.juniors.max(1))
        .map(|j| format!("J{:04}", j + 1))
        .collect();
    // Junior school sizes vary; quality of the junior school shifts its candidates' scores.
    let jw: Vec<f64> = juniors.iter().map(|_| 0.3 + r.unit() * 1.4).collect();
    let jshift: Vec<f64> = juniors.iter().map(|_| normal(&mut r) * 25.0).collect();
    let mut jcum = Vec::with_capacity(jw.len());
    let mut acc = 0.0;
    for w in &jw {
        acc += w;
        jcum.push(acc);
    }
    let mut candidates = Vec::with_capacity(p.candidates as usize);
    let k = p.choices.min(m) as usize;
    let mut picked: Vec<u32> = Vec::with_capacity(k);
    for i in 0..p.candidates {
        let x = r.unit() * acc;
        let j = jcum.partition_point(|&c| c < x).min(juniors.len() - 1) as u32;
        let total = half_points(470.0 + jshift[j as usize] + normal(&mut r) * 105.0, 750.0);
        let t = f64::from(total.0) / 100.0;
        let t1 = half_points(t * 0.48 + normal(&mut r) * 12.0, 360.0);
        let t2 = half_points(t * 0.16 + normal(&mut r) * 6.0, 120.0);
        // Percentile-ish level → a target quality rank; aim a little above it.
        let level = ((750.0 - t) / 750.0 * 1.6).clamp(0.0, 1.0);
        let target = level * f64::from(m) - f64::from(m) * 0.08;
        picked.clear();
        let mut tries = 0;
        while picked.len() < k && tries < 50 * k {
            tries += 1;
            let spread = f64::from(m) * 0.12;
            let s = (target + normal(&mut r) * spread)
                .round()
                .clamp(0.0, f64::from(m - 1)) as u32;
            if !picked.contains(&s) {
                picked.push(s);
            }
        }
        // Better schools first, with an occasional swap (not everyone orders strictly).
        picked.sort_unstable();
        for a in 1..picked.len() {
            if r.below(6) == 0 {
                picked.swap(a - 1, a);
            }
        }
        candidates.push(Candidate {
            id: format!("26{:08}", i + 1),
            junior: j,
            total,
            tie_breaks: vec![t1, t2].into(),
            choices: picked.as_slice().into(),
        });
    }
    // Quota pools: the best `quota_school_pct`% of schools give half their plan to the junior
    // schools of their county (junior j and school s are in county index mod 12).
    let mut graduates = vec![0u64; juniors.len()];
    for c in &candidates {
        graduates[c.junior as usize] += 1;
    }
    let n_quota = m * p.quota_school_pct / 100;
    let mut quotas = Vec::new();
    for s in 0..n_quota {
        let county = s % COUNTIES;
        let groups: Vec<(&str, u64)> = (0..juniors.len() as u32)
            .filter(|j| j % COUNTIES == county)
            .map(|j| (juniors[j as usize].as_str(), graduates[j as usize]))
            .collect();
        let plan = schools[s as usize].general_seats;
        let q = plan / 2;
        let split = quota::largest_remainder(q, &groups);
        for (g, &seats) in groups.iter().zip(&split) {
            if seats > 0 {
                let j: u32 = g.0[1..].parse::<u32>().unwrap_or(1) - 1;
                quotas.push(QuotaPool {
                    school: s,
                    junior: j,
                    seats,
                    // Quota line: 580 at the best school down to 540.
                    min_total: Score::points(580 - (s * 40 / n_quota.max(1))),
                });
            }
        }
        schools[s as usize].general_seats = plan - q;
    }
    Instance {
        schools,
        juniors,
        quotas,
        candidates,
        tie_break_names: vec!["chinese_math_english".into(), "math".into()],
    }
}
