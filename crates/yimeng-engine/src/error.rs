//! The one error type of the engine crate.

use thiserror::Error;

/// Everything an engine can refuse. Engines never do IO, so every variant is about the input.
#[derive(Debug, Error)]
pub enum EngineError {
    /// 录取数据有误 (invalid admission input): every problem found, each naming the file, the row
    /// (1-based, the header is row 1), the column and the reason. Nothing was matched.
    #[error("录取数据有误，共 {} 处：\n{}", .0.len(), crate::admission::exchange::join_issues(.0))]
    AdmissionInput(Vec<crate::admission::exchange::InputIssue>),
    /// 录取规则有误 (invalid admission policy), e.g. a batch naming an unknown school.
    #[error("录取规则（policy）有误：{0}")]
    AdmissionPolicy(String),
}
