//! 全国学籍号 (national student number): G + the ID number, or the J/L forms for children without
//! a usable ID number.
//!
//! Source: domain-rules §3.1 (S5, S6): `^G\d{17}[\dX]$`, `^J\d{17}[\dX]$` (J carries a MOD 11-2
//! check like an ID number), `^L\d{18}$` (temporary; no check digit). One person, one number, for life.

use serde::{Deserialize, Serialize};

/// The form of a 学籍号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StudentNoKind {
    /// G — formal number, normally "G" + the ID number.
    G,
    /// J — formal number for a student without a usable ID number.
    J,
    /// L — temporary number given at first registration.
    L,
}

/// A validated 19-character 学籍号.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudentNo(String);

impl StudentNo {
    /// Parses and validates a 学籍号.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input).to_ascii_uppercase();
        let b = s.as_bytes();
        if b.is_empty() {
            return Err("不能为空".into());
        }
        if b.len() != 19 {
            return Err(format!(
                "学籍号应为 19 位（G/J/L 加 18 位），实际为 {} 位",
                s.chars().count()
            ));
        }
        let body = &b[1..];
        match b[0] {
            b'G' | b'J' => {
                if !body[..17].iter().all(u8::is_ascii_digit)
                    || !(body[17].is_ascii_digit() || body[17] == b'X')
                {
                    return Err("G/J 学籍号应为字母加 17 位数字和 1 位数字或 X".into());
                }
                let c = crate::idcard::check_char(&body[..17]);
                if c != body[17] {
                    return Err(format!("学籍号校验位错误：最后一位应为 {}", c as char));
                }
            }
            b'L' => {
                if !body.iter().all(u8::is_ascii_digit) {
                    return Err("L 临时学籍号应为 L 加 18 位数字".into());
                }
            }
            _ => return Err("学籍号应以 G、J 或 L 开头".into()),
        }
        Ok(StudentNo(s))
    }
    /// Wraps a stored value.
    pub fn from_stored(s: String) -> Self {
        StudentNo(s)
    }
    /// The 19 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Which form it is.
    pub fn kind(&self) -> StudentNoKind {
        match self.0.as_bytes()[0] {
            b'G' => StudentNoKind::G,
            b'J' => StudentNoKind::J,
            _ => StudentNoKind::L,
        }
    }
    /// The G number of an ID number.
    pub fn from_id_card(id: &crate::IdCardNo) -> StudentNo {
        StudentNo(format!("G{}", id.as_str()))
    }
    /// True when this is the G number of `id` ([`StudentNo::from_id_card`]), without building it.
    pub fn is_from_id_card(&self, id: &crate::IdCardNo) -> bool {
        self.0.strip_prefix('G') == Some(id.as_str())
    }
    /// Compact numeric key for in-memory duplicate sets (kind in the top bits).
    pub fn key(&self) -> u64 {
        let b = self.0.as_bytes();
        let kind: u64 = match b[0] {
            b'G' => 1,
            b'J' => 2,
            _ => 3,
        };
        let digits: u64 = self.0[1..18].parse().expect("digits");
        let last = match b[18] {
            b'X' => 10,
            d => u64::from(d - b'0'),
        };
        // 17 digits × 11 + last < 1.1e18 < 2^60, so two bits on top stay free for the kind.
        (kind << 61) | (digits * 11 + last)
    }
    /// The number back from [`StudentNo::key`].
    pub fn from_key(key: u64) -> StudentNo {
        let mut s = String::with_capacity(19);
        StudentNo::write_key(key, &mut s);
        StudentNo(s)
    }
    /// Appends the number of [`StudentNo::key`] to `out` (no allocation when `out` has room).
    pub fn write_key(key: u64, out: &mut String) {
        use std::fmt::Write;
        let prefix = match key >> 61 {
            1 => 'G',
            2 => 'J',
            _ => 'L',
        };
        let rest = key & ((1 << 61) - 1);
        let last = (rest % 11) as u8;
        let last = if last == 10 {
            'X'
        } else {
            char::from(b'0' + last)
        };
        let _ = write!(out, "{prefix}{:017}{last}", rest / 11);
    }
    /// True when a compact key is a 学籍号's (not an ID number's).
    pub fn is_student_no_key(key: u64) -> bool {
        key >> 61 != 0
    }
    /// Masked for display like an ID number.
    pub fn masked(&self) -> String {
        crate::idcard::mask(&self.0)
    }
    /// The one rule tying a 学籍号 to the student's 身份证件号 (ID number): a student without an ID
    /// number carries a J or L number, because a G number is issued from an ID number
    /// (domain-rules §3.1, S5/S6). With an ID number any form is allowed (G ≠ G+ID is legal).
    pub fn check_id_presence(&self, id: Option<&crate::IdCardNo>) -> Result<(), String> {
        match (self.kind(), id) {
            (StudentNoKind::G, None) => Err(
                "没有身份证件号的学生，学籍号应为 J 或 L 开头；G 开头的学籍号由身份证件号生成，请填写身份证件号或改填 J/L 学籍号"
                    .into(),
            ),
            _ => Ok(()),
        }
    }
}

impl TryFrom<String> for StudentNo {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        StudentNo::parse(&s)
    }
}
impl From<StudentNo> for String {
    fn from(v: StudentNo) -> String {
        v.0
    }
}
impl std::fmt::Display for StudentNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_without_an_id_number_must_carry_a_j_or_l_number() {
        let g = StudentNo::parse("G371302201509010012").unwrap();
        let err = g.check_id_presence(None).unwrap_err();
        assert!(err.contains("J 或 L"), "{err}");
        let id = crate::IdCardNo::parse("371302201509010012").unwrap();
        assert!(g.check_id_presence(Some(&id)).is_ok());
        let l = StudentNo::parse("L371302201509011234").unwrap();
        assert!(l.check_id_presence(None).is_ok());
        assert!(l.check_id_presence(Some(&id)).is_ok());
    }

    #[test]
    fn g_numbers_carry_the_id_check_digit() {
        assert_eq!(
            StudentNo::parse("G371302201509010012").unwrap().kind(),
            StudentNoKind::G
        );
        assert!(
            StudentNo::parse("G371302201509010013")
                .unwrap_err()
                .contains("校验位")
        );
    }

    #[test]
    fn l_numbers_have_eighteen_digits_without_a_check() {
        assert_eq!(
            StudentNo::parse("L371302201509011234").unwrap().kind(),
            StudentNoKind::L
        );
        assert!(StudentNo::parse("L37130220150901123X").is_err());
    }

    #[test]
    fn other_prefixes_and_lengths_are_refused() {
        assert!(
            StudentNo::parse("X371302201509010012")
                .unwrap_err()
                .contains("G、J 或 L")
        );
        assert!(
            StudentNo::parse("G3713022015090100")
                .unwrap_err()
                .contains("19 位")
        );
    }

    #[test]
    fn a_g_number_is_known_to_come_from_its_id_number_only() {
        let id = crate::IdCardNo::parse("371302201509010012").unwrap();
        let other = crate::IdCardNo::parse("11010519491231002X").unwrap();
        let g = StudentNo::from_id_card(&id);
        assert!(g.is_from_id_card(&id));
        assert!(!g.is_from_id_card(&other));
        let l = StudentNo::parse("L371302201509010012").unwrap();
        assert!(!l.is_from_id_card(&id));
    }

    /// `person_key` is written in compact-key order, which must be its primary key's text order.
    #[test]
    fn compact_keys_sort_like_the_numbers_text() {
        let ids = [
            "11010519491231002X",
            "371302201509010012",
            "371302201509010020",
        ];
        let nos = [
            "G11010519491231002X",
            "G371302201509010012",
            "J11010519491231002X",
            "L000000000000000001",
            "L371302201509011234",
        ];
        let mut all: Vec<(u64, String)> = ids
            .iter()
            .map(|s| {
                let n = crate::IdCardNo::parse(s).unwrap();
                (n.key(), n.as_str().to_string())
            })
            .chain(nos.iter().map(|s| {
                let n = StudentNo::parse(s).unwrap();
                (n.key(), n.as_str().to_string())
            }))
            .collect();
        let mut by_text = all.clone();
        by_text.sort_by(|a, b| a.1.cmp(&b.1));
        all.sort_by_key(|k| k.0);
        assert_eq!(all, by_text);
        let mut text = String::new();
        for (k, s) in &all {
            text.clear();
            if StudentNo::is_student_no_key(*k) {
                StudentNo::write_key(*k, &mut text);
            } else {
                crate::IdCardNo::write_key(*k, &mut text);
            }
            assert_eq!(&text, s);
        }
    }

    #[test]
    fn keys_give_the_number_back() {
        for s in [
            "G371302201509010012",
            "J11010519491231002X",
            "L371302201509011234",
        ] {
            let n = StudentNo::parse(s).unwrap();
            assert_eq!(StudentNo::from_key(n.key()), n);
            assert!(StudentNo::is_student_no_key(n.key()));
        }
        assert!(!StudentNo::is_student_no_key(
            crate::IdCardNo::parse("371302201509010012").unwrap().key()
        ));
    }

    #[test]
    fn keys_differ_between_forms_with_the_same_digits() {
        let g = StudentNo::parse("G371302201509010012").unwrap();
        let j = StudentNo::parse("J371302201509010012").unwrap();
        assert_ne!(g.key(), j.key());
    }
}
