//! 招生录取规则 (admission policy): the year's local parameters (domain-rules §6), read from
//! `policy.toml`. See `docs/examples/admission-policy.toml` for a commented example.

use super::Score;
use serde::Deserialize;

/// 指标生与统招的先后 (precedence between quota and general seats at one school).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precedence {
    /// 先统招后指标 (default): a candidate takes a general seat when they rank high enough for
    /// one; quota seats go to those who do not.
    #[default]
    GeneralFirst,
    /// 先指标后统招: an eligible candidate takes a quota seat first; general seats go to the rest.
    QuotaFirst,
}

/// 同分最终处理 (final tie policy, after total and every tie-break score are equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalTie {
    /// 抽签 (lottery) from a published seed. `per_school = false` (default): one draw per candidate
    /// used by every school; `true`: each school draws its own order.
    Lottery {
        /// The published seed.
        seed: u64,
        /// One order per school instead of one for all.
        per_school: bool,
    },
    /// 同分同录 (admit all tied candidates, beyond capacity).
    AdmitAll,
}

impl Default for FinalTie {
    fn default() -> Self {
        FinalTie::Lottery {
            seed: 0,
            per_school: false,
        }
    }
}

/// 指标到校比例 (quota share): a share of named schools' plans split among junior schools in
/// proportion to their graduates (largest remainder, domain-rules §6.2). Used when no quota table
/// is given.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaShare {
    /// Share of each named school's plan, in basis points (0.5 → 5000).
    pub share_bp: u32,
    /// Schools whose plans are shared.
    pub schools: Vec<String>,
    /// Minimum total of every generated quota pool.
    pub min_total: Score,
    /// 毕业生数 per junior school; when empty, the number of candidates from each junior school.
    pub graduates: Vec<(String, u64)>,
}

/// 录取批次 (a batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Name (提前批, 第一批 …).
    pub name: String,
    /// 最低录取控制线 (control line); `None` = none.
    pub control_line: Option<Score>,
    /// School codes in this batch.
    pub schools: Vec<String>,
}

/// The whole policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Quota/general precedence.
    pub precedence: Precedence,
    /// Final tie policy.
    pub final_tie: FinalTie,
    /// 满分上限 (highest valid score, also for tie-break columns); default 1000.
    pub max_score: Score,
    /// Quota share (only without a quota table).
    pub quota_share: Option<QuotaShare>,
    /// Batches in order; empty = one batch with every school and no control line.
    pub batches: Vec<Batch>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            precedence: Precedence::GeneralFirst,
            final_tie: FinalTie::default(),
            max_score: Score::points(1000),
            quota_share: None,
            batches: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    precedence: Precedence,
    max_score: Option<f64>,
    #[serde(default)]
    tie_break: RawTie,
    quota_share: Option<RawShare>,
    #[serde(default, rename = "batch")]
    batches: Vec<RawBatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTie {
    #[serde(default = "lottery")]
    r#final: String,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    per_school: bool,
}

fn lottery() -> String {
    "lottery".into()
}

impl Default for RawTie {
    fn default() -> Self {
        RawTie {
            r#final: lottery(),
            seed: 0,
            per_school: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShare {
    share: f64,
    schools: Vec<String>,
    #[serde(default)]
    min_total: f64,
    #[serde(default)]
    graduates: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    name: String,
    control_line: Option<f64>,
    schools: Vec<String>,
}

fn score_of(what: &str, v: f64) -> Result<Score, String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{what} 不能为负"));
    }
    let h = (v * 100.0).round();
    if (h - v * 100.0).abs() > 1e-6 || h > f64::from(u32::MAX) {
        return Err(format!("{what} 最多保留两位小数"));
    }
    Ok(Score(h as u32))
}

impl Policy {
    /// Parses `policy.toml`. Error messages are in Chinese.
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| format!("无法解析：{e}"))?;
        let final_tie = match raw.tie_break.r#final.as_str() {
            "lottery" => FinalTie::Lottery {
                seed: raw.tie_break.seed,
                per_school: raw.tie_break.per_school,
            },
            "admit_all" => FinalTie::AdmitAll,
            other => {
                return Err(format!(
                    "tie_break.final 应为 lottery（抽签）或 admit_all（同分同录），而不是“{other}”"
                ));
            }
        };
        let max_score = match raw.max_score {
            Some(v) => score_of("max_score", v)?,
            None => Score::points(1000),
        };
        let quota_share = match raw.quota_share {
            None => None,
            Some(s) => {
                if !(s.share > 0.0 && s.share <= 1.0) {
                    return Err(format!(
                        "quota_share.share 应在 0 与 1 之间（不含 0），而不是 {}",
                        s.share
                    ));
                }
                let mut graduates = Vec::new();
                for (k, v) in &s.graduates {
                    match v.as_integer() {
                        Some(n) if n >= 0 => graduates.push((k.clone(), n as u64)),
                        _ => {
                            return Err(format!(
                                "quota_share.graduates 中“{k}”的毕业生数应为非负整数"
                            ));
                        }
                    }
                }
                Some(QuotaShare {
                    share_bp: (s.share * 10_000.0).round() as u32,
                    schools: s.schools,
                    min_total: score_of("quota_share.min_total", s.min_total)?,
                    graduates,
                })
            }
        };
        let mut batches = Vec::new();
        for b in raw.batches {
            batches.push(Batch {
                control_line: match b.control_line {
                    Some(v) => Some(score_of(&format!("批次“{}”的 control_line", b.name), v)?),
                    None => None,
                },
                name: b.name,
                schools: b.schools,
            });
        }
        Ok(Policy {
            precedence: raw.precedence,
            final_tie,
            max_score,
            quota_share,
            batches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_policy_is_general_first_with_a_lottery_and_one_batch() {
        let p = Policy::from_toml("").unwrap();
        assert_eq!(p, Policy::default());
    }

    #[test]
    fn every_setting_is_read() {
        let p = Policy::from_toml(
            r#"
            precedence = "quota_first"
            max_score = 750
            [tie_break]
            final = "admit_all"
            [quota_share]
            share = 0.5
            schools = ["A"]
            min_total = 600.5
            graduates = { J1 = 300, J2 = 100 }
            [[batch]]
            name = "提前批"
            control_line = 650
            schools = ["B"]
            [[batch]]
            name = "第一批"
            schools = ["A"]
            "#,
        )
        .unwrap();
        assert_eq!(p.precedence, Precedence::QuotaFirst);
        assert_eq!(p.final_tie, FinalTie::AdmitAll);
        assert_eq!(p.max_score, Score::points(750));
        let q = p.quota_share.unwrap();
        assert_eq!((q.share_bp, q.min_total), (5000, Score(60050)));
        assert_eq!(q.graduates.len(), 2);
        assert_eq!(p.batches[0].control_line, Some(Score::points(650)));
        assert_eq!(p.batches[1].control_line, None);
    }

    #[test]
    fn the_documented_example_policy_parses() {
        let p = Policy::from_toml(include_str!(
            "../../../../docs/examples/admission-policy.toml"
        ))
        .unwrap();
        assert_eq!(p.batches.len(), 3);
        assert_eq!(p.quota_share.unwrap().share_bp, 5000);
    }

    #[test]
    fn an_unknown_final_policy_is_refused_in_chinese() {
        let e = Policy::from_toml("[tie_break]\nfinal = \"coin\"").unwrap_err();
        assert!(e.contains("抽签"), "{e}");
    }
}
