//! 年终考评 (the year-end appraisal of counties): a weighted score over county-level indicators,
//! defined in the plan file (“抓好月调度、半年述职、年终考评”, plan item 3), traceable to each
//! indicator's value, target and points.
//!
//! Score = Σ weight × attainment, out of the sum of weights (100). Attainment is in [0, 1]:
//! - **at_least** (higher is better), target t, zero point z (default 0):
//!   1 when v ≥ t, else clamp((v − z) ÷ (t − z), 0, 1) — with z = 0 this is min(1, v ÷ t).
//! - **at_most** (lower is better), target t, zero point z (the value at which nothing is earned):
//!   1 when v ≤ t, else clamp((z − v) ÷ (z − t), 0, 1). Default z: 2t when t > 0; when t = 0 and no
//!   z is configured, any value above 0 earns 0 (a “清零” target is all or nothing).
//! - **equal** (closer is better), target t, tolerance d, zero distance z (default |t|, or 1 when t
//!   = 0): 1 when |v − t| ≤ d, else clamp(1 − (|v − t| − d) ÷ z, 0, 1).
//! - **missing value**: 0, and the part is flagged `missing` so the page can say why.
//!
//! Ranking: by total, highest first; totals equal to 6 decimals share a rank (1, 2, 2, 4) and are
//! listed by county key, so the order never depends on input order.

use super::Comparator;
use serde::Serialize;
use std::collections::HashMap;

/// 考评方案: the weights, each with its resolved target.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Appraisal {
    /// One per indicator; the weights sum to 100.
    pub weights: Vec<AppraisalWeight>,
}

/// One weighted indicator of the appraisal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppraisalWeight {
    /// Indicator code (an indicator with the county level).
    pub indicator: String,
    /// 权重 (points available), > 0.
    pub weight: f64,
    /// The county's target: the weight's own `target`, or else the plan's target for the indicator.
    pub target: f64,
    /// From the indicator's direction.
    pub comparator: Comparator,
    /// For `equal`: the accepted deviation.
    pub tolerance: f64,
    /// Where attainment reaches 0 (see the module doc); `None` for the default.
    pub zero_at: Option<f64>,
}

/// One indicator's contribution to a county's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorePart {
    /// Indicator code.
    pub indicator: String,
    /// Points available.
    pub weight: f64,
    /// Target used.
    pub target: f64,
    /// The county's value, if any.
    pub value: Option<f64>,
    /// In [0, 1].
    pub attainment: f64,
    /// weight × attainment.
    pub points: f64,
    /// True when the value was missing (the part scored 0 for that reason).
    pub missing: bool,
}

/// A county's appraisal score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountyScore {
    /// Σ points.
    pub total: f64,
    /// Σ weights (100).
    pub max: f64,
    /// One per weight, in the plan's order.
    pub parts: Vec<ScorePart>,
}

impl CountyScore {
    /// The indicators that had no value.
    pub fn missing(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .filter(|p| p.missing)
            .map(|p| p.indicator.as_str())
    }
}

/// Attainment of `value` against one weight, in [0, 1] (formula in the module doc).
pub fn attainment(w: &AppraisalWeight, value: f64) -> f64 {
    let t = w.target;
    let a = match w.comparator {
        Comparator::AtLeast => {
            if value >= t - super::EPSILON {
                1.0
            } else {
                let z = w.zero_at.unwrap_or(0.0);
                if t - z <= super::EPSILON {
                    0.0
                } else {
                    (value - z) / (t - z)
                }
            }
        }
        Comparator::AtMost => {
            if value <= t + super::EPSILON {
                1.0
            } else {
                let z = w.zero_at.or((t > 0.0).then_some(2.0 * t)).unwrap_or(t);
                if z - t <= super::EPSILON {
                    0.0
                } else {
                    (z - value) / (z - t)
                }
            }
        }
        Comparator::Equal => {
            let off = (value - t).abs() - w.tolerance;
            if off <= super::EPSILON {
                1.0
            } else {
                let z = w.zero_at.unwrap_or(if t.abs() > super::EPSILON {
                    t.abs()
                } else {
                    1.0
                });
                1.0 - off / z
            }
        }
    };
    if a.is_finite() {
        a.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A county's score from its indicator values (keyed by indicator code; a missing key or `None`
/// scores 0 and is flagged).
pub fn score_county(
    weights: &[AppraisalWeight],
    values: &HashMap<String, Option<f64>>,
) -> CountyScore {
    let parts: Vec<ScorePart> = weights
        .iter()
        .map(|w| {
            let value = values
                .get(&w.indicator)
                .copied()
                .flatten()
                .filter(|v| v.is_finite());
            let a = value.map_or(0.0, |v| attainment(w, v));
            ScorePart {
                indicator: w.indicator.clone(),
                weight: w.weight,
                target: w.target,
                value,
                attainment: a,
                points: w.weight * a,
                missing: value.is_none(),
            }
        })
        .collect();
    CountyScore {
        total: parts.iter().map(|p| p.points).sum(),
        max: weights.iter().map(|w| w.weight).sum(),
        parts,
    }
}

impl Appraisal {
    /// [`score_county`] with this appraisal's weights.
    pub fn score_county(&self, values: &HashMap<String, Option<f64>>) -> CountyScore {
        score_county(&self.weights, values)
    }
}

/// A county's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedCounty<K> {
    /// 1-based; equal totals share a rank (competition ranking: 1, 2, 2, 4).
    pub rank: usize,
    /// The county (a region code, a name …).
    pub county: K,
    /// Its total.
    pub total: f64,
}

/// Ranks counties by total, highest first; ties share a rank and are listed by `K`'s order.
pub fn rank_counties<K: Ord + Clone>(scores: &[(K, CountyScore)]) -> Vec<RankedCounty<K>> {
    // Totals are compared at 6 decimals so that float noise never splits a tie.
    let key = |t: f64| (t * 1e6).round() as i64;
    let mut order: Vec<(&K, f64)> = scores.iter().map(|(k, s)| (k, s.total)).collect();
    order.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then_with(|| a.0.cmp(b.0)));
    let mut out: Vec<RankedCounty<K>> = Vec::with_capacity(order.len());
    for (i, (k, total)) in order.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if key(prev.total) == key(total) => prev.rank,
            _ => i + 1,
        };
        out.push(RankedCounty {
            rank,
            county: k.clone(),
            total,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(ind: &str, weight: f64, target: f64, cmp: Comparator) -> AppraisalWeight {
        AppraisalWeight {
            indicator: ind.into(),
            weight,
            target,
            comparator: cmp,
            tolerance: 0.0,
            zero_at: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn higher_better_attainment_is_value_over_target_capped_at_one() {
        let x = w("gross", 10.0, 90.0, Comparator::AtLeast);
        assert!(close(attainment(&x, 45.0), 0.5));
        assert!(close(attainment(&x, 95.0), 1.0));
        assert!(close(attainment(&x, -5.0), 0.0));
        let x = AppraisalWeight {
            zero_at: Some(80.0),
            ..x
        };
        assert!(close(attainment(&x, 85.0), 0.5));
        assert!(close(attainment(&x, 70.0), 0.0));
    }

    #[test]
    fn lower_better_with_target_zero_is_all_or_nothing_unless_a_zero_point_is_set() {
        let x = w("big_share", 15.0, 0.0, Comparator::AtMost);
        assert!(close(attainment(&x, 0.0), 1.0));
        assert!(close(attainment(&x, 0.1), 0.0));
        let x = AppraisalWeight {
            zero_at: Some(5.0),
            ..x
        };
        assert!(close(attainment(&x, 1.0), 0.8));
        assert!(close(attainment(&x, 6.0), 0.0));
        // A positive target without a zero point: nothing at twice the target.
        let y = w("x", 1.0, 10.0, Comparator::AtMost);
        assert!(close(attainment(&y, 15.0), 0.5));
    }

    #[test]
    fn equal_targets_score_full_inside_the_tolerance_and_fall_linearly_outside() {
        let x = AppraisalWeight {
            tolerance: 0.2,
            zero_at: Some(0.5),
            ..w("vg_ratio", 5.0, 1.0, Comparator::Equal)
        };
        assert!(close(attainment(&x, 1.15), 1.0));
        assert!(close(attainment(&x, 0.8), 1.0));
        assert!(close(attainment(&x, 0.55), 0.5));
        assert!(close(attainment(&x, 1.9), 0.0));
    }

    #[test]
    fn a_county_score_is_the_weighted_sum_and_missing_values_score_zero_and_are_flagged() {
        let weights = vec![
            w("gross", 60.0, 90.0, Comparator::AtLeast),
            AppraisalWeight {
                zero_at: Some(5.0),
                ..w("big_share", 40.0, 0.0, Comparator::AtMost)
            },
        ];
        let values: HashMap<String, Option<f64>> =
            [("gross".to_string(), Some(81.0))].into_iter().collect();
        let s = score_county(&weights, &values);
        assert!(close(s.total, 54.0));
        assert!(close(s.max, 100.0));
        assert_eq!(s.parts[0].points, 54.0);
        assert!(close(s.parts[0].attainment, 0.9));
        assert!(s.parts[1].missing && s.parts[1].points == 0.0);
        assert_eq!(s.missing().collect::<Vec<_>>(), vec!["big_share"]);
    }

    #[test]
    fn ranking_is_by_total_and_ties_share_a_rank_in_key_order() {
        let score = |t: f64| CountyScore {
            total: t,
            max: 100.0,
            parts: vec![],
        };
        let scores = vec![
            (371325, score(80.0)),
            (371302, score(92.5)),
            (371312, score(80.0 + 1e-12)),
            (371321, score(70.0)),
        ];
        let r = rank_counties(&scores);
        let got: Vec<(usize, i32)> = r.iter().map(|x| (x.rank, x.county)).collect();
        assert_eq!(
            got,
            vec![(1, 371302), (2, 371312), (2, 371325), (4, 371321)]
        );
        let mut reversed = scores.clone();
        reversed.reverse();
        assert_eq!(rank_counties(&reversed), r);
    }
}
