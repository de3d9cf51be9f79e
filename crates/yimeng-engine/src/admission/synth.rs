//! 合成考生数据 (synthetic instances) for benchmarks and tests: a city-sized 中考 laid out as
//! Linyi's is — senior schools of varied quality and size and junior schools in the city's 12
//! counties and districts (GB/T 2260 codes 371302…371329), 考生号 of 16 digits: 2-digit year,
//! 6-digit county code, 2-digit category (01 应届 fresh graduates, about 96%; 02 往届 earlier
//! graduates) and a 6-digit serial per county and category, so a county's numbers share a
//! 10-digit prefix; school codes are the county code and a serial. Totals on 0–750 in half points
//! with a longer low tail than high (skew-normal), shifted by junior school; two tie-break scores
//! correlated with the total; choice lists biased to the better schools just above each
//! candidate's level, three in four of them in the candidate's own county, and one list in four
//! shorter than the maximum; quota pools on about 30% of the schools (the best ones), split among
//! the junior schools of the school's county by graduates. Deterministic for a seed.

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
    /// Year of the exam (its last two digits start every 考生号).
    pub year: u32,
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
            year: 2026,
        }
    }
}

/// Linyi's counties and districts with their GB/T 2260 codes.
pub const LINYI_COUNTIES: [(&str, &str); 12] = [
    ("371302", "兰山区"),
    ("371311", "罗庄区"),
    ("371312", "河东区"),
    ("371321", "沂南县"),
    ("371322", "郯城县"),
    ("371323", "沂水县"),
    ("371324", "兰陵县"),
    ("371325", "费县"),
    ("371326", "平邑县"),
    ("371327", "莒南县"),
    ("371328", "蒙阴县"),
    ("371329", "临沭县"),
];

const COUNTIES: u32 = LINYI_COUNTIES.len() as u32;

fn county_code(i: u32) -> &'static str {
    LINYI_COUNTIES[(i % COUNTIES) as usize].0
}

/// Skew-normal draw (shape −2: the low tail is the longer one), standardised to mean 0, sd 1.
fn skewed(r: &mut SplitMix) -> f64 {
    const ALPHA: f64 = -2.0;
    let delta = ALPHA / (1.0 + ALPHA * ALPHA).sqrt();
    let z = delta * normal(r).abs() + (1.0 - delta * delta).sqrt() * normal(r);
    let mean = delta * (2.0 / std::f64::consts::PI).sqrt();
    let sd = (1.0 - 2.0 * delta * delta / std::f64::consts::PI).sqrt();
    (z - mean) / sd
}

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
    // School s is in county s mod 12; its code is the county code and a 3-digit serial.
    let mut schools: Vec<School> = (0..m)
        .map(|i| School {
            code: format!("{}{:03}", county_code(i), i / COUNTIES + 1),
            general_seats: (total_seats as f64 * weights[i as usize] / wsum).round() as u32,
        })
        .collect();
    let juniors: Vec<String> = (0..p.juniors.max(1))
        .map(|j| format!("{}{:04}", county_code(j), j / COUNTIES + 1))
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
    // Next serial per county and category.
    let mut serial = [[0u32; 2]; COUNTIES as usize];
    let yy = p.year % 100;
    for _ in 0..p.candidates {
        let x = r.unit() * acc;
        let j = jcum.partition_point(|&c| c < x).min(juniors.len() - 1) as u32;
        let county = j % COUNTIES;
        let category = usize::from(r.below(25) == 0);
        let n = &mut serial[county as usize][category];
        *n += 1;
        let id = format!("{yy:02}{}{:02}{:06}", county_code(county), category + 1, *n);
        let total = half_points(470.0 + jshift[j as usize] + skewed(&mut r) * 105.0, 750.0);
        let t = f64::from(total.0) / 100.0;
        let t1 = half_points(t * 0.48 + normal(&mut r) * 12.0, 360.0);
        let t2 = half_points(t * 0.16 + normal(&mut r) * 6.0, 120.0);
        // Percentile-ish level → a target quality rank; aim a little above it.
        let level = ((750.0 - t) / 750.0 * 1.6).clamp(0.0, 1.0);
        let target = level * f64::from(m) - f64::from(m) * 0.08;
        picked.clear();
        let mut tries = 0;
        // One list in four is shorter than the maximum.
        let len = if r.below(4) == 0 && k > 1 {
            (k / 4).max(1) + r.below((k - (k / 4).max(1)) as u64) as usize
        } else {
            k
        };
        while picked.len() < len && tries < 50 * k {
            tries += 1;
            let spread = f64::from(m) * 0.12;
            let mut s = (target + normal(&mut r) * spread)
                .round()
                .clamp(0.0, f64::from(m - 1)) as u32;
            // Three choices in four stay in the candidate's own county: the school of about the
            // same quality there.
            if m >= COUNTIES && s % COUNTIES != county && r.below(4) != 0 {
                s = s - s % COUNTIES + county;
                if s >= m {
                    s -= COUNTIES;
                }
            }
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
            id,
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
        let members: Vec<u32> = (0..juniors.len() as u32)
            .filter(|j| j % COUNTIES == county)
            .collect();
        let groups: Vec<(&str, u64)> = members
            .iter()
            .map(|&j| (juniors[j as usize].as_str(), graduates[j as usize]))
            .collect();
        let plan = schools[s as usize].general_seats;
        let q = plan / 2;
        let split = quota::largest_remainder(q, &groups);
        for (&j, &seats) in members.iter().zip(&split) {
            if seats > 0 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn candidate_numbers_and_codes_follow_the_linyi_layout() {
        let inst = generate(&SynthParams {
            candidates: 30_000,
            schools: 240,
            juniors: 200,
            ..SynthParams::default()
        });
        let counties: HashSet<&str> = LINYI_COUNTIES.iter().map(|c| c.0).collect();
        let mut seen = HashSet::new();
        let mut prefixes = HashSet::new();
        let mut own_county = 0usize;
        let mut choices = 0usize;
        for c in &inst.candidates {
            let id = c.id.as_str();
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
            assert_eq!(&id[..2], "26", "{id}");
            assert!(counties.contains(&id[2..8]), "{id}");
            assert!(matches!(&id[8..10], "01" | "02"), "{id}");
            assert_ne!(&id[10..], "000000", "{id}");
            // The candidate sits the exam in the county of their junior school.
            let junior = &inst.juniors[c.junior as usize];
            assert_eq!(&junior[..6], &id[2..8], "{id} {junior}");
            assert!(seen.insert(id), "duplicate {id}");
            prefixes.insert(&id[..10]);
            for &s in c.choices.iter() {
                choices += 1;
                own_county += usize::from(inst.schools[s as usize].code[..6] == id[2..8]);
            }
        }
        // Twelve counties × two categories: every number shares its 10-digit prefix with
        // thousands of others.
        assert_eq!(prefixes.len(), 24, "{prefixes:?}");
        for s in &inst.schools {
            assert_eq!(s.code.len(), 9, "{}", s.code);
            assert!(counties.contains(&s.code[..6]), "{}", s.code);
        }
        for j in &inst.juniors {
            assert_eq!(j.len(), 10, "{j}");
            assert!(counties.contains(&j[..6]), "{j}");
        }
        // Most choices stay in the candidate's county (1 in 12 would by chance).
        assert!(own_county * 2 > choices, "{own_county} of {choices}");
        // Some lists are shorter than the maximum, most are full.
        let short = inst
            .candidates
            .iter()
            .filter(|c| c.choices.len() < 12)
            .count();
        assert!(short > 3_000 && short < 15_000, "{short}");
        // Scores: the low tail is longer (mean below median).
        let mut totals: Vec<u32> = inst.candidates.iter().map(|c| c.total.0).collect();
        totals.sort_unstable();
        let mean = totals.iter().map(|&t| u64::from(t)).sum::<u64>() / totals.len() as u64;
        assert!(mean < u64::from(totals[totals.len() / 2]), "mean {mean}");
    }
}
