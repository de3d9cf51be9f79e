use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use yimeng_domain::{RegionCode, Scope};
use yimeng_io::{FileFormat, Table};
use yimeng_store::db::{DEFAULT_SQLITE_PATH, DbOptions};
use yimeng_store::import::Mode;
use yimeng_store::{Actor, Db, SystemContext};
use yimeng_web::service::{self, import::ImportJob};

/// 沂蒙教育治理平台 — Yimeng education governance platform.
#[derive(Parser)]
#[command(name = "yimeng", version, about = "沂蒙教育治理平台（临沂市教育局）命令行", long_about = None)]
struct Cli {
    /// 数据库：PostgreSQL URL（postgres://…）或 SQLite 文件路径（默认 data/yimeng.db）
    #[arg(long, global = true, env = "YIMENG_DATABASE_URL")]
    database: Option<String>,
    /// 配置文件（默认读取当前目录的 yimeng.toml，若存在）
    #[arg(long, global = true, env = "YIMENG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动 Web 平台；数据库为空时先生成示范城市并创建示范账户
    Serve(ServeArgs),
    /// 应用数据库迁移（启动时也会自动应用）
    Migrate,
    /// 从 xlsx/xls/csv 文件导入：schools|classes|students|staff
    Import(ImportArgs),
    /// 导出为 xlsx 或 csv（与导入模板同格式）
    Export(ExportArgs),
    /// 生成导入模板（xlsx）
    Template {
        /// schools|classes|students|staff
        table: String,
        /// 输出文件（.xlsx）
        #[arg(short, long)]
        output: PathBuf,
    },
    /// 生成示范城市（合成的临沂市数据）并写入数据库
    Demo(DemoArgs),
    /// 账户管理：add|list|disable|enable|reset-password
    #[command(subcommand)]
    User(UserCommand),
    /// 按县区和学校类别统计学校、班级、学生（按学籍状态）和教职工
    Stats {
        /// 只统计一个县区（名称或代码）
        #[arg(long)]
        county: Option<String>,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 工作计划：load FILE（载入或更新年度工作计划）| show（显示当前计划）
    #[command(subcommand)]
    Plan(PlanCommand),
    /// 计算当前工作计划的全部指标（全市和各县区），显示数值、目标和达成情况
    Indicators {
        /// 只显示一个县区（名称或代码）
        #[arg(long)]
        county: Option<String>,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
        /// 同时生成一次指标快照
        #[arg(long)]
        snapshot: bool,
        /// 重复计算 N 次并报告每次用时（基准测试用）
        #[arg(long, default_value_t = 1)]
        repeat: u32,
    },
    /// 中考统一招生录取（平行志愿）：校验考生、学校、指标文件，按录取规则匹配，写出录取结果和各校分数线
    Admit(AdmitArgs),
    /// 生成合成的中考录取数据（基准测试用）
    #[command(hide = true)]
    AdmitGen(AdmitGenArgs),
    /// 备份数据库：SQLite 在服务器运行时也可在线备份到一个新文件（一致的副本）；PostgreSQL 请用 pg_dump
    Backup {
        /// 备份文件（不得已存在）
        file: PathBuf,
    },
    /// 从备份恢复 SQLite 数据库：先检查备份是沂蒙数据库，服务器运行时拒绝；原子替换
    Restore {
        /// 由 yimeng backup 生成的备份文件
        file: PathBuf,
    },
    /// 平台时钟：show（显示）| set 日期（工作要点进度按该日评估，示范城市用）| clear（恢复真实日期）
    Clock {
        /// show | set | clear
        action: String,
        /// set 的日期，如 2020-10-15
        date: Option<String>,
    },
    /// 学年升级：在籍学生升一个年级，各学段最高年级毕业，建立新学年的班级（一个事务；--dry-run 只统计）
    Rollover {
        /// 新学年的起始年份（如 2021 表示 2021-2022 学年）
        #[arg(long)]
        year: i32,
        /// 只按县区统计将发生的变化，不写入
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args)]
struct AdmitArgs {
    /// 考生文件 candidates.csv：candidate_id,junior_school,total,同分比较科目…,choice_1,…
    #[arg(long)]
    candidates: PathBuf,
    /// 学校文件 schools.csv：school_code,seats（统招计划）
    #[arg(long)]
    schools: PathBuf,
    /// 指标到校文件 quotas.csv：school_code,junior_school,seats,min_total（可选）
    #[arg(long)]
    quotas: Option<PathBuf>,
    /// 录取规则 policy.toml（可选；示例见 docs/examples/admission-policy.toml）
    #[arg(long)]
    policy: Option<PathBuf>,
    /// 输出目录：写入 admissions.csv 和 cutoffs.csv
    #[arg(long)]
    out: PathBuf,
    /// 打印该考生的录取说明（可重复）：高于录取志愿的各志愿为何未录取
    #[arg(long, value_name = "CANDIDATE_ID")]
    explain: Vec<String>,
}

#[derive(Args)]
struct AdmitGenArgs {
    /// 考生人数
    #[arg(long, default_value_t = 1_000_000)]
    candidates: u32,
    /// 高中学校数
    #[arg(long, default_value_t = 600)]
    schools: u32,
    /// 初中学校数
    #[arg(long, default_value_t = 2_000)]
    juniors: u32,
    /// 每名考生的志愿数
    #[arg(long, default_value_t = 12)]
    choices: u32,
    /// 有指标到校名额的学校比例（百分数）
    #[arg(long, default_value_t = 30)]
    quota_schools: u32,
    /// 随机种子
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// 输出目录：写入 candidates.csv、schools.csv、quotas.csv
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
enum PlanCommand {
    /// 载入工作计划文件（TOML；同一代码的计划再次载入时更新）
    Load {
        /// 计划文件，如 plans/linyi-2020.toml
        file: PathBuf,
    },
    /// 显示已载入的工作计划
    Show,
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新建账户（未给 --password 时生成初始密码，首次登录须修改）
    Add {
        /// 用户名（3–32 位字母、数字或 _ - .）
        username: String,
        /// 角色：city_admin|city_dept|county|school|inspector|public（或中文名称）
        #[arg(long)]
        role: String,
        /// 姓名或单位名称
        #[arg(long)]
        name: String,
        /// 县区（名称或代码；县区、督学账户必填）
        #[arg(long)]
        county: Option<String>,
        /// 学校标识码（学校账户必填）
        #[arg(long)]
        school: Option<String>,
        /// 初始密码（至少 8 位，含字母和数字）；不给则随机生成
        #[arg(long, env = "YIMENG_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// 列出全部账户
    List,
    /// 停用账户（立即结束其全部会话）
    Disable {
        /// 用户名
        username: String,
    },
    /// 重新启用账户
    Enable {
        /// 用户名
        username: String,
    },
    /// 重置密码（未给 --password 时生成新密码），并解除锁定；首次登录须修改
    ResetPassword {
        /// 用户名
        username: String,
        /// 新密码
        #[arg(long, env = "YIMENG_NEW_PASSWORD")]
        password: Option<String>,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080", env = "YIMENG_ADDR")]
    addr: String,
    /// 空库时生成示范城市的规模（1.0 为全市实际规模）
    #[arg(long, default_value_t = 1.0)]
    demo_scale: f64,
    /// 空库时不生成示范城市
    #[arg(long)]
    no_demo: bool,
    /// 以 JSON 输出日志
    #[arg(long)]
    log_json: bool,
}

#[derive(Args)]
struct ImportArgs {
    /// schools|classes|students|staff
    table: String,
    /// 文件（.xlsx、.xls 或 .csv；UTF-8 或 GBK）
    file: PathBuf,
    /// 部分导入：写入正确的行，报告有误的行（默认：有一行有误就全部不导入）
    #[arg(long)]
    partial: bool,
    /// 只校验，不写入
    #[arg(long)]
    dry_run: bool,
    /// 把错误清单写入文件（.xlsx 或 .csv）
    #[arg(long)]
    errors: Option<PathBuf>,
    /// 以县区教育局的范围导入（名称或代码）
    #[arg(long)]
    county: Option<String>,
    /// 以学校的范围导入（学校标识码）
    #[arg(long)]
    school: Option<String>,
    /// 按现状导入现有学籍库（首次建库）：不做班额闸门检查，现有大班额照实载入，由规划看板监测
    #[arg(long)]
    as_is: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// schools|classes|students|staff
    table: String,
    /// 只导出一个县区（名称或代码）
    #[arg(long)]
    county: Option<String>,
    /// 只导出一所学校（学校标识码）
    #[arg(long)]
    school: Option<String>,
    /// 输出文件（.xlsx 或 .csv）
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Args)]
struct DemoArgs {
    /// 规模：1.0 为全市实际规模（约 3000 所学校、170 万学生）；0.01 适合测试
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// 随机种子（同一种子生成同一城市）
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// 同时把数据写成导入文件，放在此目录
    #[arg(long)]
    files: Option<PathBuf>,
    /// 导入文件的格式（学生始终为 csv）
    #[arg(long, default_value = "csv")]
    format: String,
    /// 只写文件，不写入数据库
    #[arg(long)]
    no_load: bool,
}

/// `yimeng.toml`: local rules and web settings.
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    rules: yimeng_domain::Rules,
    web: WebSection,
    store: StoreSection,
}

/// `[store]`: how the database is opened.
#[derive(serde::Deserialize, Default, Clone, Copy)]
#[serde(default, deny_unknown_fields)]
struct StoreSection {
    /// SQLite commit durability: `"full"` (default) or `"normal"`.
    sqlite_synchronous: yimeng_store::db::SqliteSync,
}

/// The `[store]` section of the configuration, read once at start by [`run`] for every command
/// that opens the database.
static STORE_SECTION: std::sync::OnceLock<StoreSection> = std::sync::OnceLock::new();

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct WebSection {
    trust_proxy: bool,
    secure_cookies: bool,
    max_upload_mb: Option<usize>,
    /// Memory budget of all uploads being received at once, in MB (default 1024).
    upload_budget_mb: Option<usize>,
}

fn load_config(path: &Option<PathBuf>) -> Result<FileConfig> {
    let (path, required) = match path {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("yimeng.toml"), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("配置文件 {} 有误", path.display()))
        }
        Err(_) if !required => Ok(FileConfig::default()),
        Err(e) => Err(anyhow!("无法读取配置文件 {}：{e}", path.display())),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The admission commands need no database and no runtime.
    let cli = match cli.command {
        Command::Admit(a) => return admit(a),
        Command::AdmitGen(a) => return admit_gen(a),
        command => Cli { command, ..cli },
    };
    let json_logs = matches!(&cli.command, Command::Serve(a) if a.log_json);
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    init_logging(default_level, json_logs);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default_level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("YIMENG_LOG")
        .unwrap_or_else(|_| default_level.into());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

fn database_url(cli: &Option<String>) -> String {
    cli.clone()
        .unwrap_or_else(|| DEFAULT_SQLITE_PATH.to_string())
}

async fn open(cli: &Option<String>) -> Result<Db> {
    let url = database_url(cli);
    let opts = DbOptions {
        sqlite_cache_kib: 64 * 1024,
        sqlite_synchronous: STORE_SECTION
            .get()
            .copied()
            .unwrap_or_default()
            .sqlite_synchronous,
        ..DbOptions::default()
    };
    Db::open(&url, &opts)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&url)))
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn table(s: &str) -> Result<Table> {
    Table::parse(s).ok_or_else(|| anyhow!("未知的表“{s}”，可用：schools、classes、students、staff"))
}

/// The scope of an operator's command: the whole city, or the county or school named by
/// `--county` / `--school`, within the command's system context.
async fn scope_of(
    sys: &SystemContext,
    db: &Db,
    county: &Option<String>,
    school: &Option<String>,
) -> Result<Scope> {
    if let Some(code) = school {
        let code = yimeng_domain::SchoolCode::parse(code).map_err(|e| anyhow!("--school：{e}"))?;
        let s = yimeng_store::school::get_by_code(db, &sys.scope(), &code)
            .await
            .map_err(|_| anyhow!("学校标识码 {code} 不存在"))?;
        return Ok(sys.school_scope(&s));
    }
    if let Some(c) = county {
        let c = RegionCode::parse_linyi_county(c).map_err(|e| anyhow!("--county：{e}"))?;
        return Ok(sys.county_scope(c));
    }
    Ok(sys.scope())
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, 剩余 {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let _ = STORE_SECTION.set(load_config(&cli.config)?.store);
    match cli.command {
        Command::Serve(a) => serve(cli.database, cli.config, a).await,
        Command::Migrate => {
            let db = open(&cli.database).await?;
            for (v, d) in db.known_migrations() {
                println!("已应用迁移 {v:04} {d}");
            }
            println!(
                "数据库结构是最新的（{}）",
                redact(&database_url(&cli.database))
            );
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Template { table: t, output } => {
            let t = table(&t)?;
            if FileFormat::from_path(&output) != Some(FileFormat::Xlsx) {
                bail!("模板文件应以 .xlsx 结尾");
            }
            yimeng_io::write::write_template(t, &output)?;
            println!("已生成{}导入模板：{}", t.label(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(a) => import(cli.database, cli.config, a).await,
        Command::Export(a) => {
            let t = table(&a.table)?;
            let format = FileFormat::from_path(&a.output)
                .ok_or_else(|| anyhow!("输出文件应以 .xlsx 或 .csv 结尾"))?;
            let db = open(&cli.database).await?;
            let scope = scope_of(&SystemContext::new("export"), &db, &a.county, &a.school).await?;
            let started = Instant::now();
            let pb = bar(0, &format!("导出{}", t.label()));
            let p = pb.clone();
            let n = service::export::export_table(&db, &scope, t, &a.output, format, &move |n| {
                p.set_position(n)
            })
            .await?;
            pb.finish_and_clear();
            yimeng_store::audit::write_now(
                &db,
                &Actor::system(),
                yimeng_store::audit::Entry {
                    county_id: scope
                        .counties()
                        .first()
                        .filter(|_| scope.counties().len() == 1)
                        .map_or(371300, |c| c.get()),
                    action: "export",
                    entity: t.entity(),
                    entity_id: None,
                    summary: format!("命令行导出{} {} 行", t.label(), n),
                    before: None,
                    after: None,
                },
            )
            .await?;
            println!(
                "已导出{} {} 行到 {}（用时 {:.1} 秒）",
                t.label(),
                n,
                a.output.display(),
                started.elapsed().as_secs_f64()
            );
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(a) => demo(cli.database, a).await,
        Command::User(c) => user(cli.database, c).await,
        Command::Admit(_) | Command::AdmitGen(_) => {
            unreachable!("handled before the runtime starts")
        }
        Command::Plan(c) => plan_command(cli.database, c).await,
        Command::Rollover { year, dry_run } => rollover(cli.database, year, dry_run).await,
        Command::Backup { file } => backup(cli.database, file).await,
        Command::Clock { action, date } => clock(cli.database, &action, date.as_deref()).await,
        Command::Restore { file } => restore(cli.database, file).await,
        Command::Indicators {
            county,
            json,
            snapshot,
            repeat,
        } => indicators(cli.database, cli.config, county, json, snapshot, repeat).await,
        Command::Stats { county, json } => {
            let db = open(&cli.database).await?;
            let scope = scope_of(&SystemContext::new("stats"), &db, &county, &None).await?;
            let stats = yimeng_store::stats::compute(&db, &scope).await?;
            if json {
                let rows: Vec<_> = stats
                    .cells
                    .iter()
                    .map(|((c, t), v)| serde_json::json!({"county": c, "school_type": t, "counts": v}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_stats(&stats);
            }
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What to do for a PostgreSQL store instead of `yimeng backup` / `yimeng restore`.
const PG_BACKUP_HELP: &str = "PostgreSQL 数据库请用 PostgreSQL 自带的工具备份和恢复（服务器运行时即可备份）：\n  \
     备份：pg_dump -Fc -f yimeng-$(date +%F).dump postgres://用户@主机/库\n  \
     恢复：createdb 新库 && pg_restore --no-owner -d postgres://用户@主机/新库 yimeng-日期.dump\n\
     恢复后用 --database 指向新库启动 yimeng serve。";

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite file of a database URL.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// `yimeng backup FILE`
/// The day the demo city lives in: autumn of its plan's year (the seed plan is 2020's, the demo
/// school year 2020-2021), so that the tracker shows a year in progress.
const DEMO_CLOCK: &str = "2020-10-15";

async fn clock(database: Option<String>, action: &str, date: Option<&str>) -> Result<ExitCode> {
    use yimeng_store::setting::{self, CLOCK_TODAY};
    let db = open(&database).await?;
    let actor = Actor::system();
    match (action, date) {
        ("show", None) => match setting::clock_today(&db).await? {
            Some(d) => {
                println!("平台时钟：{d}（工作要点进度按该日评估；yimeng clock clear 恢复真实日期）")
            }
            None => println!("平台时钟：真实日期"),
        },
        ("set", Some(d)) => {
            let day: chrono::NaiveDate = d
                .parse()
                .map_err(|_| anyhow!("日期“{d}”无效（应如 2020-10-15）"))?;
            setting::set(&db, &actor, CLOCK_TODAY, Some(&day.to_string())).await?;
            println!("平台时钟已设为 {day}；重启服务后生效");
        }
        ("clear", None) => {
            setting::set(&db, &actor, CLOCK_TODAY, None).await?;
            println!("平台时钟已恢复为真实日期；重启服务后生效");
        }
        _ => bail!("用法：yimeng clock show | set 2020-10-15 | clear"),
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn backup(database: Option<String>, file: PathBuf) -> Result<ExitCode> {
    let url = database_url(&database);
    if is_postgres(&url) {
        println!("{PG_BACKUP_HELP}");
        return Ok(ExitCode::from(2));
    }
    if !sqlite_path(&url).is_file() {
        bail!("数据库文件 {} 不存在，没有可备份的内容", redact(&url));
    }
    let db = open(&database).await?;
    let started = Instant::now();
    let size = yimeng_store::backup::backup(&db, &file).await?;
    db.close().await;
    println!(
        "已备份到 {}（{:.1} MB，用时 {:.1} 秒）；恢复：yimeng restore {}",
        file.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `yimeng restore FILE`
async fn restore(database: Option<String>, file: PathBuf) -> Result<ExitCode> {
    let url = database_url(&database);
    if is_postgres(&url) {
        println!("{PG_BACKUP_HELP}");
        return Ok(ExitCode::from(2));
    }
    let target = sqlite_path(&url);
    if let Some(dir) = target.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录 {}", dir.display()))?;
    }
    let n = yimeng_store::backup::check_backup(&file).await?;
    yimeng_store::backup::restore(&target, &file).await?;
    println!(
        "已从 {} 恢复数据库 {}（含 {n} 个迁移版本；启动时会自动应用本版本新增的迁移）",
        file.display(),
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `yimeng rollover --year Y [--dry-run]`
async fn rollover(database: Option<String>, year: i32, dry_run: bool) -> Result<ExitCode> {
    if !(2000..=2100).contains(&year) {
        bail!("--year 应为学年的起始年份，如 2021");
    }
    let db = open(&database).await?;
    let started = Instant::now();
    let r = yimeng_store::rollover::run(&db, &Actor::system(), year, dry_run).await?;
    println!(
        "{}{}-{} 学年升级：",
        if dry_run {
            "试运行（未写入）"
        } else {
            ""
        },
        year,
        year + 1
    );
    println!(
        "{:<10} {:>10} {:>10} {:>10}",
        "县区", "升级", "毕业", "新建班级"
    );
    for c in &r.counties {
        println!(
            "{:<10} {:>10} {:>10} {:>10}",
            RegionCode::from_i32(c.county_id).name(),
            c.promoted,
            c.graduated,
            c.classes_created
        );
    }
    let t = r.total();
    println!(
        "{:<10} {:>10} {:>10} {:>10}",
        "合计", t.promoted, t.graduated, t.classes_created
    );
    println!("用时 {:.1} 秒", started.elapsed().as_secs_f64());
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn plan_command(database: Option<String>, c: PlanCommand) -> Result<ExitCode> {
    let db = open(&database).await?;
    match c {
        PlanCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取计划文件 {}", file.display()))?;
            let plan = match yimeng_domain::plan::Plan::parse(&text) {
                Ok(p) => p,
                Err(errors) => {
                    eprintln!("计划文件 {} 有 {} 处错误：", file.display(), errors.len());
                    for e in &errors {
                        eprintln!("  {e}");
                    }
                    db.close().await;
                    return Ok(ExitCode::from(2));
                }
            };
            let loaded = yimeng_store::plan::load(&db, &Actor::system(), &plan, &text).await?;
            let what = match loaded {
                yimeng_store::plan::Loaded::Created => "已载入",
                yimeng_store::plan::Loaded::Replaced => "已更新",
                yimeng_store::plan::Loaded::Unchanged => "未变化（与已载入的相同）",
            };
            println!(
                "{what}：{}（{}，{} 项工作、{} 项任务、{} 个指标）",
                plan.title,
                plan.code,
                plan.items.len(),
                plan.tasks().count(),
                plan.indicators.len()
            );
        }
        PlanCommand::Show => {
            let plans = yimeng_store::plan::list(&db).await?;
            if plans.is_empty() {
                println!("尚未载入工作计划（启动 serve 时会载入内置的 2020 年计划）");
            }
            for p in plans {
                println!(
                    "{}  {}  {}（载入于 {}，{}）",
                    p.code,
                    p.year,
                    p.title,
                    p.loaded_at.format("%Y-%m-%d %H:%M"),
                    p.loaded_by
                );
            }
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn indicators(
    database: Option<String>,
    config: Option<PathBuf>,
    county: Option<String>,
    json: bool,
    snapshot: bool,
    repeat: u32,
) -> Result<ExitCode> {
    use yimeng_web::service::tracker;
    let cfg = load_config(&config)?;
    let db = open(&database).await?;
    let sys = SystemContext::new("indicators");
    tracker::ensure_plan(&db)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let row = yimeng_store::plan::current(&db)
        .await?
        .ok_or_else(|| anyhow!("尚未载入工作计划"))?;
    let plan = Arc::new(row.plan()?);
    let region = match &county {
        None => yimeng_store::audit::CITY_COUNTY_ID,
        Some(_) => match scope_of(&sys, &db, &county, &None).await? {
            Scope::County(c) => c.get(),
            _ => bail!("--county：请给出一个县区的名称或代码"),
        },
    };
    // The tracker's clock: the stored one (a demo city's day), else today.
    let today = yimeng_store::setting::clock_today(&db)
        .await?
        .unwrap_or_else(yimeng_web::service::today);
    // Every run recomputes from the store; the first one also opens the read connections.
    let mut times = Vec::new();
    let mut board = None;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        board = Some(
            tracker::compute_live(&db, &sys, &cfg.rules, Arc::clone(&plan), today)
                .await
                .map_err(|e| anyhow!("{e}"))?,
        );
        times.push(started.elapsed());
    }
    let board = board.expect("computed once");
    let took = times.iter().min().copied().unwrap_or_default();
    if snapshot {
        let id = tracker::take_snapshot(&db, &Actor::system(), &board, today, "manual")
            .await
            .map_err(|e| anyhow!("{e}"))?;
        eprintln!("已生成指标快照 #{id}");
    }
    let plan = &board.plan;
    if json {
        let rows: Vec<_> = plan
            .indicators
            .iter()
            .map(|d| {
                let f = board.figure(region, &d.code);
                serde_json::json!({"code": d.code, "name": d.name, "value": f.value,
                    "numerator": f.numerator, "denominator": f.denominator})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{} · {} · 截至 {}",
            plan.title,
            yimeng_web::service::plan::region_name(region),
            board.as_of
        );
        for d in &plan.indicators {
            let f = board.figure(region, &d.code);
            let value = yimeng_web::service::plan::show(d, &f);
            let target = yimeng_web::service::plan::target_of(plan, &d.code)
                .map(|(_, t)| {
                    let met = match f.value.map(|v| t.is_met(v)) {
                        Some(true) => "达成",
                        Some(false) => "未达成",
                        None => "无数据",
                    };
                    format!("目标 {}{}（{met}）", t.comparator.label(), d.show(t.target))
                })
                .unwrap_or_default();
            println!("  {:<34} {:>14}  {target}", d.name, value);
        }
    }
    if times.len() > 1 {
        eprintln!(
            "各次用时：{} 秒",
            times
                .iter()
                .map(|t| format!("{:.3}", t.as_secs_f64()))
                .collect::<Vec<_>>()
                .join("、")
        );
    }
    eprintln!(
        "计算全部指标（全市和 {} 个县区）用时 {:.3} 秒{}",
        yimeng_domain::region::LINYI_UNITS.len(),
        took.as_secs_f64(),
        if times.len() > 1 {
            "（最快一次）"
        } else {
            ""
        }
    );
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn user(database: Option<String>, c: UserCommand) -> Result<ExitCode> {
    use yimeng_domain::Role;
    use yimeng_store::user as users;
    let db = open(&database).await?;
    let actor = Actor::system();
    let hash = |pw: String| -> Result<String> {
        yimeng_web::auth::check_password_strength(&pw).map_err(|e| anyhow!("--password：{e}"))?;
        yimeng_web::auth::hash_password(&pw).map_err(|e| anyhow!("{e:?}"))
    };
    let find = async |name: &str| -> Result<users::UserRow> {
        users::by_username(&db, name)
            .await?
            .ok_or_else(|| anyhow!("账户“{name}”不存在"))
    };
    match c {
        UserCommand::Add {
            username,
            role,
            name,
            county,
            school,
            password,
        } => {
            let role = Role::parse(&role).map_err(|e| anyhow!("--role：{e}"))?;
            let county_scope = scope_of(&SystemContext::new("user"), &db, &county, &school).await?;
            let (county, school_id) = match county_scope {
                Scope::School(s) => (Some(s.county), Some(s.id)),
                Scope::County(c) => (Some(c), None),
                _ => (None, None),
            };
            let display = yimeng_domain::text::parse_text(&name, 50, true)
                .map_err(|e| anyhow!("--name：{e}"))?;
            let generated = password.is_none();
            let pw = password.unwrap_or_else(yimeng_web::auth::initial_password);
            let new = users::NewUser {
                username: username.trim().to_string(),
                display_name: display,
                password_hash: hash(pw.clone())?,
                role,
                county,
                school_id,
                must_change_password: true,
                department: None,
            };
            let u = users::create(&db, &actor, new).await?;
            println!(
                "已创建账户 {}（{}，{}）",
                u.username,
                u.role().label(),
                u.display_name
            );
            if generated {
                println!("初始密码：{pw}（首次登录须修改）");
            }
        }
        UserCommand::List => {
            let list = users::list(&db).await?;
            println!(
                "{:<24} {:<12} {:<8} {:<6} {:<20} 名称",
                "用户名", "角色", "县区", "状态", "最近登录"
            );
            for u in &list {
                let county = u
                    .county_id
                    .and_then(|c| RegionCode::from_i32(c).linyi_unit())
                    .map_or("全市", |x| x.name);
                let state = if u.disabled {
                    "停用"
                } else if u.locked_until.is_some_and(|t| t > chrono::Utc::now()) {
                    "锁定"
                } else {
                    "正常"
                };
                let last = u
                    .last_login_at
                    .map(|t| {
                        t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_else(|| "—".into());
                println!(
                    "{:<24} {:<12} {:<8} {:<6} {:<20} {}",
                    u.username,
                    u.role().label(),
                    county,
                    state,
                    last,
                    u.display_name
                );
            }
            println!("共 {} 个账户", list.len());
        }
        UserCommand::Disable { username } => {
            let u = find(&username).await?;
            users::set_disabled(&db, &actor, u.id, true).await?;
            println!("已停用账户 {username}，其会话已全部结束");
        }
        UserCommand::Enable { username } => {
            let u = find(&username).await?;
            users::set_disabled(&db, &actor, u.id, false).await?;
            println!("已启用账户 {username}");
        }
        UserCommand::ResetPassword { username, password } => {
            let u = find(&username).await?;
            let generated = password.is_none();
            let pw = password.unwrap_or_else(yimeng_web::auth::initial_password);
            users::set_password(&db, &actor, u.id, &hash(pw.clone())?, true, None).await?;
            println!("已重置账户 {username} 的密码并解除锁定（下次登录须修改密码）");
            if generated {
                println!("新密码：{pw}");
            }
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    database: Option<String>,
    config: Option<PathBuf>,
    a: ServeArgs,
) -> Result<ExitCode> {
    let cfg = load_config(&config)?;
    let addr: std::net::SocketAddr = a
        .addr
        .parse()
        .map_err(|_| anyhow!("监听地址“{}”无效（应如 127.0.0.1:8080）", a.addr))?;
    let db = open(&database).await?;
    let sys = SystemContext::new("serve");
    let empty = yimeng_store::school::count(&db, &sys.scope()).await? == 0;
    if empty && !a.no_demo {
        println!("数据库为空：正在生成示范城市（规模 {}）……", a.demo_scale);
        demo(
            database.clone(),
            DemoArgs {
                scale: a.demo_scale,
                seed: 2020,
                files: None,
                format: "csv".into(),
                no_load: false,
            },
        )
        .await?;
    }
    let accounts = yimeng_web::demo_accounts::ensure(&db, &sys)
        .await
        .map_err(|e| anyhow!("{e:?}"))?;
    yimeng_web::service::tracker::ensure_plan(&db)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    // The embedded store has no background statistics collector: refresh them at start-up
    // (sampled, well under a second at city scale). PostgreSQL's autovacuum does this itself.
    if db.backend() == yimeng_store::Backend::Sqlite {
        db.analyze().await?;
    }
    let mut web = yimeng_web::WebConfig {
        trust_proxy: cfg.web.trust_proxy,
        secure_cookies: cfg.web.secure_cookies,
        clock: yimeng_store::setting::clock_today(&db).await?,
        ..Default::default()
    };
    if let Some(d) = web.clock {
        println!("平台时钟：{d}（工作要点进度按该日评估；yimeng clock clear 恢复真实日期）");
    }
    if let Some(mb) = cfg.web.max_upload_mb {
        web.max_upload_bytes = mb * 1024 * 1024;
    }
    if let Some(mb) = cfg.web.upload_budget_mb {
        web.upload_budget_bytes = mb.max(1) * 1024 * 1024;
    }
    let state = yimeng_web::AppState::new(db.clone(), web, cfg.rules, sys);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("无法监听 {addr}"))?;
    let local = listener.local_addr()?;
    println!("沂蒙教育治理平台已启动：http://{local}/");
    if !accounts.is_empty() {
        println!(
            "示范账户（密码均为 {}）：",
            yimeng_web::demo_accounts::DEMO_PASSWORD
        );
        for acc in accounts.iter().take(12) {
            println!(
                "  {:<16} {:<8} {}",
                acc.username,
                acc.role.label(),
                acc.covers
            );
        }
        if accounts.len() > 12 {
            println!(
                "  ……共 {} 个，完整名单见“账户管理”（以 admin 登录）",
                accounts.len()
            );
        }
    }
    yimeng_web::serve(listener, state, shutdown_signal()).await?;
    println!("已停止。");
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM: stop taking connections, finish the open ones.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

async fn import(
    database: Option<String>,
    config: Option<PathBuf>,
    a: ImportArgs,
) -> Result<ExitCode> {
    let t = table(&a.table)?;
    if !a.file.exists() {
        bail!("文件不存在：{}", a.file.display());
    }
    // The class-size gate uses the configured limits ([rules] in yimeng.toml), as on the web.
    let cfg = load_config(&config)?;
    let db = open(&database).await?;
    let scope = scope_of(&SystemContext::new("import"), &db, &a.county, &a.school).await?;
    let started = Instant::now();
    let pb = bar(0, &format!("导入{}", t.label()));
    let p = pb.clone();
    let job = ImportJob {
        table: t,
        path: a.file.clone(),
        file_name: a
            .file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        mode: if a.partial {
            Mode::Partial
        } else {
            Mode::AllOrNothing
        },
        dry_run: a.dry_run,
    };
    let result = service::import::import_file_gated(
        &db,
        &scope,
        &Actor::system(),
        job,
        if a.as_is {
            yimeng_store::import::GateOptions::as_is()
        } else {
            yimeng_store::import::GateOptions::with_rules(&cfg.rules)
        },
        Arc::new(move |n| p.set_position(n)),
    )
    .await;
    pb.finish_and_clear();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            db.close().await;
            eprintln!("导入失败：{e}");
            eprintln!("未写入任何数据。");
            return Ok(ExitCode::from(2));
        }
    };
    for e in &outcome.errors {
        eprintln!("第 {} 行【{}】“{}”：{}", e.row, e.column, e.value, e.reason);
    }
    if outcome.report.errors_dropped > 0 {
        eprintln!("……另有 {} 条错误未列出", outcome.report.errors_dropped);
    }
    if let Some(path) = &a.errors {
        service::import::write_errors(path, &outcome.errors)?;
        eprintln!("错误清单已写入 {}", path.display());
    }
    println!("{}", service::import::summary(&outcome));
    println!(
        "文件：{}（{}{}），用时 {:.1} 秒",
        a.file.display(),
        outcome.format,
        outcome
            .encoding
            .map(|e| format!("，{e}"))
            .unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(if outcome.report.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn demo(database: Option<String>, a: DemoArgs) -> Result<ExitCode> {
    if !(a.scale > 0.0 && a.scale <= 5.0) {
        bail!("--scale 应在 0 与 5 之间");
    }
    let started = Instant::now();
    let city = Arc::new(yimeng_demo::DemoCity::plan(a.scale, a.seed));
    println!(
        "示范城市（规模 {}，种子 {}）：{} 所学校，{} 个班级，{} 名学生，{} 名教职工",
        a.scale,
        a.seed,
        city.schools.len(),
        city.class_count(),
        city.student_count(),
        city.staff_count()
    );
    if let Some(dir) = &a.files {
        let format = match a.format.as_str() {
            "csv" => FileFormat::Csv,
            "xlsx" => FileFormat::Xlsx,
            f => bail!("--format 只能是 csv 或 xlsx，不是“{f}”"),
        };
        let pb = bar(city.student_count(), "写入导入文件");
        let p = pb.clone();
        let c = Arc::clone(&city);
        let d = dir.clone();
        let paths = tokio::task::spawn_blocking(move || {
            service::demo::write_files(&c, &d, format, &move |_, n, _| p.set_position(n))
        })
        .await??;
        pb.finish_and_clear();
        for p in paths {
            println!("已写入 {}", p.display());
        }
    }
    if !a.no_load {
        let db = open(&database).await?;
        let pb = bar(city.student_count(), "写入数据库");
        let p = pb.clone();
        let reports = service::demo::load(
            &db,
            &SystemContext::new("demo"),
            Arc::clone(&city),
            &move |t, n, total| {
                p.set_message(format!("写入{}", t.label()));
                p.set_length(total);
                p.set_position(n);
            },
        )
        .await?;
        pb.finish_and_clear();
        for r in &reports {
            println!(
                "{}：新增 {}，更新 {}，未变 {}",
                yimeng_store::import::entity_label(r.entity),
                r.inserted,
                r.updated,
                r.unchanged
            );
        }
        // The demo city lives in its plan's year (see DEMO_CLOCK).
        yimeng_store::setting::set(
            &db,
            &Actor::system(),
            yimeng_store::setting::CLOCK_TODAY,
            Some(DEMO_CLOCK),
        )
        .await?;
        println!(
            "平台时钟设为 {DEMO_CLOCK}（示范城市所在的工作要点年度；yimeng clock clear 恢复真实日期）"
        );
        // Monthly dispatch of the months before the clock, filed and approved as units would.
        yimeng_web::service::tracker::ensure_plan(&db)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let clock: chrono::NaiveDate = DEMO_CLOCK.parse().expect("a date");
        let filed = service::demo::fill_dispatch(
            &db,
            &SystemContext::new("demo"),
            &yimeng_domain::Rules::default(),
            clock,
        )
        .await?;
        if filed > 0 {
            println!("月调度：已按示范数据报送并审核 {filed} 份（{DEMO_CLOCK} 以前各月）");
        }
        db.close().await;
    }
    println!("完成，用时 {:.1} 秒", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn print_stats(stats: &yimeng_store::stats::Stats) {
    use yimeng_domain::{SchoolType, StudentStatus};
    let status_cols = [
        StudentStatus::Enrolled,
        StudentStatus::Suspended,
        StudentStatus::Resumed,
        StudentStatus::DroppedOut,
    ];
    let line = |name: &str, c: &yimeng_store::stats::Counts| {
        let other: i64 = c
            .students
            .iter()
            .filter(|(k, _)| !status_cols.iter().any(|s| s.code() == *k))
            .map(|(_, v)| v)
            .sum();
        let mut s = format!(
            "{:<16}{:>7}{:>8}{:>10}",
            name,
            c.schools,
            c.classes,
            c.students_total()
        );
        for st in status_cols {
            s.push_str(&format!(
                "{:>9}",
                c.students.get(st.code()).copied().unwrap_or(0)
            ));
        }
        s.push_str(&format!("{:>8}{:>9}", other, c.staff_current));
        s
    };
    let header = format!(
        "{:<14}{:>5}{:>6}{:>8}{:>7}{:>7}{:>7}{:>7}{:>6}{:>6}",
        "", "学校", "班级", "学生", "在读", "休学", "复学", "辍学", "其他", "在岗教职工"
    );
    println!("按县区");
    println!("{header}");
    for (c, v) in stats.by_county() {
        println!("{}", line(&RegionCode::from_i32(c).name(), &v));
    }
    println!("{}", line("合计", &stats.total()));
    println!();
    println!("按学校类别");
    println!("{header}");
    for (t, v) in stats.by_type() {
        let name = SchoolType::from_code(&t)
            .map(|t| t.label().to_string())
            .unwrap_or(t);
        println!("{}", line(&name, &v));
    }
}

/// `yimeng admit`: exit code 0 on success, 1 when the input is invalid (every problem printed,
/// nothing written), 2 when a file cannot be read or written.
fn admit(a: AdmitArgs) -> ExitCode {
    use yimeng_engine::admission::{self, exchange};
    let started = Instant::now();
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("无法读取 {}：{e}", p.display()));
    let files = (|| -> std::result::Result<_, String> {
        Ok((
            read(&a.candidates)?,
            read(&a.schools)?,
            a.quotas.as_ref().map(read).transpose()?,
            a.policy.as_ref().map(read).transpose()?,
        ))
    })();
    let (cand, schools, quotas, policy) = match files {
        Ok(f) => f,
        Err(e) => {
            eprintln!("错误：{e}；未写入任何结果");
            return ExitCode::from(2);
        }
    };
    let names = [
        a.candidates.display().to_string(),
        a.schools.display().to_string(),
        a.quotas
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        a.policy
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    ];
    let src = exchange::Sources {
        candidates: exchange::Source {
            name: &names[0],
            bytes: &cand,
        },
        schools: exchange::Source {
            name: &names[1],
            bytes: &schools,
        },
        quotas: quotas.as_deref().map(|b| exchange::Source {
            name: &names[2],
            bytes: b,
        }),
        policy: policy.as_deref().map(|b| exchange::Source {
            name: &names[3],
            bytes: b,
        }),
    };
    let (inst, policy) = match exchange::load(&src) {
        Ok(x) => x,
        Err(yimeng_engine::EngineError::AdmissionInput(issues)) => {
            for i in issues.iter().take(1000) {
                eprintln!("{i}");
            }
            if issues.len() > 1000 {
                eprintln!("……另有 {} 处错误", issues.len() - 1000);
            }
            eprintln!(
                "错误：输入有误，共 {} 处；未进行录取，未写入任何结果",
                issues.len()
            );
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("错误：{e}；未写入任何结果");
            return ExitCode::from(1);
        }
    };
    drop((cand, schools, quotas));
    let mut wanted = Vec::new();
    for id in &a.explain {
        match inst.candidates.iter().position(|c| &c.id == id) {
            Some(c) => wanted.push(c as u32),
            None => {
                eprintln!("错误：考生号“{id}”不在考生文件中；未写入任何结果");
                return ExitCode::from(1);
            }
        }
    }
    let parsed = started.elapsed();
    let t = Instant::now();
    let outcome = match admission::admit(&inst, &policy) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("错误：{e}；未写入任何结果");
            return ExitCode::from(1);
        }
    };
    let matched = t.elapsed();
    let t = Instant::now();
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&a.out)?;
        let f = |name: &str| -> std::io::Result<std::io::BufWriter<std::fs::File>> {
            Ok(std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(a.out.join(name))?,
            ))
        };
        exchange::write_admissions(&inst, &outcome, f("admissions.csv")?)?;
        exchange::write_cutoffs(&inst, &outcome, f("cutoffs.csv")?)
    };
    if let Err(e) = write() {
        eprintln!("错误：无法写入 {}：{e}", a.out.display());
        return ExitCode::from(2);
    }
    let written = t.elapsed();
    for c in wanted {
        print!("{}", admission::explain(&inst, &policy, &outcome, c));
    }
    let placed = outcome.placements.iter().filter(|p| p.is_some()).count();
    let quota = outcome
        .placements
        .iter()
        .flatten()
        .filter(|p| p.pool as usize >= inst.schools.len())
        .count();
    println!(
        "录取 {placed} / {} 人（其中指标生 {quota} 人），{} 所学校，{} 个指标池；结果已写入 {}",
        inst.candidates.len(),
        inst.schools.len(),
        inst.quotas.len(),
        a.out.display()
    );
    println!(
        "用时：读取与校验 {:.2} 秒，匹配 {:.3} 秒（{} 轮），写出 {:.2} 秒",
        parsed.as_secs_f64(),
        matched.as_secs_f64(),
        outcome
            .passes
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("+"),
        written.as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// `yimeng admit-gen`: a synthetic instance for benchmarks.
fn admit_gen(a: AdmitGenArgs) -> ExitCode {
    use yimeng_engine::admission::{exchange, synth};
    let inst = synth::generate(&synth::SynthParams {
        candidates: a.candidates,
        schools: a.schools,
        juniors: a.juniors,
        choices: a.choices,
        seed: a.seed,
        quota_school_pct: a.quota_schools,
        ..synth::SynthParams::default()
    });
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&a.out)?;
        let f = |name: &str| -> std::io::Result<std::io::BufWriter<std::fs::File>> {
            Ok(std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(a.out.join(name))?,
            ))
        };
        exchange::write_candidates(&inst, f("candidates.csv")?)?;
        exchange::write_schools(&inst, f("schools.csv")?)?;
        exchange::write_quotas(&inst, f("quotas.csv")?)
    };
    match write() {
        Ok(()) => {
            println!(
                "已生成 {} 名考生、{} 所高中、{} 个指标池：{}",
                inst.candidates.len(),
                inst.schools.len(),
                inst.quotas.len(),
                a.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误：无法写入 {}：{e}", a.out.display());
            ExitCode::from(2)
        }
    }
}
