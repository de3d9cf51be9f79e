//! 阳光分班: property tests (sizes, determinism, siblings, completeness) and hand-made cases.

use proptest::prelude::*;
use std::collections::BTreeMap;
use yimeng_domain::Sex;
use yimeng_engine::assignment::{Assignment, Child, Sibling, SiblingMode, assign_classes};

fn child(id: i64, sex: Sex, score: Option<f64>) -> Child {
    Child {
        id,
        sex,
        score,
        sibling: None,
    }
}

/// An intake: children with random sexes and (sometimes) scores in half points, and a few
/// sibling groups of 2–3 with a random mode; ids are sparse and unsorted.
fn intake() -> impl Strategy<Value = (Vec<Child>, u32)> {
    let kid = (any::<bool>(), prop::option::weighted(0.8, 0u32..=200));
    (
        prop::collection::vec(kid, 0..90),
        1u32..=7,
        prop::collection::vec((2usize..=3, any::<bool>()), 0..5),
        any::<u64>(),
    )
        .prop_map(|(kids, classes, groups, salt)| {
            let mut children: Vec<Child> = kids
                .into_iter()
                .enumerate()
                .map(|(i, (boy, score))| {
                    child(
                        // Sparse, not in input order.
                        ((i as i64 * 7919) ^ (salt as i64 & 0xFFFF)) * 3 + 11,
                        if boy { Sex::Male } else { Sex::Female },
                        score.map(|s| f64::from(s) / 2.0),
                    )
                })
                .collect();
            let mut next = 0;
            for (g, (size, together)) in groups.into_iter().enumerate() {
                for c in children.iter_mut().skip(next).take(size) {
                    c.sibling = Some(Sibling {
                        group: 1000 + g as i64,
                        mode: if together {
                            SiblingMode::Together
                        } else {
                            SiblingMode::Apart
                        },
                    });
                }
                next += size;
            }
            (children, classes)
        })
}

fn groups(children: &[Child]) -> BTreeMap<i64, (SiblingMode, Vec<i64>)> {
    let mut g: BTreeMap<i64, (SiblingMode, Vec<i64>)> = BTreeMap::new();
    for c in children {
        if let Some(s) = c.sibling {
            g.entry(s.group)
                .or_insert((s.mode, Vec::new()))
                .1
                .push(c.id);
        }
    }
    g
}

fn check_invariants(children: &[Child], classes: u32, a: &Assignment) -> Result<(), TestCaseError> {
    // Every child exactly once.
    prop_assert_eq!(a.placements.len(), children.len());
    let mut ids: Vec<i64> = children.iter().map(|c| c.id).collect();
    ids.sort();
    let placed: Vec<i64> = a.placements.iter().map(|p| p.id).collect();
    prop_assert_eq!(&placed, &ids);
    prop_assert!(a.placements.iter().all(|p| p.class < classes));
    // Sizes differ by at most one, and the figures agree with the placements.
    prop_assert_eq!(a.classes.len(), classes as usize);
    let mut size = vec![0u32; classes as usize];
    for p in &a.placements {
        size[p.class as usize] += 1;
    }
    let (lo, hi) = (size.iter().min().unwrap(), size.iter().max().unwrap());
    prop_assert!(hi - lo <= 1, "sizes {:?}", size);
    prop_assert_eq!(a.summary.max_size_difference, hi - lo);
    for (c, s) in a.classes.iter().zip(&size) {
        prop_assert_eq!(c.size, *s);
        prop_assert_eq!(c.boys + c.girls, c.size);
    }
    // Sibling requests hold.
    for (g, (mode, members)) in groups(children) {
        let mut cls: Vec<u32> = members.iter().map(|&id| a.class_of(id).unwrap()).collect();
        cls.sort();
        match mode {
            SiblingMode::Together => {
                prop_assert!(
                    cls.windows(2).all(|w| w[0] == w[1]),
                    "group {} {:?}",
                    g,
                    cls
                )
            }
            SiblingMode::Apart => {
                prop_assert!(
                    cls.windows(2).all(|w| w[0] != w[1]),
                    "group {} {:?}",
                    g,
                    cls
                )
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn assignments_keep_sizes_siblings_and_every_child((children, classes) in intake(), seed in any::<u64>()) {
        match assign_classes(&children, classes, seed) {
            Ok(a) => check_invariants(&children, classes, &a)?,
            Err(e) => {
                // Only a request that cannot be met may be refused, and the message is Chinese.
                let n = children.len();
                let max = n / classes as usize + usize::from(n % classes as usize > 0);
                match &e {
                    yimeng_engine::EngineError::TogetherGroupTooLarge { size, max: m, .. } => {
                        prop_assert!(*size > *m);
                        prop_assert_eq!(*m, max);
                    }
                    yimeng_engine::EngineError::ApartGroupTooLarge { size, classes: k, .. } => {
                        prop_assert!(*size > *k)
                    }
                    yimeng_engine::EngineError::ApartGroupDoesNotFit { .. }
                    | yimeng_engine::EngineError::TogetherGroupsDoNotFit { .. } => {}
                    other => prop_assert!(false, "unexpected refusal: {other}"),
                }
                prop_assert!(e.to_string().contains("同胞组"));
            }
        }
    }

    #[test]
    fn the_same_children_in_any_order_with_the_same_seed_give_the_same_result(
        (children, classes) in intake(),
        seed in any::<u64>(),
        perm_seed in any::<u64>(),
    ) {
        let mut shuffled = children.clone();
        yimeng_engine::rng::Rng::new(perm_seed).shuffle(&mut shuffled);
        let a = assign_classes(&children, classes, seed);
        let b = assign_classes(&shuffled, classes, seed);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn children_without_siblings_are_always_assigned(
        sexes in prop::collection::vec(any::<bool>(), 0..120),
        classes in 1u32..=9,
        seed in any::<u64>(),
    ) {
        let children: Vec<Child> = sexes
            .iter()
            .enumerate()
            .map(|(i, &b)| child(i as i64, if b { Sex::Male } else { Sex::Female }, None))
            .collect();
        let a = assign_classes(&children, classes, seed).unwrap();
        check_invariants(&children, classes, &a)?;
        // Without scores and siblings the boys' split is as even as integers allow.
        let boys: Vec<u32> = a.classes.iter().map(|c| c.boys).collect();
        let (lo, hi) = (boys.iter().min().unwrap(), boys.iter().max().unwrap());
        prop_assert!(hi - lo <= 1, "boys {:?}", boys);
    }
}

#[test]
fn an_even_intake_splits_boys_and_girls_exactly() {
    let children: Vec<Child> = (0..120)
        .map(|i| {
            child(
                i,
                if i % 2 == 0 { Sex::Male } else { Sex::Female },
                Some(f64::from((i * 37 % 101) as i32)),
            )
        })
        .collect();
    let a = assign_classes(&children, 4, 2026).unwrap();
    for c in &a.classes {
        assert_eq!((c.size, c.boys, c.girls), (30, 15, 15), "{c:?}");
    }
    assert_eq!(a.summary.max_sex_ratio_spread, 0.0);
}

#[test]
fn score_means_end_up_close_together() {
    // Scores 40–100 in a skewed mix; 8 classes of 45.
    let children: Vec<Child> = (0..360)
        .map(|i: i64| {
            let s = 40 + (i * i * 13 + i * 7) % 61;
            child(
                i,
                if i % 3 == 0 { Sex::Female } else { Sex::Male },
                Some(s as f64),
            )
        })
        .collect();
    let a = assign_classes(&children, 8, 7).unwrap();
    let spread = a.summary.max_mean_spread.unwrap();
    assert!(spread < 0.1, "mean spread {spread}");
    assert!(a.summary.max_sex_ratio_spread < 0.03, "{:?}", a.summary);
    for c in &a.classes {
        assert_eq!(c.scored, 45);
        assert!(
            c.score_sd.unwrap() > 10.0,
            "each class keeps the whole range: {c:?}"
        );
    }
}

#[test]
fn twins_asked_together_share_a_class_and_triplets_asked_apart_do_not() {
    let mut children: Vec<Child> = (1..=40)
        .map(|i| {
            child(
                i,
                if i % 2 == 0 { Sex::Male } else { Sex::Female },
                Some(i as f64),
            )
        })
        .collect();
    for c in &mut children[0..2] {
        c.sibling = Some(Sibling {
            group: 1,
            mode: SiblingMode::Together,
        });
    }
    for c in &mut children[2..5] {
        c.sibling = Some(Sibling {
            group: 2,
            mode: SiblingMode::Apart,
        });
    }
    let a = assign_classes(&children, 3, 99).unwrap();
    assert_eq!(a.class_of(1), a.class_of(2));
    let mut apart = [
        a.class_of(3).unwrap(),
        a.class_of(4).unwrap(),
        a.class_of(5).unwrap(),
    ];
    apart.sort();
    assert_eq!(apart, [0, 1, 2]);
}

#[test]
fn a_together_group_larger_than_a_class_is_refused_in_chinese() {
    // 7 children in 3 classes: classes of 3, 2, 2; quadruplets cannot share one.
    let children: Vec<Child> = (0..7)
        .map(|i| Child {
            sibling: (i < 4).then_some(Sibling {
                group: 5,
                mode: SiblingMode::Together,
            }),
            ..child(i, Sex::Female, None)
        })
        .collect();
    let e = assign_classes(&children, 3, 1).unwrap_err();
    assert_eq!(
        e,
        yimeng_engine::EngineError::TogetherGroupTooLarge {
            group: 5,
            size: 4,
            max: 3
        }
    );
    assert!(e.to_string().contains("同胞组 5 共 4 人要求同班"), "{e}");
    assert!(e.to_string().contains("每班最多 3 人"), "{e}");
}

/// Children `0..n`, all boys without scores, the together-group of child `i` given by `group`.
fn grouped(n: i64, group: impl Fn(i64) -> i64) -> Vec<Child> {
    (0..n)
        .map(|i| Child {
            sibling: Some(Sibling {
                group: group(i),
                mode: SiblingMode::Together,
            }),
            ..child(i, Sex::Male, None)
        })
        .collect()
}

#[test]
fn together_groups_that_cannot_all_fit_are_refused() {
    // Classes of 3, 3, 2 hold two trios and a pair.
    assert!(assign_classes(&grouped(8, |i| i / 3), 3, 0).is_ok());
    // Classes of 2 cannot hold a trio.
    let e = assign_classes(&grouped(8, |i| i / 3), 4, 0).unwrap_err();
    assert!(
        matches!(
            e,
            yimeng_engine::EngineError::TogetherGroupTooLarge {
                size: 3,
                max: 2,
                ..
            }
        ),
        "{e}"
    );
    // Two classes of 3 hold two pairs but not a third one.
    let e = assign_classes(&grouped(6, |i| i / 2), 2, 0).unwrap_err();
    assert_eq!(
        e,
        yimeng_engine::EngineError::TogetherGroupsDoNotFit {
            groups: 3,
            children: 6
        }
    );
    assert!(
        e.to_string()
            .contains("无法在各班人数相差不超过 1 人的前提下"),
        "{e}"
    );
}

#[test]
fn an_apart_group_with_more_members_than_classes_is_refused() {
    let children: Vec<Child> = (0..10)
        .map(|i| Child {
            sibling: (i < 3).then_some(Sibling {
                group: 8,
                mode: SiblingMode::Apart,
            }),
            ..child(i, Sex::Male, None)
        })
        .collect();
    let e = assign_classes(&children, 2, 0).unwrap_err();
    assert!(e.to_string().contains("只有 2 个班"), "{e}");
}

#[test]
fn mixed_modes_in_one_group_and_bad_input_are_refused() {
    let mut children = vec![child(1, Sex::Male, None), child(2, Sex::Male, None)];
    children[0].sibling = Some(Sibling {
        group: 3,
        mode: SiblingMode::Apart,
    });
    children[1].sibling = Some(Sibling {
        group: 3,
        mode: SiblingMode::Together,
    });
    assert_eq!(
        assign_classes(&children, 2, 0).unwrap_err(),
        yimeng_engine::EngineError::MixedSiblingModes { group: 3 }
    );
    assert_eq!(
        assign_classes(&[], 0, 0).unwrap_err(),
        yimeng_engine::EngineError::NoClasses
    );
    let dup = vec![child(1, Sex::Male, None), child(1, Sex::Female, None)];
    assert_eq!(
        assign_classes(&dup, 1, 0).unwrap_err(),
        yimeng_engine::EngineError::DuplicateChild { id: 1 }
    );
    let nan = vec![child(1, Sex::Male, Some(f64::NAN))];
    assert!(
        assign_classes(&nan, 1, 0)
            .unwrap_err()
            .to_string()
            .contains("不是有效数字")
    );
}

#[test]
fn different_seeds_draw_different_classes() {
    let children: Vec<Child> = (0..90)
        .map(|i| {
            child(
                i,
                if i % 2 == 0 { Sex::Male } else { Sex::Female },
                Some((i % 17) as f64),
            )
        })
        .collect();
    let a = assign_classes(&children, 3, 1).unwrap();
    let b = assign_classes(&children, 3, 2).unwrap();
    assert_ne!(a.placements, b.placements);
    assert_eq!(a.seed, 1);
}

#[test]
fn an_empty_intake_gives_empty_classes() {
    let a = assign_classes(&[], 3, 0).unwrap();
    assert!(a.placements.is_empty());
    assert_eq!(a.classes.len(), 3);
    assert_eq!(a.summary.max_size_difference, 0);
    assert_eq!(a.summary.max_mean_spread, None);
}
