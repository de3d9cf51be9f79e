//! The `yimeng` command as an operator runs it: exit codes, what it prints, the files it writes,
//! and `serve` starting, answering and stopping cleanly on SIGTERM.

mod admit;
mod rollover;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn yimeng(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yimeng"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("YIMENG_DATABASE_URL")
        .env_remove("YIMENG_CONFIG")
        .current_dir(db.parent().unwrap())
        .output()
        .expect("run yimeng")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn templates_are_written_and_unknown_tables_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let xlsx = dir.path().join("学生模板.xlsx");
    let o = yimeng(&db, &["template", "students", "-o", xlsx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    let o = yimeng(&db, &["template", "pupils", "-o", xlsx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("未知的表“pupils”"), "{}", out(&o));
}

#[test]
fn the_demo_city_loads_counts_and_exports_and_a_bad_file_fails_with_its_rows_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let o = yimeng(&db, &["demo", "--scale", "0.002", "--seed", "5"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = yimeng(&db, &["stats", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let counties: std::collections::BTreeSet<i64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["county"].as_i64().unwrap())
        .collect();
    assert_eq!(counties.len(), 15, "every county and zone appears");

    // Export 兰山区's students, then import the file back: nothing changes.
    let csv = dir.path().join("students.csv");
    let o = yimeng(
        &db,
        &[
            "export",
            "students",
            "-o",
            csv.to_str().unwrap(),
            "--county",
            "兰山区",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = yimeng(
        &db,
        &[
            "import",
            "students",
            csv.to_str().unwrap(),
            "--county",
            "兰山区",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("新增 0") && out(&o).contains("更新 0"),
        "{}",
        out(&o)
    );

    // One bad row: exit code 1, the row, column and reason on stderr, an error sheet on request,
    // nothing written.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cells[4] = String::new(); // 姓名
    lines[2] = cells.join(",");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let errors = dir.path().join("errors.xlsx");
    let o = yimeng(
        &db,
        &[
            "import",
            "students",
            bad.to_str().unwrap(),
            "--errors",
            errors.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("第 3 行【姓名】"), "{stderr}");
    assert!(errors.exists());
    // An unreadable file: exit code 2.
    let junk = dir.path().join("junk.xlsx");
    std::fs::write(&junk, b"not a workbook").unwrap();
    let o = yimeng(&db, &["import", "students", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("未写入任何数据"));
}

#[test]
fn accounts_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    assert!(yimeng(&db, &["demo", "--scale", "0.002"]).status.success());
    let o = yimeng(
        &db,
        &[
            "user",
            "add",
            "wang_ke",
            "--role",
            "county",
            "--name",
            "王科长",
            "--county",
            "兰山区",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("初始密码："));
    let o = yimeng(
        &db,
        &[
            "user",
            "add",
            "wang_ke",
            "--role",
            "county",
            "--name",
            "王科长",
            "--county",
            "兰山区",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("已被使用"));
    let o = yimeng(
        &db,
        &["user", "add", "li_dd", "--role", "督学", "--name", "李督学"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("须指定县区"), "{}", out(&o));
    let o = yimeng(
        &db,
        &["user", "reset-password", "wang_ke", "--password", "short"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        yimeng(&db, &["user", "disable", "wang_ke"])
            .status
            .success()
    );
    let o = yimeng(&db, &["user", "list"]);
    let line = out(&o)
        .lines()
        .find(|l| l.starts_with("wang_ke"))
        .map(str::to_string)
        .unwrap();
    assert!(line.contains("停用") && line.contains("兰山区"), "{line}");
    let o = yimeng(&db, &["user", "disable", "nobody"]);
    assert!(out(&o).contains("账户“nobody”不存在"));
}

#[test]
fn serve_creates_the_demo_city_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_yimeng"))
        .arg("--database")
        .arg(&db)
        .args(["serve", "--addr", "127.0.0.1:0", "--demo-scale", "0.002"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut printed = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve exited: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.trim().trim_end_matches('/').to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(120));
    };
    // The demo accounts are listed.
    let mut more = String::new();
    let _ = stdout.read_line(&mut more);
    for _ in 0..6 {
        let _ = stdout.read_line(&mut more);
    }
    printed.push_str(&more);
    assert!(
        printed.contains("admin") && printed.contains("Linyi2020"),
        "{printed}"
    );
    // GET /healthz over a raw socket.
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.contains("\"status\":\"ok\""),
        "{resp}"
    );
    // SIGTERM: a clean exit.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_students_file_is_checked_against_the_class_limits_of_yimeng_toml() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.db");
    let o = yimeng(&demo, &["demo", "--scale", "0.002", "--seed", "5"]);
    assert!(o.status.success(), "{}", out(&o));
    let file = |t: &str| dir.path().join(format!("{t}.csv"));
    for t in ["schools", "staff", "classes", "students"] {
        let p = file(t);
        let o = yimeng(
            &demo,
            &["export", t, "-o", p.to_str().unwrap(), "--county", "兰山区"],
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    let fresh = dir.path().join("fresh.db");
    for t in ["schools", "staff", "classes"] {
        let o = yimeng(&fresh, &["import", t, file(t).to_str().unwrap()]);
        assert!(o.status.success(), "{}", out(&o));
    }
    // A bureau that caps every class at 20: the file is refused row by row, nothing written.
    std::fs::write(
        dir.path().join("yimeng.toml"),
        "[rules]\nstarting_class_max = 19\nclass_refuse_at = 20\n",
    )
    .unwrap();
    let students = file("students");
    let o = yimeng(&fresh, &["import", "students", students.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("达到 20 人及以上（大班额），不能编入"),
        "{}",
        out(&o)
    );
    let total = |db: &Path| -> i64 {
        let o = yimeng(db, &["stats", "--json"]);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        rows.as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r["counts"]["students"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|(_, n)| n.as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!(total(&fresh), 0);
    // The default limits (56): the demo city's own 大班额 are refused as new placements too.
    std::fs::remove_file(dir.path().join("yimeng.toml")).unwrap();
    let o = yimeng(&fresh, &["import", "students", students.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("达到 56 人及以上（大班额），不能编入"),
        "{}",
        out(&o)
    );
    assert_eq!(total(&fresh), 0);
    // Loading an existing registry as it is (the first load): every row, 大班额 included.
    let o = yimeng(
        &fresh,
        &["import", "students", students.to_str().unwrap(), "--as-is"],
    );
    assert!(o.status.success(), "{}", out(&o));
    let rows = std::fs::read_to_string(&students).unwrap().lines().count() as i64 - 1;
    assert_eq!(total(&fresh), rows);
}
