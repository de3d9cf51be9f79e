//! Helpers that write test files the way users' tools do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use yimeng_domain::Scope;
use yimeng_io::Table;
use yimeng_store::import::Mode;
use yimeng_store::testing::RawQuery;
use yimeng_store::{Actor, Db};
use yimeng_web::service::ServiceError;
use yimeng_web::service::import::{ImportJob, ImportOutcome, import_file};

pub const SCHOOLS_CSV: &str = "学校标识码,学校名称,所属县区,学校类别,办学性质,城乡分类\n\
2137000001,兰山区第一实验小学,兰山区,小学,公办,城区\n\
2137000002,兰山区枣园镇中学,兰山区,九年一贯制学校,公办,镇区\n\
2137000003,费县第三中学,费县,初级中学,公办,乡村\n";

pub const STAFF_CSV: &str = "学校标识码,姓名,身份证件号,岗位类别,最高学历,职称\n\
2137000001,王老师,371325198503020017,专任教师,本科,一级\n";

pub const CLASSES_CSV: &str = "学校标识码,学年,年级,班号,班主任身份证件号\n\
2137000001,2020-2021,三年级,1,371325198503020017\n\
2137000001,2020-2021,三年级,2,\n\
2137000002,2020-2021,七年级,1,\n";

pub const STUDENT_HEADER: &str = "学校标识码,学年,年级,班号,姓名,性别,出生日期,身份证件号,学籍号,民族,监护人1姓名,监护人1关系,监护人1电话";

/// A valid student line for the given ID number.
pub fn student_line(school: &str, grade: &str, class_no: u32, name: &str, id: &str) -> String {
    format!("{school},2020-2021,{grade},{class_no},{name},,,{id},,汉族,家长,母亲,13800000000")
}

/// A valid ID number from a sequence (兰山区, born 2012-05-04).
pub fn id(seq: u16) -> String {
    yimeng_domain::IdCardNo::compose(
        371302,
        chrono::NaiveDate::from_ymd_opt(2012, 5, 4).unwrap(),
        seq,
    )
    .to_string()
}

pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

pub async fn import(
    db: &Db,
    table: Table,
    path: &Path,
    mode: Mode,
) -> Result<ImportOutcome, ServiceError> {
    let job = ImportJob {
        table,
        path: path.to_path_buf(),
        file_name: path.file_name().unwrap().to_string_lossy().to_string(),
        mode,
        dry_run: false,
    };
    import_file(db, &Scope::City, &Actor::system(), job, Arc::new(|_| {})).await
}

/// Schools, a teacher and classes, as a county would import them.
pub async fn seed(db: &Db, dir: &Path) {
    for (t, name, csv) in [
        (Table::Schools, "schools.csv", SCHOOLS_CSV),
        (Table::Staff, "staff.csv", STAFF_CSV),
        (Table::Classes, "classes.csv", CLASSES_CSV),
    ] {
        let o = import(db, t, &write(dir, name, csv), Mode::AllOrNothing)
            .await
            .unwrap();
        assert!(o.report.committed, "{:?}", o.errors);
    }
}

pub async fn count(db: &Db, table: &str) -> i64 {
    db.scalar(yimeng_store::testing::Sql::new(&format!(
        "SELECT COUNT(*) FROM {table}"
    )))
    .await
    .unwrap()
}
