//! Server-rendered pages. Every registry page reads through the store with the user's scope.

pub mod account;
// Senior-high unified admission (issue 6).
pub mod admin;
pub mod admission;
pub mod classes;
pub mod dispatch;
// Enrolment applications (issue 5).
pub mod enrolment;
pub mod home;
pub mod import;
pub mod plan;
pub mod public;
// Year rollover (issue 5).
pub mod rollover;
pub mod schools;
pub mod search;
pub mod services;
pub mod session;
pub mod staff;
pub mod students;
// 阳光分班 (issue 5).
pub mod sunshine;
pub mod transfer_city;
