//! The one error type of the engine crate.

use thiserror::Error;

/// Everything an engine can refuse. Engines never do IO, so every variant is about the input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// 录取数据有误 (invalid admission input): every problem found, each naming the file, the row
    /// (1-based, the header is row 1), the column and the reason. Nothing was matched.
    #[error("录取数据有误，共 {} 处：\n{}", .0.len(), crate::admission::exchange::join_issues(.0))]
    AdmissionInput(Vec<crate::admission::exchange::InputIssue>),
    /// 录取规则有误 (invalid admission policy), e.g. a batch naming an unknown school.
    #[error("录取规则（policy）有误：{0}")]
    AdmissionPolicy(String),
    // 阳光分班 (balanced class assignment): messages are shown to school staff as they are.
    /// 阳光分班: zero classes.
    #[error("班级数至少为 1")]
    NoClasses,
    /// The same id twice.
    #[error("学生标识 {id} 重复出现，每名学生只能分班一次")]
    DuplicateChild {
        /// The id.
        id: i64,
    },
    /// A score that is not a finite number.
    #[error("学生 {id} 的成绩不是有效数字")]
    InvalidScore {
        /// The child.
        id: i64,
    },
    /// One group with both modes.
    #[error("同胞组 {group} 中有的要求同班、有的要求分班，请统一为一种")]
    MixedSiblingModes {
        /// The group.
        group: i64,
    },
    /// A together-group larger than the largest class allowed.
    #[error(
        "同胞组 {group} 共 {size} 人要求同班，但各班人数相差不得超过 1 人，每班最多 {max} 人，无法安排在同一班"
    )]
    TogetherGroupTooLarge {
        /// The group.
        group: i64,
        /// Its size.
        size: usize,
        /// The largest class size the sizes rule allows.
        max: usize,
    },
    /// The together-groups cannot all be packed.
    #[error(
        "要求同班的 {groups} 个同胞组（共 {children} 人）无法在各班人数相差不超过 1 人的前提下各自安排在一个班内，请调整班级数或同班要求"
    )]
    TogetherGroupsDoNotFit {
        /// Number of together-groups.
        groups: usize,
        /// Children in them.
        children: usize,
    },
    /// An apart-group with more members than classes.
    #[error("同胞组 {group} 共 {size} 人要求分在不同班，但只有 {classes} 个班")]
    ApartGroupTooLarge {
        /// The group.
        group: i64,
        /// Its size.
        size: usize,
        /// Number of classes.
        classes: usize,
    },
    /// Not enough classes with room left for an apart-group.
    #[error("同胞组 {group} 要求分在不同班，但满足班额和同班要求后，有空位的班级不足 {size} 个")]
    ApartGroupDoesNotFit {
        /// The group.
        group: i64,
        /// Its size.
        size: usize,
    },
}
