//! Field-level validation errors, in Chinese, naming the field, the value and the reason.

use serde::Serialize;

/// A problem with one field of a record. `field` is the stable field key (e.g. `id_card`); the
/// presentation layer maps it to the column's Chinese header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Stable field key.
    pub field: &'static str,
    /// The value as given (shortened for display).
    pub value: String,
    /// Why it was refused, in Chinese.
    pub reason: String,
}

impl FieldError {
    /// Builds an error, keeping at most 60 characters of the value so a huge cell cannot flood a report.
    pub fn new(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field,
            value: crate::text::preview(value, 60),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}（值“{}”）：{}", self.field, self.value, self.reason)
    }
}

/// Collects field errors while a record is parsed, so one pass reports every problem.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// Records the error of a parse and returns its value, or `None` when it failed.
    pub fn take<T>(&mut self, field: &'static str, raw: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(reason) => {
                self.0.push(FieldError::new(field, raw, reason));
                None
            }
        }
    }
    /// Adds an error.
    pub fn push(&mut self, field: &'static str, raw: &str, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, raw, reason));
    }
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
