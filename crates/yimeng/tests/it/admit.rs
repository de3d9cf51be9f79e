//! `yimeng admit`: a tiny instance end to end, and a bad input refused row by row with no output.

use std::path::Path;
use std::process::{Command, Output};

fn admit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yimeng"))
        .arg("admit")
        .args(args)
        .env_remove("YIMENG_DATABASE_URL")
        .env_remove("YIMENG_CONFIG")
        .current_dir(dir)
        .output()
        .expect("run yimeng admit")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn admit_writes_admissions_and_cutoffs_and_explains_a_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("candidates.csv"),
        "\u{feff}candidate_id,junior_school,total,math,choice_1,choice_2\n\
         x,J1,700,90,A,\ny,J2,690,80,A,B\nz,J1,680.5,70,A,\nw,J2,600,60,B,A\n",
    )
    .unwrap();
    std::fs::write(d.join("schools.csv"), "school_code,seats\nA,1\nB,1\n").unwrap();
    std::fs::write(
        d.join("quotas.csv"),
        "school_code,junior_school,seats,min_total\nA,J1,1,600\n",
    )
    .unwrap();
    std::fs::write(d.join("policy.toml"), "precedence = \"general_first\"\n").unwrap();
    let o = admit(
        d,
        &[
            "--candidates",
            "candidates.csv",
            "--schools",
            "schools.csv",
            "--quotas",
            "quotas.csv",
            "--policy",
            "policy.toml",
            "--out",
            "out",
            "--explain",
            "w",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/admissions.csv")).unwrap(),
        "candidate_id,school_code,pool\nx,A,general\ny,B,general\nz,A,quota\nw,,\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out/cutoffs.csv")).unwrap(),
        "school_code,pool,junior_school,admitted,min_total\n\
         A,general,,1,700\nA,quota,J1,1,680.5\nB,general,,1,690\n"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("考生 w（总分 600）：未被录取"), "{out}");
    assert!(out.contains("第 1 志愿 B"), "{out}");
    assert!(
        out.contains("统招计划 1 人已录满，最后录取者总分 690"),
        "{out}"
    );
    assert!(out.contains("分配给其他初中"), "{out}");
}

#[test]
fn admit_refuses_bad_input_with_row_precise_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("candidates.csv"),
        "candidate_id,junior_school,total,choice_1,choice_2\n\
         a,J1,700,A,\na,J1,7o0,A,Q\nb,J1,650,A,A\n",
    )
    .unwrap();
    std::fs::write(d.join("schools.csv"), "school_code,seats\nA,-2\n").unwrap();
    let o = admit(
        d,
        &[
            "--candidates",
            "candidates.csv",
            "--schools",
            "schools.csv",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "schools.csv 第 2 行【seats】“-2”：计划数不能为负",
        "candidates.csv 第 3 行【candidate_id】“a”：考生号重复（与第 2 行相同）",
        "candidates.csv 第 3 行【total】“7o0”：不是数字",
        "candidates.csv 第 3 行【choice_2】“Q”：学校代码不在学校名单",
        "candidates.csv 第 4 行【choice_2】“A”：与第 1 志愿重复",
        "未写入任何结果",
    ] {
        assert!(err.contains(want), "{want} not in\n{err}");
    }
    assert!(!d.join("out").exists(), "nothing is written on bad input");
}
