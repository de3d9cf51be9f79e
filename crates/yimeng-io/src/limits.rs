//! Resource bounds of the readers. An uploaded file is untrusted: a 0.4 MB xlsx can inflate to
//! gigabytes, a CSV can hold one endless cell, a sheet can declare millions of empty cells. Every
//! reader checks these bounds before it allocates for the data, and refuses the file with a
//! Chinese message naming the bound.
//!
//! The defaults fit the largest legitimate file by a wide margin: the city's whole students table
//! (1.7 million rows, 24 columns, a 322 MB CSV) passes every bound; a single county's workbook is a
//! tenth of that.

use crate::IoError;

/// One mebibyte, the unit the messages use.
pub const MB: u64 = 1024 * 1024;

/// Largest inflated size of any one part of a workbook (a worksheet's XML), and of a CSV file's
/// decoded text: 2 GB. Worksheets are streamed, so this bounds time rather than memory.
pub const MAX_INFLATED_BYTES: u64 = 2048 * MB;
/// Largest inflated size of all the parts of a workbook together: 4 GB.
pub const MAX_TOTAL_INFLATED_BYTES: u64 = 4096 * MB;
/// Largest inflated size of the shared-strings part of an xlsx, which is loaded whole into memory
/// before the first row can be read: 128 MB (about 3 million distinct texts; a county's roster has
/// under 1 million).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 128 * MB;
/// Largest inflated size of any other part that is loaded whole (styles, workbook, relations,
/// theme): 32 MB.
pub const MAX_OTHER_PART_BYTES: u64 = 32 * MB;
/// Largest .xls file: 100 MB. An .xls is read whole into memory, and the format holds at most
/// 65,536 rows per sheet.
pub const MAX_XLS_BYTES: u64 = 100 * MB;
/// Most cells (empty ones included) in one file: 100 million, more than twice the city's
/// students table.
pub const MAX_CELLS: u64 = 100_000_000;
/// Most columns in a row: 512 (the widest import template has 24).
pub const MAX_COLUMNS: usize = 512;
/// Longest cell: 16 MB of text. Every field's own bound is far shorter (an address is 200
/// characters) and the row parser reports a long cell against its column, value cut short; this
/// bound only keeps one cell from taking the memory of the whole import.
pub const MAX_CELL_BYTES: usize = 16 * 1024 * 1024;
/// Longest row: 32 MB of text, so that 512 cells just under [`MAX_CELL_BYTES`] cannot add up.
pub const MAX_ROW_BYTES: usize = 32 * 1024 * 1024;

/// The bounds one read applies. [`Limits::DEFAULT`] is what every import uses; tests lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_INFLATED_BYTES`].
    pub inflated_bytes: u64,
    /// See [`MAX_TOTAL_INFLATED_BYTES`].
    pub total_inflated_bytes: u64,
    /// See [`MAX_SHARED_STRINGS_BYTES`].
    pub shared_strings_bytes: u64,
    /// See [`MAX_OTHER_PART_BYTES`].
    pub other_part_bytes: u64,
    /// See [`MAX_XLS_BYTES`].
    pub xls_bytes: u64,
    /// See [`MAX_CELLS`].
    pub cells: u64,
    /// See [`MAX_COLUMNS`].
    pub columns: usize,
    /// See [`MAX_CELL_BYTES`].
    pub cell_bytes: usize,
    /// See [`MAX_ROW_BYTES`].
    pub row_bytes: usize,
}

impl Limits {
    /// The bounds of every import.
    pub const DEFAULT: Limits = Limits {
        inflated_bytes: MAX_INFLATED_BYTES,
        total_inflated_bytes: MAX_TOTAL_INFLATED_BYTES,
        shared_strings_bytes: MAX_SHARED_STRINGS_BYTES,
        other_part_bytes: MAX_OTHER_PART_BYTES,
        xls_bytes: MAX_XLS_BYTES,
        cells: MAX_CELLS,
        columns: MAX_COLUMNS,
        cell_bytes: MAX_CELL_BYTES,
        row_bytes: MAX_ROW_BYTES,
    };

    pub(crate) fn too_many_cells(&self) -> IoError {
        IoError::Format(format!(
            "文件的单元格（含空单元格）超过 {} 个，不像是导入用的表格；请删除多余的行列或拆分后再上传",
            self.cells
        ))
    }

    pub(crate) fn too_many_columns(&self, row: u64) -> IoError {
        IoError::Format(format!(
            "第 {row} 行的列数超过 {}，不像是导入模板；请删除多余的列",
            self.columns
        ))
    }

    pub(crate) fn cell_too_long(&self, row: u64, col: usize) -> IoError {
        IoError::Format(format!(
            "第 {row} 行第 {col} 列的单元格超过 {}，不像是导入用的数据；请检查该单元格（可能缺少引号的结束符）",
            size_text(self.cell_bytes)
        ))
    }

    pub(crate) fn row_too_long(&self, row: u64) -> IoError {
        IoError::Format(format!(
            "第 {row} 行的内容超过 {}，不像是导入用的数据；请检查该行（可能缺少引号的结束符）",
            size_text(self.row_bytes)
        ))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A size for messages: MB, KB or bytes.
fn size_text(bytes: usize) -> String {
    if bytes >= MB as usize {
        format!("{} MB", bytes / MB as usize)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} 字节")
    }
}

/// A size in whole megabytes for messages (at least 1).
pub(crate) fn mb(bytes: u64) -> u64 {
    (bytes / MB).max(1)
}
