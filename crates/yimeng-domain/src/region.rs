//! Administrative divisions: GB/T 2260 codes of Linyi (临沂市, 371300), its 12 counties and
//! districts, and the bureau's development zones (NBS statistical codes, not in GB/T 2260).
//!
//! Source: domain-rules §2 — GB/T 2260 and the NBS 统计用区划代码 (S2, S3). The region tree is seeded
//! into the `region` table by migration from the same list; a store test checks they agree.

use serde::{Deserialize, Serialize};

/// A six-digit division code (GB/T 2260, or an NBS statistical code for a development zone).
/// It is also the tenant key `county_id` of every county-owned table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegionCode(i32);

/// 临沂市 Linyi, prefecture-level city.
pub const LINYI: RegionCode = RegionCode(371300);

/// What kind of unit a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RegionKind {
    /// 地级市
    City,
    /// 市辖区
    District,
    /// 县
    County,
    /// 功能区 (development zone) — a reporting unit of the bureau with an NBS statistical code.
    Zone,
}

impl RegionKind {
    /// Storage code.
    pub fn code(self) -> &'static str {
        match self {
            RegionKind::City => "city",
            RegionKind::District => "district",
            RegionKind::County => "county",
            RegionKind::Zone => "zone",
        }
    }
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            RegionKind::City => "地级市",
            RegionKind::District => "市辖区",
            RegionKind::County => "县",
            RegionKind::Zone => "功能区",
        }
    }
}

/// One region of the Linyi tree.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Region {
    /// Division code.
    pub code: RegionCode,
    /// Chinese name.
    pub name: &'static str,
    /// Pinyin name (for English display).
    pub name_en: &'static str,
    /// Kind.
    pub kind: RegionKind,
    /// True for codes in GB/T 2260; false for NBS-only statistical codes (zones).
    pub in_gb2260: bool,
}

/// The county-level reporting units of Linyi, in the bureau's usual order. 兰陵县 was 苍山县
/// until 2014 with the same code (S3). The three zones are present in NBS-derived lists (S2);
/// 371372/371373 are absent from some lists — keep them, the bureau reports on them.
pub const LINYI_UNITS: &[Region] = &[
    r(371302, "兰山区", "Lanshan", RegionKind::District, true),
    r(371311, "罗庄区", "Luozhuang", RegionKind::District, true),
    r(371312, "河东区", "Hedong", RegionKind::District, true),
    r(371321, "沂南县", "Yinan", RegionKind::County, true),
    r(371322, "郯城县", "Tancheng", RegionKind::County, true),
    r(371323, "沂水县", "Yishui", RegionKind::County, true),
    r(371324, "兰陵县", "Lanling", RegionKind::County, true),
    r(371325, "费县", "Feixian", RegionKind::County, true),
    r(371326, "平邑县", "Pingyi", RegionKind::County, true),
    r(371327, "莒南县", "Junan", RegionKind::County, true),
    r(371328, "蒙阴县", "Mengyin", RegionKind::County, true),
    r(371329, "临沭县", "Linshu", RegionKind::County, true),
    r(
        371371,
        "临沂高新技术产业开发区",
        "Linyi High-tech Zone",
        RegionKind::Zone,
        false,
    ),
    r(
        371372,
        "临沂经济技术开发区",
        "Linyi Economic and Technological Development Zone",
        RegionKind::Zone,
        false,
    ),
    r(
        371373,
        "临沂临港经济开发区",
        "Linyi Lingang Economic Development Zone",
        RegionKind::Zone,
        false,
    ),
];

/// The city itself.
pub const LINYI_CITY: Region = r(371300, "临沂市", "Linyi", RegionKind::City, true);

const fn r(
    code: i32,
    name: &'static str,
    name_en: &'static str,
    kind: RegionKind,
    in_gb2260: bool,
) -> Region {
    Region {
        code: RegionCode(code),
        name,
        name_en,
        kind,
        in_gb2260,
    }
}

impl RegionCode {
    /// Wraps a stored code without checks (the store only holds validated codes).
    pub const fn from_i32(code: i32) -> Self {
        RegionCode(code)
    }
    /// The numeric code.
    pub const fn get(self) -> i32 {
        self.0
    }
    /// Parses a six-digit code of any Chinese county-level unit (e.g. a 户籍 county). Only the shape
    /// and province prefix are checked: historical codes stay valid (domain-rules §1.4 rule 5).
    pub fn parse_any(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input);
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("行政区划代码应为 6 位数字".into());
        }
        let code: i32 = s
            .parse()
            .map_err(|_| "行政区划代码应为 6 位数字".to_string())?;
        if !crate::idcard::is_known_province(code / 10_000) {
            return Err("行政区划代码的省级前两位不存在".into());
        }
        Ok(RegionCode(code))
    }
    /// Parses a Linyi county-level unit by code or by its Chinese name (兰山区 / 兰山 / 苍山县 …).
    pub fn parse_linyi_county(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input);
        if let Some(u) = LINYI_UNITS
            .iter()
            .find(|u| u.name == s || u.code.0.to_string() == s || short_name(u.name) == s)
        {
            return Ok(u.code);
        }
        if s == "苍山县" || s == "苍山" {
            return Ok(RegionCode(371324));
        }
        Err("不是临沂市的县区（请填县区名称或 6 位代码，如“兰山区”或 371302）".into())
    }
    /// The Linyi unit with this code, if it is one.
    pub fn linyi_unit(self) -> Option<&'static Region> {
        LINYI_UNITS.iter().find(|u| u.code == self)
    }
    /// Chinese name of a Linyi unit or the city; the bare code otherwise.
    pub fn name(self) -> String {
        if self == LINYI {
            return LINYI_CITY.name.to_string();
        }
        self.linyi_unit()
            .map(|u| u.name.to_string())
            .unwrap_or_else(|| self.0.to_string())
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// "兰山区" → "兰山", "费县" → "费县" (a one-character name keeps its suffix), zones keep their names.
pub fn short_name(name: &str) -> &str {
    let chars = name.chars().count();
    if chars > 2 && (name.ends_with('区') || name.ends_with('县')) && !name.contains("开发区")
    {
        &name[..name.len() - '区'.len_utf8()]
    } else {
        name
    }
}

/// All county-level codes of Linyi, the default scope of the city.
pub fn linyi_county_codes() -> Vec<RegionCode> {
    LINYI_UNITS.iter().map(|u| u.code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linyi_has_twelve_counties_and_districts_and_three_zones() {
        assert_eq!(LINYI_UNITS.iter().filter(|u| u.in_gb2260).count(), 12);
        assert_eq!(
            LINYI_UNITS
                .iter()
                .filter(|u| u.kind == RegionKind::Zone)
                .count(),
            3
        );
        assert!(LINYI_UNITS.iter().all(|u| u.code.get() / 100 == 3713));
    }

    #[test]
    fn counties_parse_by_name_short_name_code_and_old_name() {
        assert_eq!(
            RegionCode::parse_linyi_county("兰山区").unwrap().get(),
            371302
        );
        assert_eq!(
            RegionCode::parse_linyi_county("兰山").unwrap().get(),
            371302
        );
        assert_eq!(
            RegionCode::parse_linyi_county("371325").unwrap().get(),
            371325
        );
        assert_eq!(
            RegionCode::parse_linyi_county("费县").unwrap().get(),
            371325
        );
        assert_eq!(
            RegionCode::parse_linyi_county("苍山县").unwrap().get(),
            371324
        );
        assert!(RegionCode::parse_linyi_county("371402").is_err());
    }

    #[test]
    fn any_region_code_checks_shape_and_province() {
        assert!(
            RegionCode::parse_any("372801").is_ok(),
            "historical codes stay valid"
        );
        assert!(RegionCode::parse_any("991234").is_err());
        assert!(RegionCode::parse_any("3713").is_err());
    }
}
