//! Code lists: enums stored by a stable ASCII code, shown with a Chinese (and English) label.
//!
//! The [`code_list!`] macro gives every list the same behaviour: `code()` for storage, `label()` for
//! Chinese display, `label_en()`, `ALL`, and `parse()` that accepts the Chinese label, the code, the
//! English label or a listed alias — what people type into a spreadsheet.

/// Defines a code list. Each variant: `Variant = "code", "中文", "English" [, "alias", ...]`.
#[macro_export]
macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal $(, $alias:literal)* ; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];
            /// What this list is called in Chinese, for error messages.
            pub const WHAT: &'static str = $what;

            /// The stable storage code.
            pub fn code(self) -> &'static str { match self { $( $name::$variant => $code ),+ } }
            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str { match self { $( $name::$variant => $zh ),+ } }
            /// The English label.
            pub fn label_en(self) -> &'static str { match self { $( $name::$variant => $en ),+ } }
            /// Reads a stored code back; `None` for an unknown code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some($name::$variant), )+ _ => None }
            }
            /// Parses what a person typed: the Chinese label, the code, the English label or an alias.
            pub fn parse(input: &str) -> Result<Self, String> {
                let s = $crate::text::normalize(input);
                let s: &str = &s;
                $(
                    if s == $zh || s == $code || s.eq_ignore_ascii_case($en) $( || s == $alias )* {
                        return Ok($name::$variant);
                    }
                )+
                Err(format!(
                    "不是有效的{}，可填：{}",
                    $what,
                    [$( $zh ),+].join("、")
                ))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.label()) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.code()) }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Parses a yes/no cell: 是/否, Y/N, 1/0, true/false, 有/无. Empty is `None`.
pub fn parse_bool(input: &str) -> Result<Option<bool>, String> {
    let s = crate::text::normalize(input);
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "是" | "有" | "y" | "yes" | "true" | "1" | "√" | "✓" => Ok(Some(true)),
        "否" | "无" | "没有" | "n" | "no" | "false" | "0" | "×" => Ok(Some(false)),
        _ => Err("应填“是”或“否”".to_string()),
    }
}

/// Shows a flag the way the templates and exports write it.
pub fn bool_label(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use super::*;

    code_list! {
        enum Colour: "颜色" {
            Red = "red", "红色", "Red", "红";
            Blue = "blue", "蓝色", "Blue";
        }
    }

    #[test]
    fn parse_accepts_label_code_english_and_alias() {
        assert_eq!(Colour::parse("红色"), Ok(Colour::Red));
        assert_eq!(Colour::parse(" red "), Ok(Colour::Red));
        assert_eq!(Colour::parse("BLUE"), Ok(Colour::Blue));
        assert_eq!(Colour::parse("红"), Ok(Colour::Red));
        let err = Colour::parse("绿").unwrap_err();
        assert!(err.contains("颜色") && err.contains("红色、蓝色"), "{err}");
    }

    #[test]
    fn booleans_read_the_usual_spreadsheet_spellings() {
        assert_eq!(parse_bool("是"), Ok(Some(true)));
        assert_eq!(parse_bool("N"), Ok(Some(false)));
        assert_eq!(parse_bool(""), Ok(None));
        assert!(parse_bool("maybe").is_err());
    }
}
