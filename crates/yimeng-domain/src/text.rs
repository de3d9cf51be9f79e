//! Text normalisation shared by every parser: what a spreadsheet or a form gives us is trimmed,
//! full-width ASCII is folded to half-width (Excel users type ＩＤ numbers in full width), and
//! control characters are refused.

/// Trims and folds full-width ASCII (U+FF01..U+FF5E) and the ideographic space to half-width.
/// Borrows when there is nothing to change (the common case: millions of cells per import).
pub fn normalize(input: &str) -> std::borrow::Cow<'_, str> {
    let trim = |c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}';
    // Most cells have nothing to trim: look at the two ends before scanning.
    let trimmed = match (input.chars().next(), input.chars().next_back()) {
        (Some(first), Some(last)) if !trim(first) && !trim(last) => input,
        _ => input.trim_matches(trim),
    };
    // U+3000 is E3 80 80 and U+FF01..U+FF5E are EF BC 81..EF BD 9E in UTF-8: without either
    // lead byte there is nothing to fold, and a byte scan is much cheaper than decoding chars.
    if !trimmed.bytes().any(|b| b == 0xE3 || b == 0xEF)
        || !trimmed
            .chars()
            .any(|c| matches!(c, '\u{3000}' | '\u{ff01}'..='\u{ff5e}'))
    {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        };
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Validates free text (a name, an address): normalised, not empty unless allowed, at most `max`
/// characters, no control characters. Formula- or script-like strings are legal text: they are stored
/// as given and neutralised on export and escaped on display.
pub fn parse_text(input: &str, max: usize, required: bool) -> Result<String, String> {
    let s = normalize(input);
    if s.is_empty() {
        return if required {
            Err("不能为空".into())
        } else {
            Ok(String::new())
        };
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("长度为 {n} 个字符，超过上限 {max}"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err("含有控制字符（如换行、制表符）".into());
    }
    Ok(s.into_owned())
}

/// A short preview of a value for error reports.
pub fn preview(value: &str, max_chars: usize) -> String {
    let mut it = value.chars();
    let head: String = it.by_ref().take(max_chars).collect();
    if it.next().is_some() {
        format!("{head}…（共 {} 字符）", value.chars().count())
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_letters_become_half_width() {
        assert_eq!(normalize("　３７１３０２ｘ "), "371302x");
    }

    #[test]
    fn text_rejects_control_characters_and_overlong_values() {
        assert!(parse_text("张\u{7}三", 20, true).is_err());
        assert!(
            parse_text(&"长".repeat(51), 50, true)
                .unwrap_err()
                .contains("超过上限 50")
        );
        assert_eq!(parse_text("=1+1", 50, true).unwrap(), "=1+1");
        assert!(parse_text("  ", 50, true).is_err());
        assert_eq!(parse_text("  ", 50, false).unwrap(), "");
    }

    #[test]
    fn previews_shorten_huge_values() {
        let p = preview(&"x".repeat(100_000), 10);
        assert!(p.starts_with("xxxxxxxxxx…") && p.contains("100000"));
    }
}
