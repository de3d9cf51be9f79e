//! Uploaded files (附件、材料): what a file's bytes are (by magic bytes, never by the name or the
//! browser's declared type), which types and sizes each upload accepts, and the refusal naming the
//! reason. The storage of an accepted file (its SHA-256 and its row) is `yimeng_store::attachment`.

use std::fmt;

/// 1 MB as the messages count it.
const MB: usize = 1024 * 1024;

/// Largest enrolment or transfer material file (a phone photo or a scanned page): 5 MB.
pub const MATERIAL_MAX_BYTES: usize = 5 * MB;

/// Largest dispatch evidence file (a scanned report or a spreadsheet): 20 MB.
pub const EVIDENCE_MAX_BYTES: usize = 20 * MB;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Pdf,
    Jpeg,
    Png,
    /// A ZIP container: .docx and .xlsx are ZIP files.
    Zip,
    /// An OLE compound document: .doc and .xls.
    Ole,
    Gif,
    /// A Windows program (MZ header).
    Executable,
    /// Text or anything else not recognised.
    Unknown,
}

impl Content {
    /// The content of `bytes`, by their magic bytes.
    pub fn sniff(bytes: &[u8]) -> Content {
        if bytes.starts_with(b"%PDF-") {
            Content::Pdf
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Content::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Content::Png
        } else if bytes.starts_with(b"PK\x03\x04") {
            Content::Zip
        } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            Content::Ole
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Content::Gif
        } else if bytes.starts_with(b"MZ") {
            Content::Executable
        } else {
            Content::Unknown
        }
    }

    /// Chinese description, as in “文件内容是 ZIP 压缩包”.
    pub fn label(self) -> &'static str {
        match self {
            Content::Pdf => "PDF 文件",
            Content::Jpeg => "JPG 图片",
            Content::Png => "PNG 图片",
            Content::Zip => "ZIP 压缩包",
            Content::Ole => "Word/Excel 97–2003 文档",
            Content::Gif => "GIF 图片",
            Content::Executable => "可执行程序",
            Content::Unknown => "无法识别的内容",
        }
    }
}

/// One accepted file type: its extensions, its content and the content type it is stored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub extensions: &'static [&'static str],
    pub content: Content,
    pub content_type: &'static str,
}

pub const PDF: FileType = FileType {
    extensions: &["pdf"],
    content: Content::Pdf,
    content_type: "application/pdf",
};
pub const JPEG: FileType = FileType {
    extensions: &["jpg", "jpeg"],
    content: Content::Jpeg,
    content_type: "image/jpeg",
};
pub const PNG: FileType = FileType {
    extensions: &["png"],
    content: Content::Png,
    content_type: "image/png",
};
pub const DOCX: FileType = FileType {
    extensions: &["docx"],
    content: Content::Zip,
    content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};
pub const XLSX: FileType = FileType {
    extensions: &["xlsx"],
    content: Content::Zip,
    content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};
pub const DOC: FileType = FileType {
    extensions: &["doc"],
    content: Content::Ole,
    content_type: "application/msword",
};
pub const XLS: FileType = FileType {
    extensions: &["xls"],
    content: Content::Ole,
    content_type: "application/vnd.ms-excel",
};

/// What one kind of upload accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub types: &'static [FileType],
    pub max_bytes: usize,
    /// The accepted types in the words of the form (“图片（JPG、PNG）或 PDF 文件”).
    pub accepted: &'static str,
    /// The name's extension decides the type (office files share the ZIP and OLE containers), and
    /// the bytes must be of that type. Otherwise the bytes decide, whatever the name says.
    pub by_extension: bool,
}

/// Enrolment materials (入学申请材料): images or PDF, 5 MB.
pub const ENROLMENT_MATERIAL: Policy = Policy {
    types: &[JPEG, PNG, PDF],
    max_bytes: MATERIAL_MAX_BYTES,
    accepted: "图片（JPG、PNG）或 PDF 文件",
    by_extension: false,
};

/// Transfer materials (转学材料): images or PDF, 5 MB.
pub const TRANSFER_MATERIAL: Policy = Policy {
    types: &[JPEG, PNG, PDF],
    max_bytes: MATERIAL_MAX_BYTES,
    accepted: "JPG、PNG 图片或 PDF 文件",
    by_extension: false,
};

/// Dispatch evidence (月调度佐证): PDF, images and Word/Excel documents, 20 MB.
pub const DISPATCH_EVIDENCE: Policy = Policy {
    types: &[PDF, JPEG, PNG, DOCX, XLSX, DOC, XLS],
    max_bytes: EVIDENCE_MAX_BYTES,
    accepted: "PDF、图片（JPG/PNG）或 Word/Excel 文件",
    by_extension: true,
};

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLarge {
        size: usize,
        max: usize,
    },
    /// The bytes are not of an accepted type.
    Content {
        found: Content,
        accepted: &'static str,
    },
    /// The name's extension is not an accepted type.
    Extension {
        ext: String,
        accepted: &'static str,
    },
    /// The bytes are not what the extension says.
    Mismatch {
        ext: String,
        found: Content,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "是空文件"),
            Refusal::TooLarge { size, max } => write!(
                f,
                "有 {:.1} MB，超过 {} MB 的上限",
                *size as f64 / MB as f64,
                max / MB
            ),
            Refusal::Content { found, accepted } => write!(
                f,
                "类型不符（文件内容是{}{}，不是{}{accepted}）",
                spaced(found.label()),
                found.label(),
                spaced(accepted)
            ),
            Refusal::Extension { ext, accepted } => {
                let ext = if ext.is_empty() { "（无）" } else { ext };
                write!(
                    f,
                    "不支持的类型 .{ext}，请上传{}{accepted}",
                    spaced(accepted)
                )
            }
            Refusal::Mismatch { ext, found } => write!(
                f,
                "类型不符（文件内容是{}{}，与扩展名 .{ext} 不符，可能已损坏或改了扩展名）",
                spaced(found.label()),
                found.label()
            ),
        }
    }
}

/// A space between Chinese and a following Latin word.
fn spaced(next: &str) -> &'static str {
    if next.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        " "
    } else {
        ""
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

impl Policy {
    /// The accepted type of a file, or why it is refused: size first, then the type by its bytes
    /// (and, when the extension decides, the bytes must agree with it).
    pub fn check(&self, name: &str, bytes: &[u8]) -> Result<&'static FileType, Refusal> {
        if bytes.is_empty() {
            return Err(Refusal::Empty);
        }
        if bytes.len() > self.max_bytes {
            return Err(Refusal::TooLarge {
                size: bytes.len(),
                max: self.max_bytes,
            });
        }
        let found = Content::sniff(bytes);
        if self.by_extension {
            let ext = extension(name);
            let Some(t) = self
                .types
                .iter()
                .find(|t| t.extensions.contains(&ext.as_str()))
            else {
                return Err(Refusal::Extension {
                    ext,
                    accepted: self.accepted,
                });
            };
            if t.content != found {
                return Err(Refusal::Mismatch { ext, found });
            }
            Ok(t)
        } else {
            self.types
                .iter()
                .find(|t| t.content == found)
                .ok_or(Refusal::Content {
                    found,
                    accepted: self.accepted,
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn materials_go_by_the_bytes() {
        let p = ENROLMENT_MATERIAL;
        assert_eq!(
            p.check("a.png", PNG_BYTES).unwrap().content_type,
            "image/png"
        );
        assert_eq!(
            p.check("scan", b"%PDF-1.4").unwrap().content_type,
            "application/pdf"
        );
        let e = p.check("证明.pdf", b"PK\x03\x04word").unwrap_err();
        assert_eq!(
            e.to_string(),
            "类型不符（文件内容是 ZIP 压缩包，不是图片（JPG、PNG）或 PDF 文件）"
        );
        assert_eq!(p.check("a.png", b""), Err(Refusal::Empty));
        let mut big = PNG_BYTES.to_vec();
        big.resize(MATERIAL_MAX_BYTES + 1, 0);
        assert!(
            p.check("a.png", &big)
                .unwrap_err()
                .to_string()
                .contains("超过 5 MB")
        );
        big.truncate(MATERIAL_MAX_BYTES);
        assert!(p.check("a.png", &big).is_ok());
    }

    #[test]
    fn evidence_goes_by_the_extension_and_the_bytes_must_agree() {
        let p = DISPATCH_EVIDENCE;
        assert_eq!(p.check("表.XLSX", b"PK\x03\x04").unwrap(), &XLSX);
        assert_eq!(p.check("a.doc", &[0xD0, 0xCF, 0x11, 0xE0]).unwrap(), &DOC);
        assert_eq!(
            p.check("佐证.pdf", b"MZ\x90\0"),
            Err(Refusal::Mismatch {
                ext: "pdf".into(),
                found: Content::Executable
            })
        );
        assert!(matches!(
            p.check("a.exe", b"MZ"),
            Err(Refusal::Extension { .. })
        ));
        let mut big = b"%PDF-".to_vec();
        big.resize(EVIDENCE_MAX_BYTES + 1, 0);
        assert!(
            p.check("a.pdf", &big)
                .unwrap_err()
                .to_string()
                .contains("超过 20 MB")
        );
    }
}
