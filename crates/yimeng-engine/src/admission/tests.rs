//! Hand-made admission cases: precedence, ties, control lines and batches, quota reversion and
//! split, explanations, and the exchange files' validation.

use super::exchange::{self, InputIssue, Source, Sources};
use super::*;
use crate::EngineError;

struct Case {
    inst: Instance,
    policy: Policy,
}

fn case(candidates: &str, schools: &str, quotas: Option<&str>, policy: &str) -> Case {
    let src = Sources {
        candidates: Source {
            name: "candidates.csv",
            bytes: candidates.as_bytes(),
        },
        schools: Source {
            name: "schools.csv",
            bytes: schools.as_bytes(),
        },
        quotas: quotas.map(|q| Source {
            name: "quotas.csv",
            bytes: q.as_bytes(),
        }),
        policy: Some(Source {
            name: "policy.toml",
            bytes: policy.as_bytes(),
        }),
    };
    let (inst, policy) = exchange::load(&src).unwrap_or_else(|e| panic!("{e}"));
    Case { inst, policy }
}

fn issues(candidates: &[u8], schools: &str, quotas: Option<&str>, policy: &str) -> Vec<InputIssue> {
    let src = Sources {
        candidates: Source {
            name: "candidates.csv",
            bytes: candidates,
        },
        schools: Source {
            name: "schools.csv",
            bytes: schools.as_bytes(),
        },
        quotas: quotas.map(|q| Source {
            name: "quotas.csv",
            bytes: q.as_bytes(),
        }),
        policy: Some(Source {
            name: "policy.toml",
            bytes: policy.as_bytes(),
        }),
    };
    match exchange::load(&src) {
        Err(EngineError::AdmissionInput(v)) => v,
        other => panic!("expected input errors, got {other:?}"),
    }
}

impl Case {
    fn run(&self) -> Outcome {
        admit(&self.inst, &self.policy).unwrap()
    }

    /// `id → "school/pool"` or `"-"`.
    fn placed(&self, o: &Outcome) -> Vec<(String, String)> {
        self.inst
            .candidates
            .iter()
            .zip(&o.placements)
            .map(|(c, p)| {
                let v = match p {
                    Some(p) => format!(
                        "{}/{}",
                        self.inst.schools[p.school as usize].code,
                        o.pools[p.pool as usize].kind.as_str()
                    ),
                    None => "-".into(),
                };
                (c.id.clone(), v)
            })
            .collect()
    }

    fn of(&self, o: &Outcome, id: &str) -> String {
        self.placed(o).into_iter().find(|(c, _)| c == id).unwrap().1
    }

    fn why(&self, o: &Outcome, id: &str) -> Explanation {
        let c = self
            .inst
            .candidates
            .iter()
            .position(|c| c.id == id)
            .unwrap();
        explain(&self.inst, &self.policy, o, c as u32)
    }
}

const PRECEDENCE_CANDIDATES: &str = "candidate_id,junior_school,total,choice_1,choice_2
x,J1,700,A,
y,J2,690,A,B
z,J1,680,A,
";
const PRECEDENCE_SCHOOLS: &str = "school_code,seats\nA,1\nB,1\n";
const PRECEDENCE_QUOTAS: &str = "school_code,junior_school,seats,min_total\nA,J1,1,600\n";

#[test]
fn general_first_gives_the_general_seat_to_the_best_and_the_quota_seat_to_the_next_eligible() {
    let c = case(
        PRECEDENCE_CANDIDATES,
        PRECEDENCE_SCHOOLS,
        Some(PRECEDENCE_QUOTAS),
        "",
    );
    let o = c.run();
    assert_eq!(c.of(&o, "x"), "A/general");
    assert_eq!(c.of(&o, "y"), "B/general");
    assert_eq!(c.of(&o, "z"), "A/quota");
}

#[test]
fn quota_first_spends_the_quota_seat_on_the_best_eligible_and_changes_who_gets_in() {
    let c = case(
        PRECEDENCE_CANDIDATES,
        PRECEDENCE_SCHOOLS,
        Some(PRECEDENCE_QUOTAS),
        "precedence = \"quota_first\"",
    );
    let o = c.run();
    assert_eq!(c.of(&o, "x"), "A/quota");
    assert_eq!(c.of(&o, "y"), "A/general");
    assert_eq!(c.of(&o, "z"), "-");
    let why = c.why(&o, "z");
    assert_eq!(why.choices.len(), 1);
    assert!(
        why.choices[0]
            .reasons
            .iter()
            .all(|r| matches!(r, Reason::PoolFull { .. })),
        "{why}"
    );
    assert!(
        why.to_string().contains("本初中的指标名额 1 人已录满"),
        "{why}"
    );
}

#[test]
fn both_algorithms_agree_under_either_precedence() {
    for p in ["", "precedence = \"quota_first\""] {
        let c = case(
            PRECEDENCE_CANDIDATES,
            PRECEDENCE_SCHOOLS,
            Some(PRECEDENCE_QUOTAS),
            p,
        );
        let da = admit_with(&c.inst, &c.policy, Algorithm::DeferredAcceptance).unwrap();
        assert_eq!(c.run(), da);
    }
}

const TIED: &str = "candidate_id,junior_school,total,math,choice_1,choice_2
a,J1,600,100,A,B
b,J1,600,100,A,B
c,J1,600,90,A,B
d,J1,612.5,80,A,B
";

#[test]
fn a_long_tie_break_chain_is_compared_to_its_last_column() {
    let c = case(
        "candidate_id,junior_school,total,a,b,c,d,e,choice_1
x,J1,600,1,2,3,4,5,A
y,J1,600,1,2,3,4,6,A
",
        "school_code,seats\nA,1\n",
        None,
        "",
    );
    let o = c.run();
    assert_eq!(c.of(&o, "y"), "A/general");
    assert_eq!(c.of(&o, "x"), "-");
}

#[test]
fn a_tie_break_score_decides_before_the_final_policy() {
    let c = case(TIED, "school_code,seats\nA,2\nB,2\n", None, "");
    let o = c.run();
    // d has the best total; then a and b (math 100) before c (math 90).
    assert_eq!(c.of(&o, "d"), "A/general");
    assert_eq!(c.of(&o, "c"), "B/general");
    let (a, b) = (c.of(&o, "a"), c.of(&o, "b"));
    assert!(
        (a == "A/general") ^ (b == "A/general"),
        "one of the tied pair wins the lottery: {a} {b}"
    );
    let loser = if a == "A/general" { "b" } else { "a" };
    let why = c.why(&o, loser).to_string();
    assert!(why.contains("同分"), "{why}");
}

#[test]
fn the_lottery_is_fixed_by_its_seed_and_changes_with_it() {
    let winners: Vec<String> = (0..16u64)
        .map(|seed| {
            let c = case(
                TIED,
                "school_code,seats\nA,2\nB,2\n",
                None,
                &format!("[tie_break]\nseed = {seed}"),
            );
            let o = c.run();
            assert_eq!(o, c.run(), "same seed, same result");
            c.of(&o, "a")
        })
        .collect();
    assert!(winners.iter().any(|w| w == "A/general"));
    assert!(winners.iter().any(|w| w != "A/general"));
}

#[test]
fn admit_all_takes_every_fully_tied_candidate_beyond_capacity() {
    let c = case(
        TIED,
        "school_code,seats\nA,2\nB,1\n",
        None,
        "[tie_break]\nfinal = \"admit_all\"",
    );
    let o = c.run();
    assert_eq!(c.of(&o, "d"), "A/general");
    assert_eq!(c.of(&o, "a"), "A/general");
    assert_eq!(c.of(&o, "b"), "A/general");
    assert_eq!(o.pools[0].admitted, 3, "capacity 2, one tied extra");
    // c is not tied with a and b (math 90): B.
    assert_eq!(c.of(&o, "c"), "B/general");
}

const BATCHES: &str = "candidate_id,junior_school,total,choice_1,choice_2,choice_3
p,J1,700,A,B,C
r,J1,660,A,B,
q,J1,640,A,B,
s,J1,600,B,A,
t,J2,720,C,A,
";

#[test]
fn batches_run_in_order_with_their_control_lines_and_placed_candidates_leave() {
    let c = case(
        BATCHES,
        "school_code,seats\nA,1\nB,2\nC,5\n",
        None,
        r#"
        [[batch]]
        name = "第一批"
        control_line = 650
        schools = ["A"]
        [[batch]]
        name = "第二批"
        schools = ["B", "C"]
        "#,
    );
    let o = c.run();
    assert_eq!(
        c.of(&o, "t"),
        "A/general",
        "first batch first, whatever the choice order"
    );
    assert_eq!(c.of(&o, "p"), "B/general", "A is full in the first batch");
    assert_eq!(c.of(&o, "r"), "B/general");
    assert_eq!(c.of(&o, "q"), "-");
    assert_eq!(c.of(&o, "s"), "-");
    let why = c.why(&o, "q").to_string();
    assert!(why.contains("低于“第一批”最低录取控制线 650"), "{why}");
    let why = c.why(&o, "t").to_string();
    assert!(
        why.contains("属于“第二批”，考生已在“第一批”被录取"),
        "{why}"
    );
}

#[test]
fn empty_quota_seats_revert_to_the_general_pool_of_the_same_school() {
    let c = case(
        "candidate_id,junior_school,total,choice_1
a,J2,700,A
b,J2,690,A
c,J1,600,A
d,J2,500,A
",
        "school_code,seats\nA,1\n",
        Some("school_code,junior_school,seats,min_total\nA,J1,3,650\n"),
        "",
    );
    let o = c.run();
    // c is below the quota line; all three quota seats revert: 4 general seats.
    for id in ["a", "b", "c", "d"] {
        assert_eq!(c.of(&o, id), "A/general", "{id}");
    }
    assert_eq!(o.pools[0].capacity, 4);
    assert_eq!(o.pools[1].capacity, 0);
    assert!(o.passes[0] >= 2);
}

#[test]
fn a_quota_share_is_split_by_graduates_with_the_largest_remainder() {
    let c = case(
        "candidate_id,junior_school,total,choice_1
a1,J1,700,A
a2,J1,700,A
a3,J1,700,A
b1,J2,700,A
b2,J2,700,A
c1,J3,700,A
",
        "school_code,seats\nA,10\n",
        None,
        "[quota_share]\nshare = 0.5\nschools = [\"A\"]\nmin_total = 600",
    );
    // Q = 5: 2.5, 1.67, 0.83 → 2, 1, 0 and two more by remainder: J3 (.83) then J2 (.67).
    assert_eq!(c.inst.schools[0].general_seats, 5);
    let split: Vec<(String, u32)> = c
        .inst
        .quotas
        .iter()
        .map(|q| (c.inst.juniors[q.junior as usize].clone(), q.seats))
        .collect();
    assert_eq!(
        split,
        vec![("J1".into(), 2), ("J2".into(), 2), ("J3".into(), 1)]
    );
}

#[test]
fn explanations_name_the_other_junior_schools_quota_and_a_quota_line() {
    let c = case(
        "candidate_id,junior_school,total,choice_1,choice_2
a,J1,700,A,B
b,J2,650,A,B
c,J1,590,A,B
d,J3,620,A,
e,J1,610,A,
",
        "school_code,seats\nA,1\nB,5\n",
        Some("school_code,junior_school,seats,min_total\nA,J1,1,600\nA,J3,1,600\n"),
        "",
    );
    let o = c.run();
    let b = c.why(&o, "b").to_string();
    assert!(b.contains("统招计划 1 人已录满，最后录取者总分 700"), "{b}");
    assert!(b.contains("分配给其他初中"), "{b}");
    let cc = c.why(&o, "c").to_string();
    assert!(cc.contains("低于该校指标生最低控制线 600"), "{cc}");
}

#[test]
fn decimal_scores_compare_exactly() {
    let c = case(
        "candidate_id,junior_school,total,choice_1
a,J1,612.25,A
b,J1,612.5,A
",
        "school_code,seats\nA,1\n",
        None,
        "",
    );
    let o = c.run();
    assert_eq!(c.of(&o, "b"), "A/general");
    let mut out = Vec::new();
    exchange::write_cutoffs(&c.inst, &o, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "school_code,pool,junior_school,admitted,min_total\nA,general,,1,612.5\n"
    );
}

#[test]
fn outputs_list_every_candidate_in_input_order_and_every_pool() {
    let c = case(
        PRECEDENCE_CANDIDATES,
        PRECEDENCE_SCHOOLS,
        Some(PRECEDENCE_QUOTAS),
        "precedence = \"quota_first\"",
    );
    let o = c.run();
    let mut a = Vec::new();
    exchange::write_admissions(&c.inst, &o, &mut a).unwrap();
    assert_eq!(
        String::from_utf8(a).unwrap(),
        "candidate_id,school_code,pool\nx,A,quota\ny,A,general\nz,,\n"
    );
    let mut k = Vec::new();
    exchange::write_cutoffs(&c.inst, &o, &mut k).unwrap();
    assert_eq!(
        String::from_utf8(k).unwrap(),
        "school_code,pool,junior_school,admitted,min_total\n\
         A,general,,1,690\nA,quota,J1,1,700\nB,general,,0,\n"
    );
}

#[test]
fn bad_input_is_refused_with_every_problem_named_by_file_row_and_column() {
    let list = issues(
        "candidate_id,junior_school,total,math,choice_1,choice_2,choice_3
a,J1,700,90,A,,
a,J1,abc,90,A,B,
b,J1,-5,90,X,,
c,J1,1200,90,A,A,
d,J1,600,90,,A,
"
        .as_bytes(),
        "school_code,seats\nA,1\nB,-1\nA,2\nC,1.5\n",
        Some("school_code,junior_school,seats,min_total\nA,J9,1,600\nZ,J1,1,600\n"),
        "",
    );
    let text: Vec<String> = list.iter().map(ToString::to_string).collect();
    let has = |s: &str| assert!(text.iter().any(|t| t.contains(s)), "{s} not in {text:#?}");
    has("schools.csv 第 3 行【seats】“-1”：计划数不能为负");
    has("schools.csv 第 4 行【school_code】“A”：学校重复（与第 2 行相同）");
    has("schools.csv 第 5 行【seats】“1.5”：计划数应为非负整数");
    has("candidates.csv 第 3 行【candidate_id】“a”：考生号重复（与第 2 行相同）");
    has("candidates.csv 第 3 行【total】“abc”：不是数字");
    has("candidates.csv 第 4 行【total】“-5”：分数不能为负");
    has("candidates.csv 第 4 行【choice_1】“X”：学校代码不在学校名单");
    has("candidates.csv 第 5 行【total】“1200”：超出满分 1000");
    has("candidates.csv 第 5 行【choice_2】“A”：与第 1 志愿重复");
    has("candidates.csv 第 6 行【choice_2】“A”：志愿不能跳空");
    has("quotas.csv 第 2 行【junior_school】“J9”：该初中学校没有考生");
    has("quotas.csv 第 3 行【school_code】“Z”：学校代码不在学校名单");
}

#[test]
fn headers_and_empty_files_are_checked() {
    let list = issues(b"", "school_code,seats,extra\nA,1,2\n", None, "");
    let text: Vec<String> = list.iter().map(ToString::to_string).collect();
    assert!(
        text.contains(&"candidates.csv：文件为空，没有表头".to_string()),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("schools.csv 第 1 行【第 3 列】“extra”：多余的列")),
        "{text:?}"
    );
    let list = issues(
        b"candidate_id,total,choice_1\n",
        "school_code,seats\nA,1\n",
        None,
        "",
    );
    assert!(list.iter().any(|i| i.row == Some(1)), "{list:?}");
}

#[test]
fn a_policy_naming_unknown_schools_is_refused() {
    let list = issues(
        b"candidate_id,junior_school,total,choice_1\na,J1,600,A\n",
        "school_code,seats\nA,1\n",
        None,
        "[[batch]]\nname = \"第一批\"\nschools = [\"A\", \"Q\"]\n",
    );
    assert_eq!(list.len(), 1);
    assert!(list[0].to_string().contains("“Q”"), "{:?}", list[0]);
}

#[test]
fn gbk_files_and_a_bom_are_read() {
    let text = "考生号,初中学校,总分,志愿1\n张三,临沂一中,600,A\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let c = {
        let src = Sources {
            candidates: Source {
                name: "c.csv",
                bytes: &gbk,
            },
            schools: Source {
                name: "s.csv",
                bytes: "\u{feff}school_code,seats\nA,1\n".as_bytes(),
            },
            quotas: None,
            policy: None,
        };
        exchange::load(&src).unwrap().0
    };
    assert_eq!(c.candidates[0].id, "张三");
    assert_eq!(c.juniors[0], "临沂一中");
    assert_eq!(c.schools[0].code, "A");
}

#[test]
fn scores_parse_to_exact_hundredths() {
    assert_eq!(Score::parse("612.5"), Ok(Score(61250)));
    assert_eq!(Score::parse("612.25"), Ok(Score(61225)));
    assert_eq!(Score::parse("0"), Ok(Score(0)));
    assert!(Score::parse("1.234").is_err());
    assert!(Score::parse("1e3").is_err());
    assert_eq!(Score(61250).to_string(), "612.5");
    assert_eq!(Score(61205).to_string(), "612.05");
}
