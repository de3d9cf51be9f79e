//! Who may see what. A [`Scope`] is a capability: it comes only from an authenticated session, an
//! API token, or the operator's command line, and every registry read and write takes it.
//!
//! Every scope names its counties, so every query on a county-owned table can filter `county_id`
//! (design.md, scale-out rule 5).

use crate::RegionCode;
use serde::Serialize;

/// A school identified within its county (the store's primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SchoolRef {
    /// Tenant key.
    pub county: RegionCode,
    /// School id.
    pub id: i64,
}

/// The part of the registry an actor may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// The whole city: every county and zone.
    City,
    /// One county bureau.
    County(RegionCode),
    /// One school.
    School(SchoolRef),
    /// An inspector's assigned schools (possibly in several counties).
    Schools(Vec<SchoolRef>),
    /// No registry data (the public).
    Nothing,
}

impl Scope {
    /// The counties the scope touches (never empty except for `Nothing`).
    pub fn counties(&self) -> Vec<RegionCode> {
        match self {
            Scope::City => crate::region::linyi_county_codes(),
            Scope::County(c) => vec![*c],
            Scope::School(s) => vec![s.county],
            Scope::Schools(v) => {
                let mut c: Vec<RegionCode> = v.iter().map(|s| s.county).collect();
                c.sort();
                c.dedup();
                c
            }
            Scope::Nothing => Vec::new(),
        }
    }
    /// The schools the scope is limited to, or `None` when it covers whole counties.
    pub fn schools(&self) -> Option<Vec<SchoolRef>> {
        match self {
            Scope::City | Scope::County(_) => None,
            Scope::School(s) => Some(vec![*s]),
            Scope::Schools(v) => Some(v.clone()),
            Scope::Nothing => Some(Vec::new()),
        }
    }
    /// Whether a county is visible at all.
    pub fn covers_county(&self, county: RegionCode) -> bool {
        self.counties().contains(&county)
    }
    /// Whether a whole county is visible (all its schools).
    pub fn covers_whole_county(&self, county: RegionCode) -> bool {
        match self {
            Scope::City => true,
            Scope::County(c) => *c == county,
            _ => false,
        }
    }
    /// The part of this scope that is one whole county, when the scope covers all of it (a city
    /// user drilling down to a county); `None` otherwise. Narrowing never widens a scope.
    pub fn narrow_to_county(&self, county: RegionCode) -> Option<Scope> {
        self.covers_whole_county(county)
            .then_some(Scope::County(county))
    }
    /// The part of this scope that is one school, when the scope covers it; `None` otherwise.
    pub fn narrow_to_school(&self, county: RegionCode, school_id: i64) -> Option<Scope> {
        self.covers_school(county, school_id)
            .then_some(Scope::School(SchoolRef {
                county,
                id: school_id,
            }))
    }
    /// Whether one school is visible.
    pub fn covers_school(&self, county: RegionCode, school_id: i64) -> bool {
        match self {
            Scope::City | Scope::County(_) => self.covers_county(county),
            Scope::School(s) => s.county == county && s.id == school_id,
            Scope::Schools(v) => v.iter().any(|s| s.county == county && s.id == school_id),
            Scope::Nothing => false,
        }
    }
}

crate::code_list! {
    /// Roles (design.md "Who uses it").
    pub enum Role: "角色" {
        /// 市局管理员: accounts, catalogues, plans; the registry read-only.
        CityAdmin = "city_admin", "市局管理员", "City administrator";
        /// 市局科室: owns plan items, runs city-wide jobs; the registry read-only.
        CityDept = "city_dept", "市局科室", "City department";
        /// 县区教育局: its county's schools, classes, students and staff.
        County = "county", "县区教育局", "County bureau";
        /// 学校管理员: one school's rosters, classes and staff.
        School = "school", "学校管理员", "School administrator";
        /// 督学: assigned schools, read-only.
        Inspector = "inspector", "督学", "Inspector";
        /// 公众
        Public = "public", "公众", "Public";
    }
}

impl Role {
    /// May change registry data (schools, classes, students, staff) within the scope.
    pub fn can_write_registry(self) -> bool {
        matches!(self, Role::County | Role::School)
    }
    /// May create and change schools themselves (a school administrator edits its own record's
    /// facility fields but cannot create schools).
    pub fn can_create_schools(self) -> bool {
        matches!(self, Role::County)
    }
    /// 个人信息权限: may see unmasked ID numbers on a record's own page (design: personal data is
    /// shown to those who manage the 学籍, i.e. county bureaus and schools).
    pub fn has_personal_data_right(self) -> bool {
        matches!(self, Role::County | Role::School)
    }
    /// May manage accounts.
    pub fn can_manage_users(self) -> bool {
        self == Role::CityAdmin
    }
    /// May browse the audit log.
    pub fn can_read_audit(self) -> bool {
        self == Role::CityAdmin
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn narrowing_keeps_to_what_the_scope_covers() {
        let lanshan = RegionCode::from_i32(371302);
        let feixian = RegionCode::from_i32(371325);
        assert_eq!(
            Scope::City.narrow_to_county(lanshan),
            Some(Scope::County(lanshan))
        );
        assert_eq!(Scope::County(lanshan).narrow_to_county(feixian), None);
        let school = SchoolRef {
            county: lanshan,
            id: 7,
        };
        assert_eq!(Scope::School(school).narrow_to_county(lanshan), None);
        assert_eq!(
            Scope::County(lanshan).narrow_to_school(lanshan, 7),
            Some(Scope::School(school))
        );
        assert_eq!(Scope::School(school).narrow_to_school(lanshan, 8), None);
        assert_eq!(Scope::Nothing.narrow_to_school(lanshan, 7), None);
    }

    use super::*;

    #[test]
    fn every_scope_but_nothing_names_its_counties() {
        assert_eq!(Scope::City.counties().len(), 15);
        let c = RegionCode::from_i32(371302);
        assert_eq!(Scope::County(c).counties(), vec![c]);
        let s = Scope::Schools(vec![
            SchoolRef { county: c, id: 1 },
            SchoolRef { county: c, id: 2 },
        ]);
        assert_eq!(s.counties(), vec![c]);
        assert!(s.covers_school(c, 2) && !s.covers_school(c, 3));
        assert!(Scope::Nothing.counties().is_empty());
    }

    #[test]
    fn a_county_scope_does_not_cover_another_county() {
        let a = RegionCode::from_i32(371302);
        let b = RegionCode::from_i32(371311);
        assert!(!Scope::County(a).covers_school(b, 1));
        assert!(Scope::County(a).covers_school(a, 1));
    }
}
