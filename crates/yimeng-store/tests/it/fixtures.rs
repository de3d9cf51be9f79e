use chrono::NaiveDate;
use yimeng_domain::class::ClassRecord;
use yimeng_domain::school::{Facilities, SchoolRecord};
use yimeng_domain::staff::{Backbone, Education, Post, StaffRecord, StaffStatus, Subject, Title};
use yimeng_domain::student::{
    ClassRef, Ethnicity, Guardian, Relation, StudentRecord, StudentStatus,
};
use yimeng_domain::*;
use yimeng_store::Actor;
use yimeng_store::import::{Mode, Options};

pub const LANSHAN: i32 = 371302;
pub const FEIXIAN: i32 = 371325;

pub fn opts(mode: Mode) -> Options {
    Options {
        mode,
        dry_run: false,
        file_name: "test.xlsx".into(),
        file_sha256: "0".repeat(64),
        edit: None,
        size_hint: None,
    }
}

pub fn actor() -> Actor {
    Actor {
        name: "tester".into(),
        role: "county".into(),
        ip: Some("127.0.0.1".into()),
        request_id: None,
    }
}

pub fn school(code: &str, county: i32, ty: SchoolType) -> SchoolRecord {
    SchoolRecord {
        code: SchoolCode::parse(code).unwrap(),
        name: format!("测试学校{code}"),
        county: RegionCode::from_i32(county),
        school_type: ty,
        stages: ty.default_stages(),
        ownership: Ownership::Public,
        inclusive: false,
        location: LocationClass::Urban,
        central: false,
        capacity: Some(1000),
        address: "临沂市".into(),
        facilities: Facilities::default(),
    }
}

pub fn staff(school: &str, id: &IdCardNo) -> StaffRecord {
    StaffRecord {
        school_code: SchoolCode::parse(school).unwrap(),
        name: "王老师".into(),
        id_card: id.clone(),
        sex: id.sex(),
        birth_date: id.birth_date(),
        post: Post::Teacher,
        subjects: vec![Subject::Chinese],
        title: Title::First,
        education: Education::Bachelor,
        cert_kind: None,
        cert_no: None,
        hire_date: None,
        hire_source: None,
        party_member: false,
        backbone: Backbone::None,
        status: StaffStatus::Active,
        phone: None,
    }
}

pub fn class(school: &str, grade: Grade, no: i32) -> ClassRecord {
    ClassRecord {
        school_code: SchoolCode::parse(school).unwrap(),
        year: SchoolYear::from_start(2020),
        grade,
        class_no: no,
        name: yimeng_domain::class::default_class_name(grade, no),
        head_teacher: None,
    }
}

/// A student with a valid ID number built from `seq`.
pub fn student(school: &str, grade: Grade, no: i32, seq: u16) -> StudentRecord {
    let id = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(2013, 5, 4).unwrap(), seq);
    StudentRecord {
        school_code: SchoolCode::parse(school).unwrap(),
        class: Some(ClassRef {
            year: SchoolYear::from_start(2020),
            grade,
            class_no: no,
        }),
        name: format!("学生{seq}"),
        sex: id.sex(),
        birth_date: id.birth_date(),
        student_no: StudentNo::from_id_card(&id),
        id_card: Some(id),
        ethnicity: Ethnicity::Han,
        hukou: Some(RegionCode::from_i32(371302)),
        migrant: false,
        left_behind: false,
        disability: None,
        poor: false,
        orphan: false,
        guardians: vec![Guardian {
            name: "家长".into(),
            relation: Relation::Mother,
            phone: Some("13800000000".into()),
        }],
        status: StudentStatus::Enrolled,
        entry_date: None,
    }
}

pub fn teacher_id(seq: u16) -> IdCardNo {
    IdCardNo::compose(371325, NaiveDate::from_ymd_opt(1985, 3, 2).unwrap(), seq)
}
