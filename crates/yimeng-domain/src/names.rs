//! Search keys for Chinese names: pinyin initials ("zs" finds 张三), with the surnames whose
//! reading as a surname differs from the common reading (多音字: 单 Shàn, 曾 Zēng, 区 Ōu, 解 Xiè …).

use pinyin::ToPinyin;

/// Surnames read differently from the character's most common reading, with their surname initial.
const SURNAME_INITIALS: &[(char, char)] = &[
    ('单', 's'),
    ('曾', 'z'),
    ('区', 'o'),
    ('解', 'x'),
    ('仇', 'q'),
    ('朴', 'p'),
    ('查', 'z'),
    ('盖', 'g'),
    ('乐', 'y'),
    ('尉', 'y'),
    ('种', 'c'),
    ('员', 'y'),
    ('覃', 'q'),
    ('缪', 'm'),
    ('长', 'c'),
    ('重', 'c'),
    ('召', 's'),
    ('秘', 'b'),
    ('薄', 'b'),
    ('藏', 'z'),
];

/// Lower-case pinyin initials of a name; Latin letters are kept, other characters dropped.
/// 张三 → "zs", 单雄信 → "sxx", Mary·王 → "maryw".
pub fn pinyin_initials(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_alphabetic() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if i == 0
            && let Some((_, init)) = SURNAME_INITIALS.iter().find(|(s, _)| *s == c)
        {
            out.push(*init);
            continue;
        }
        if let Some(p) = c.to_pinyin() {
            out.push_str(p.first_letter());
        }
    }
    out
}

/// True when a search term looks like pinyin initials rather than a name (ASCII letters only).
pub fn looks_like_initials(term: &str) -> bool {
    !term.is_empty() && term.len() <= 10 && term.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_follow_the_surname_readings() {
        assert_eq!(pinyin_initials("张三"), "zs");
        assert_eq!(pinyin_initials("单雄信"), "sxx");
        assert_eq!(pinyin_initials("曾国藩"), "zgf");
        assert_eq!(pinyin_initials("买买提·艾力"), "mmtal");
        assert_eq!(pinyin_initials("=1+1"), "");
    }
}
