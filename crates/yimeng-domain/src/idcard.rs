//! 公民身份号码 (resident identity number), GB 11643-1999, and its 15-digit legacy form.
//!
//! Source: domain-rules §1 (S1): 6-digit address code, 8-digit birth date, 3-digit sequence whose
//! last digit is odd for men, and an ISO 7064 MOD 11-2 check character.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Sex, coded per GB/T 2261.1 (1 = 男, 2 = 女).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// 男
    Male,
    /// 女
    Female,
}

impl Sex {
    /// GB/T 2261.1 code.
    pub fn code(self) -> i16 {
        match self {
            Sex::Male => 1,
            Sex::Female => 2,
        }
    }
    /// From a stored code.
    pub fn from_code(c: i16) -> Option<Sex> {
        match c {
            1 => Some(Sex::Male),
            2 => Some(Sex::Female),
            _ => None,
        }
    }
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Sex::Male => "Male",
            Sex::Female => "Female",
        }
    }
    /// Parses 男/女, 1/2, M/F.
    pub fn parse(input: &str) -> Result<Sex, String> {
        match crate::text::normalize(input).to_ascii_lowercase().as_str() {
            "男" | "1" | "m" | "male" | "男性" => Ok(Sex::Male),
            "女" | "2" | "f" | "female" | "女性" => Ok(Sex::Female),
            _ => Err("性别应填“男”或“女”".into()),
        }
    }
}

/// Weights of positions 1..17: `W_i = 2^(17-i) mod 11` (GB 11643-1999).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by `S mod 11`.
const CHECK: &[u8; 11] = b"10X98765432";
/// Earliest plausible birth date (domain-rules §1.4 rule 4: do not reject pre-1900 dates blindly).
pub const EARLIEST_BIRTH: NaiveDate = match NaiveDate::from_ymd_opt(1880, 1, 1) {
    Some(d) => d,
    None => panic!(),
};

/// Computes the MOD 11-2 check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let s: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(s % 11) as usize]
}

/// Province-level prefixes that exist (domain-rules §1.4 rule 5), plus 81/82/83 for
/// 港澳台居民居住证.
pub fn is_known_province(p: i32) -> bool {
    matches!(p, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 81..=83)
}

/// A validated 18-character identity number (normalised: upper-case `X`, half-width).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdCardNo(String);

impl IdCardNo {
    /// Parses and validates: 18 digits (last may be X) with a correct check character, or a 15-digit
    /// legacy number which is upgraded to 18 (§1.3); a real birth date not before 1880; a province
    /// prefix that exists. The birth date is not compared with today here: see [`IdCardNo::check_not_future`].
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input).to_ascii_uppercase();
        let b = s.as_bytes();
        let s = match b.len() {
            18 => {
                if !b[..17].iter().all(u8::is_ascii_digit)
                    || !(b[17].is_ascii_digit() || b[17] == b'X')
                {
                    return Err("身份证件号应为 18 位：17 位数字加 1 位数字或 X".into());
                }
                let expected = check_char(&b[..17]);
                if expected != b[17] {
                    return Err(format!(
                        "校验位错误：按 GB 11643 计算第 18 位应为 {}",
                        expected as char
                    ));
                }
                s
            }
            15 => {
                if !b.iter().all(u8::is_ascii_digit) {
                    return Err("15 位旧身份证号应全部为数字".into());
                }
                // GB 11643-1989 numbers carry a 2-digit year, implicitly 19xx; the 1999 form adds the
                // century and a check character.
                let mut up = String::with_capacity(18);
                up.push_str(&s[..6]);
                up.push_str("19");
                up.push_str(&s[6..15]);
                let c = check_char(up.as_bytes());
                up.push(c as char);
                up
            }
            0 => return Err("不能为空".into()),
            n => {
                return Err(format!(
                    "身份证件号应为 18 位（或 15 位旧号），实际为 {n} 位"
                ));
            }
        };
        let province: i32 = s[..2].parse().unwrap_or(0);
        // 2023 foreign permanent-resident cards start with 9 and use the same check (§1.4 rule 6).
        if !is_known_province(province) && province / 10 != 9 {
            return Err(format!("前两位 {} 不是有效的省级行政区划代码", &s[..2]));
        }
        let birth =
            birth_of(&s).ok_or_else(|| format!("第 7–14 位 {} 不是有效的出生日期", &s[6..14]))?;
        if birth < EARLIEST_BIRTH {
            return Err(format!("出生日期 {birth} 早于 1880 年，不合理"));
        }
        Ok(IdCardNo(s))
    }

    /// Wraps a number already validated and stored.
    pub fn from_stored(s: String) -> Self {
        IdCardNo(s)
    }
    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Birth date from positions 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        birth_of(&self.0).expect("validated on parse")
    }
    /// Sex from the 17th digit: odd = male.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
    /// The address code (positions 1–6): the place of registration when the number was issued.
    pub fn address_code(&self) -> i32 {
        self.0[..6].parse().expect("digits")
    }
    /// True for a 2023-style foreign permanent-resident card (starts with 9).
    pub fn is_foreign_permanent_resident(&self) -> bool {
        self.0.starts_with('9')
    }
    /// Refuses a birth date after `today`.
    pub fn check_not_future(&self, today: NaiveDate) -> Result<(), String> {
        if self.birth_date() > today {
            Err(format!("证件号中的出生日期 {} 晚于今天", self.birth_date()))
        } else {
            Ok(())
        }
    }
    /// Shown masked to users without the personal-data right: 3713**********123X.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
    /// A compact numeric key (first 17 digits × 11 + check value) used for in-memory duplicate sets.
    pub fn key(&self) -> u64 {
        let b = self.0.as_bytes();
        let body: u64 = self.0[..17].parse().expect("digits");
        let c = if b[17] == b'X' {
            10
        } else {
            u64::from(b[17] - b'0')
        };
        body * 11 + c
    }
    /// The number back from [`IdCardNo::key`].
    pub fn from_key(key: u64) -> IdCardNo {
        let mut s = String::with_capacity(18);
        IdCardNo::write_key(key, &mut s);
        IdCardNo(s)
    }
    /// Appends the number of [`IdCardNo::key`] to `out` (no allocation when `out` has room).
    pub fn write_key(key: u64, out: &mut String) {
        use std::fmt::Write;
        let c = (key % 11) as u8;
        let check = if c == 10 { 'X' } else { char::from(b'0' + c) };
        let _ = write!(out, "{:017}{check}", key / 11);
    }
    /// Builds a valid number from its parts (used by the demo generator and tests).
    pub fn compose(address: i32, birth: NaiveDate, seq: u16) -> IdCardNo {
        let mut s = format!(
            "{:06}{:04}{:02}{:02}{:03}",
            address,
            birth.year(),
            birth.month(),
            birth.day(),
            seq % 1000
        );
        let c = check_char(s.as_bytes());
        s.push(c as char);
        IdCardNo(s)
    }
}

/// Masks the middle of an identity-like number, keeping the first 4 and last 4 characters.
pub fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    let head: String = s.chars().take(4).collect();
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 8))
}

fn birth_of(s: &str) -> Option<NaiveDate> {
    let y: i32 = s.get(6..10)?.parse().ok()?;
    let m: u32 = s.get(10..12)?.parse().ok()?;
    let d: u32 = s.get(12..14)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

impl TryFrom<String> for IdCardNo {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        IdCardNo::parse(&s)
    }
}
impl From<IdCardNo> for String {
    fn from(v: IdCardNo) -> String {
        v.0
    }
}
impl std::fmt::Display for IdCardNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Age in full years (周岁) on `on`: a Feb-29 birthday counts on Mar-1 in common years
/// (domain-rules §0).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    on.year() - birth.year() - i32::from((on.month(), on.day()) < (birth.month(), birth.day()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_examples_validate() {
        let a = IdCardNo::parse("11010519491231002X").unwrap();
        assert_eq!(
            a.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(a.sex(), Sex::Female);
        let b = IdCardNo::parse("440524188001010014").unwrap();
        assert_eq!(b.birth_date().year(), 1880);
        let c = IdCardNo::parse("371302201509010012").unwrap();
        assert_eq!(c.sex(), Sex::Male);
        assert_eq!(c.address_code(), 371302);
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_the_expected_digit() {
        let e = IdCardNo::parse("371302201509010013").unwrap_err();
        assert!(e.contains("校验位错误") && e.contains("应为 2"), "{e}");
    }

    #[test]
    fn lower_case_x_and_full_width_digits_are_normalised() {
        assert_eq!(
            IdCardNo::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            IdCardNo::parse("３７１３０２２０１５０９０１００１２")
                .unwrap()
                .as_str(),
            "371302201509010012"
        );
    }

    #[test]
    fn fifteen_digit_legacy_numbers_are_upgraded() {
        let v = IdCardNo::parse("371302880101002").unwrap();
        assert_eq!(v.as_str(), "371302198801010023");
        assert_eq!(v.sex(), Sex::Female);
    }

    #[test]
    fn impossible_dates_and_provinces_are_refused() {
        let bad_date = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(), 1);
        let mut s = bad_date.as_str().to_string();
        s.replace_range(10..14, "0230");
        s.truncate(17);
        let c = check_char(s.as_bytes());
        s.push(c as char);
        assert!(
            IdCardNo::parse(&s)
                .unwrap_err()
                .contains("不是有效的出生日期")
        );
        let mut p = String::from("99130220150901001");
        p.replace_range(0..2, "19");
        let c = check_char(p.as_bytes());
        p.push(c as char);
        assert!(IdCardNo::parse(&p).unwrap_err().contains("省级"));
    }

    #[test]
    fn compose_builds_numbers_that_parse_back() {
        let d = NaiveDate::from_ymd_opt(2012, 2, 29).unwrap();
        for seq in [0u16, 1, 2, 999] {
            let id = IdCardNo::compose(371324, d, seq);
            let back = IdCardNo::parse(id.as_str()).unwrap();
            assert_eq!(back.birth_date(), d);
            assert_eq!(back.sex() == Sex::Male, seq % 2 == 1);
        }
    }

    #[test]
    fn keys_are_distinct_for_x_and_digit_check_characters() {
        let a = IdCardNo::parse("11010519491231002X").unwrap();
        assert_eq!(a.key() % 11, 10);
    }

    #[test]
    fn keys_give_the_number_back() {
        for s in [
            "11010519491231002X",
            "371302201509010012",
            "440524188001010014",
        ] {
            let id = IdCardNo::parse(s).unwrap();
            assert_eq!(IdCardNo::from_key(id.key()), id);
        }
    }

    #[test]
    fn masking_keeps_four_characters_at_each_end() {
        assert_eq!(mask("371302201509010012"), "3713**********0012");
    }

    #[test]
    fn age_counts_full_years_and_leap_birthdays() {
        let b = NaiveDate::from_ymd_opt(2012, 2, 29).unwrap();
        assert_eq!(age_on(b, NaiveDate::from_ymd_opt(2018, 2, 28).unwrap()), 5);
        assert_eq!(age_on(b, NaiveDate::from_ymd_opt(2018, 3, 1).unwrap()), 6);
    }
}
