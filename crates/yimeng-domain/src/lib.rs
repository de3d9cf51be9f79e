//! # yimeng-domain — the domain of Yimeng (沂蒙)
//!
//! Owns the pure types and rules of the education registry: region codes (GB/T 2260), the resident
//! identity number (GB 11643), the 学籍号 (national student number), school types and stages,
//! grades and school years, class-size rules, student and staff code lists, the access [`Scope`],
//! and the locally configurable [`Rules`].
//!
//! It must not do IO, async, or storage: every function here is deterministic and testable without
//! a database. Each domain rule (a threshold, a code list, a formula) lives in exactly one place in
//! this crate, with its source in the doc comment.
#![forbid(unsafe_code)]

pub mod approval;
pub mod attachment;
pub mod calendar;
pub mod class;
pub mod codes;
pub mod enrolment;
pub mod error;
pub mod facts;
pub mod grade;
pub mod idcard;
pub mod names;
pub mod plan;
pub mod region;
pub mod report;
pub mod rules;
pub mod school;
pub mod scope;
pub mod staff;
pub mod status_change;
pub mod student;
pub mod student_no;
pub mod text;
pub mod transfer;

pub use error::FieldError;
pub use grade::{Grade, SchoolYear};
pub use idcard::{IdCardNo, Sex};
pub use region::RegionCode;
pub use rules::Rules;
pub use school::{LocationClass, Ownership, SchoolCode, SchoolType, Stage, StageSet};
pub use scope::{Role, SchoolRef, Scope};
pub use student::StudentStatus;
pub use student_no::StudentNo;
