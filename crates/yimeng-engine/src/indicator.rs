//! 指标计算 (indicator math): the plan's computed indicators over [`SchoolFacts`]. Facts are
//! summed into [`Totals`] per school, county and city; each [`Computation`] then reads its
//! numerator and denominator from a region's totals. Summing first and dividing last keeps every
//! figure a ratio of counts, so the city value is never an average of county percentages.

use std::collections::BTreeMap;
use yimeng_domain::facts::{ClassCounts, SchoolFacts};
use yimeng_domain::plan::{Computation, IndicatorKind};
use yimeng_domain::school::SchoolType;

/// The counts of one region (or one school) that every computation reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Schools and kindergartens.
    pub schools: i64,
    /// Class-size counts.
    pub classes: ClassCounts,
    /// Children on kindergarten rolls.
    pub kg_roll: i64,
    /// Of those, in 公办 kindergartens.
    pub kg_public: i64,
    /// Of those, in 公办 or 普惠性民办 kindergartens.
    pub kg_inclusive: i64,
    /// 高一 students.
    pub senior_first_year: i64,
    /// 中职一年级 students.
    pub vocational_first_year: i64,
    /// 专任教师 recruited in the plan year.
    pub teachers_recruited: i64,
    /// 公费师范生 hired in the plan year at rural schools.
    pub rural_funded_normal: i64,
    /// 中心小学以上学校.
    pub central_or_above: i64,
    /// Of those, with gigabit fibre.
    pub central_or_above_gigabit: i64,
    /// Schools with 专职保安.
    pub security_guard: i64,
    /// Schools under 封闭化管理.
    pub closed_campus: i64,
    /// Schools with 一键式报警和视频监控.
    pub alarm_and_video: i64,
    /// Schools with 护学岗.
    pub guard_post: i64,
    /// Schools with all four.
    pub all_four_safety: i64,
    /// 特殊教育学校.
    pub special_schools: i64,
}

impl Totals {
    /// The totals of one school.
    pub fn of_school(f: &SchoolFacts) -> Totals {
        let mut t = Totals::default();
        t.add_school(f);
        t
    }
    /// Adds one school.
    pub fn add_school(&mut self, f: &SchoolFacts) {
        let b = i64::from;
        self.schools += 1;
        self.classes.add(&f.classes);
        self.kg_roll += f.kg_roll;
        if f.is_public() {
            self.kg_public += f.kg_roll;
        }
        if f.is_inclusive() {
            self.kg_inclusive += f.kg_roll;
        }
        self.senior_first_year += f.senior_first_year;
        self.vocational_first_year += f.vocational_first_year;
        self.teachers_recruited += f.teachers_recruited;
        if f.is_rural_placement() {
            self.rural_funded_normal += f.funded_normal_hired;
        }
        if f.is_central_or_above() {
            self.central_or_above += 1;
            self.central_or_above_gigabit += b(f.has_gigabit());
        }
        self.security_guard += b(f.security_guard);
        self.closed_campus += b(f.closed_campus);
        self.alarm_and_video += b(f.alarm_and_video);
        self.guard_post += b(f.guard_post);
        self.all_four_safety += b(f.all_four_safety());
        self.special_schools += b(f.school_type == SchoolType::Special);
    }
    /// Adds another region's totals.
    pub fn add(&mut self, o: &Totals) {
        self.schools += o.schools;
        self.classes.add(&o.classes);
        self.kg_roll += o.kg_roll;
        self.kg_public += o.kg_public;
        self.kg_inclusive += o.kg_inclusive;
        self.senior_first_year += o.senior_first_year;
        self.vocational_first_year += o.vocational_first_year;
        self.teachers_recruited += o.teachers_recruited;
        self.rural_funded_normal += o.rural_funded_normal;
        self.central_or_above += o.central_or_above;
        self.central_or_above_gigabit += o.central_or_above_gigabit;
        self.security_guard += o.security_guard;
        self.closed_campus += o.closed_campus;
        self.alarm_and_video += o.alarm_and_video;
        self.guard_post += o.guard_post;
        self.all_four_safety += o.all_four_safety;
        self.special_schools += o.special_schools;
    }
}

/// What a region's figure is made of, beside its totals: the preschool population it divides by
/// and the county-level units it holds that count for the special-school coverage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Denominators {
    /// Resident population aged 3–5 (学前三年毛入园率的分母), when entered.
    pub population_3_5: Option<i64>,
    /// County-level units of the region counted by the special-school coverage.
    pub units: i64,
    /// Of those, units with at least one special-education school.
    pub units_with_special_school: i64,
}

/// One computed figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// Numerator.
    pub numerator: i64,
    /// Denominator (1 for counts).
    pub denominator: i64,
    /// The value by the computation's kind; `None` when the denominator is empty or missing.
    pub value: Option<f64>,
}

/// Computes one indicator for a region from its totals.
pub fn measure(c: Computation, t: &Totals, d: &Denominators) -> Measure {
    use Computation::*;
    let k = &t.classes;
    let (numerator, denominator) = match c {
        Classes56PlusCount | Classes56PlusShare => (k.big, k.classes),
        Classes66PlusCount | Classes66PlusShare => (k.huge, k.classes),
        Classes56To65Share => (k.big - k.huge, k.classes),
        StartGradeOver55Count => (k.starting_over_55, k.starting),
        ClassesOverStandardCount | ClassesOverStandardShare => (k.over_standard, k.standard),
        PreschoolGrossEnrolment => match d.population_3_5 {
            Some(p) => (t.kg_roll, p),
            None => {
                return Measure {
                    numerator: t.kg_roll,
                    denominator: 0,
                    value: None,
                };
            }
        },
        InclusiveKgCoverage => (t.kg_inclusive, t.kg_roll),
        PublicKgCoverage => (t.kg_public, t.kg_roll),
        TeachersRecruited => (t.teachers_recruited, 1),
        RuralFundedNormalPlaced => (t.rural_funded_normal, 1),
        VocationalGeneralRatio => (t.vocational_first_year, t.senior_first_year),
        CountiesWithSpecialSchool => (d.units_with_special_school, d.units),
        GigabitCentralAndAboveShare => (t.central_or_above_gigabit, t.central_or_above),
        SafetyGuardShare => (t.security_guard, t.schools),
        ClosedCampusShare => (t.closed_campus, t.schools),
        AlarmVideoShare => (t.alarm_and_video, t.schools),
        GuardPostShare => (t.guard_post, t.schools),
        SafetyAllFourShare => (t.all_four_safety, t.schools),
    };
    let kind = c.kind();
    // A count over an empty denominator is still a count (0 classes of 56+ in a county with no
    // classes), but a share of nothing has no value.
    let value = match kind {
        IndicatorKind::Count => Some(numerator as f64),
        _ => kind.value(numerator, denominator),
    };
    Measure {
        numerator,
        denominator,
        value,
    }
}

/// Totals of the city and of each county, summed from school facts.
#[derive(Debug, Clone, Default)]
pub struct RegionTotals {
    /// The whole city (or whatever the facts cover).
    pub city: Totals,
    /// Per county code.
    pub counties: BTreeMap<i32, Totals>,
}

/// Sums school facts into county and city totals.
pub fn region_totals<'a>(facts: impl IntoIterator<Item = &'a SchoolFacts>) -> RegionTotals {
    let mut r = RegionTotals::default();
    for f in facts {
        r.counties.entry(f.county).or_default().add_school(f);
    }
    for t in r.counties.values() {
        r.city.add(t);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use yimeng_domain::Grade;
    use yimeng_domain::school::{LocationClass, Ownership};

    fn school(county: i32, t: SchoolType) -> SchoolFacts {
        SchoolFacts {
            county,
            school_id: 1,
            code: "3713020001".into(),
            name: "测试学校".into(),
            school_type: t,
            ownership: Ownership::Public,
            inclusive: false,
            location: LocationClass::Urban,
            central: false,
            bandwidth_mbps: None,
            security_guard: true,
            closed_campus: true,
            alarm_and_video: true,
            guard_post: false,
            classes: ClassCounts::default(),
            kg_roll: 0,
            senior_first_year: 0,
            vocational_first_year: 0,
            teachers_recruited: 0,
            funded_normal_hired: 0,
        }
    }

    #[test]
    fn the_city_share_of_big_classes_is_a_ratio_of_counts_not_a_mean_of_county_shares() {
        let mut a = school(371302, SchoolType::Primary);
        for size in [56, 40, 40, 40] {
            a.classes.add_class(Grade::P3, size);
        }
        let mut b = school(371311, SchoolType::Primary);
        b.classes.add_class(Grade::P3, 70);
        let r = region_totals([&a, &b]);
        let d = Denominators::default();
        let city = measure(Computation::Classes56PlusShare, &r.city, &d);
        assert_eq!((city.numerator, city.denominator), (2, 5));
        assert_eq!(city.value, Some(40.0));
        let lanshan = measure(Computation::Classes56PlusShare, &r.counties[&371302], &d);
        assert_eq!(lanshan.value, Some(25.0));
        let huge = measure(Computation::Classes66PlusCount, &r.city, &d);
        assert_eq!(huge.value, Some(1.0));
        let mid = measure(Computation::Classes56To65Share, &r.city, &d);
        assert_eq!(mid.value, Some(20.0));
    }

    #[test]
    fn preschool_coverage_counts_children_in_public_and_inclusive_kindergartens() {
        let mut public = school(371302, SchoolType::Kindergarten);
        public.kg_roll = 300;
        let mut inclusive = school(371302, SchoolType::Kindergarten);
        inclusive.ownership = Ownership::Private;
        inclusive.inclusive = true;
        inclusive.kg_roll = 100;
        let mut private = school(371302, SchoolType::Kindergarten);
        private.ownership = Ownership::Private;
        private.kg_roll = 100;
        let r = region_totals([&public, &inclusive, &private]);
        let d = Denominators {
            population_3_5: Some(600),
            ..Default::default()
        };
        let v = |c| measure(c, &r.city, &d).value;
        assert_eq!(v(Computation::InclusiveKgCoverage), Some(80.0));
        assert_eq!(v(Computation::PublicKgCoverage), Some(60.0));
        let gross = v(Computation::PreschoolGrossEnrolment).unwrap();
        assert!((gross - 500.0 * 100.0 / 600.0).abs() < 1e-9);
        let none = measure(
            Computation::PreschoolGrossEnrolment,
            &r.city,
            &Denominators::default(),
        );
        assert_eq!(none.value, None, "no population entered, no rate");
    }

    #[test]
    fn safety_shares_and_gigabit_access_count_schools() {
        let mut a = school(371302, SchoolType::Junior);
        a.bandwidth_mbps = Some(1000);
        a.guard_post = true;
        let mut b = school(371302, SchoolType::Primary);
        b.bandwidth_mbps = Some(100); // not central: outside the gigabit denominator
        let mut c = school(371302, SchoolType::Primary);
        c.central = true;
        c.bandwidth_mbps = Some(500);
        let r = region_totals([&a, &b, &c]);
        let d = Denominators::default();
        let v = |k| measure(k, &r.city, &d).value;
        assert_eq!(v(Computation::GigabitCentralAndAboveShare), Some(50.0));
        assert_eq!(v(Computation::SafetyGuardShare), Some(100.0));
        let all = v(Computation::SafetyAllFourShare).unwrap();
        assert!((all - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn rural_funded_normal_graduates_count_only_in_rural_placements() {
        let mut town = school(371321, SchoolType::Primary);
        town.location = LocationClass::Town;
        town.funded_normal_hired = 3;
        let mut urban = school(371321, SchoolType::Primary);
        urban.funded_normal_hired = 5;
        let r = region_totals([&town, &urban]);
        let m = measure(
            Computation::RuralFundedNormalPlaced,
            &r.city,
            &Denominators::default(),
        );
        assert_eq!(m.value, Some(3.0));
    }
}
