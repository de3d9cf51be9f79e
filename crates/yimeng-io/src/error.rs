use thiserror::Error;

/// File-level problems: the file cannot be read as a table of this kind at all.
#[derive(Debug, Error)]
pub enum IoError {
    /// Reading or writing failed.
    #[error("无法读写文件 {path}：{source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("文件是空的，没有表头也没有数据")]
    Empty,
    /// Only the header row.
    #[error("文件只有表头，没有数据行")]
    HeaderOnly,
    /// Unsupported or unrecognised format.
    #[error("{0}")]
    Format(String),
    /// The header does not fit the table.
    #[error("表头有误：{0}")]
    Header(String),
    /// Writing an xlsx file failed.
    #[error("写入 xlsx 失败：{0}")]
    Xlsx(String),
    /// The consumer of rows stopped the read.
    #[error("{0}")]
    Stopped(String),
}

impl IoError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> IoError {
        IoError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
