//! 阳光分班 (balanced class assignment): splits a school's accepted new intake into classes that
//! are as alike as possible, reproducibly from a published seed.
//!
//! Rules (from issue 5 and the common practice of 阳光分班 notices: "均衡编班、随机分配、公开透明"):
//! 1. **Hard:** class sizes differ by at most one (`n = q·k + r`: `r` classes of `q + 1`, the
//!    others `q`). Siblings asked to be together (同班) share a class; siblings asked to be apart
//!    (分班) are in different classes. If that cannot be met, the result is an error in Chinese,
//!    never a silently broken rule.
//! 2. **Soft, in this order:** (a) the share of boys per class as even as possible; (b) children
//!    with a score spread evenly (so a class mean is never computed over a handful of children);
//!    (c) score means as even as possible.
//! 3. **Reproducible:** the input is sorted by the stable id first, so the same children in any
//!    order with the same seed give the same result on every machine (the generator is
//!    [`crate::rng::Rng`], pinned in this crate).
//!
//! Method (documented so that a published result can be re-derived by hand):
//! 1. Sort by id, validate, then shuffle a copy of the order with the seed; the shuffled rank is
//!    the only random input and breaks every tie below.
//! 2. Pack the together-groups (largest first) into the classes with the most room (worst fit);
//!    when that fails, an exhaustive search with symmetry pruning (bounded at
//!    [`PACKING_SEARCH_LIMIT`] steps) looks for a packing before the request is refused.
//! 3. Place each apart-group's members in the classes with the most room left, one per class.
//! 4. Deal the remaining children S-shaped (蛇形, serpentine: 1→k, k→1, 1→k …) in the order
//!    girls then boys, each by score from high to low (children without a score last), skipping
//!    full classes.
//! 5. Local improvement: repeated passes over every pair of movable children in different
//!    classes (and every move of one child from a class of `q + 1` to a class of `q`, which keeps
//!    the sizes rule); a swap or move is applied when it lowers the objective below, and passes
//!    repeat until none does (at most [`MAX_PASSES`]). Together-groups stay where step 2 put them
//!    (the other children are swapped around them); apart-siblings move only to a class without
//!    their sibling.
//! 6. Shuffle the class labels with the seed, so which class is "1班" (and which classes have the
//!    extra child) is itself drawn, not decided by the algorithm's order.
//!
//! Objective, compared lexicographically (the first component decides; the next only breaks
//! ties), with `N` children, `B` boys, `S` scored children and overall score mean `μ`:
//! `( Σ_c (boys_c·N − size_c·B)², Σ_c (scored_c·N − size_c·S)², Σ_c (sum_c − scored_c·μ)² )`.
//! The first two are exact integers (each is zero when class `c` has exactly its fair share);
//! the third is a class's total deviation of its score sum from the overall mean.

use crate::error::EngineError;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use yimeng_domain::Sex;

/// Passes of the improvement step at most (each pass looks at every pair once). Real intakes
/// settle in a handful of passes; the cap only bounds the work.
pub const MAX_PASSES: usize = 60;

/// Steps the exhaustive packing search of together-groups may take before it gives up.
pub const PACKING_SEARCH_LIMIT: usize = 200_000;

/// How siblings (同胞, e.g. twins) are to be placed: the parents' request, approved by the school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiblingMode {
    /// 同班: all members of the group in one class.
    Together,
    /// 分班: every member in a different class.
    Apart,
}

impl SiblingMode {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            SiblingMode::Together => "同班",
            SiblingMode::Apart => "分班",
        }
    }
}

/// Membership of a sibling group: every child with the same `group` belongs to it, and all of them
/// must carry the same `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sibling {
    /// Group key (any number the caller chooses, e.g. the id of the first sibling).
    pub group: i64,
    /// Together or apart.
    pub mode: SiblingMode,
}

/// One accepted child of the new intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Child {
    /// Stable id (the application's or student's store id); the tie-break of last resort and the
    /// sort key that makes the result independent of input order.
    pub id: i64,
    /// 性别
    pub sex: Sex,
    /// Score used for balancing (e.g. an entrance assessment); `None` when not available.
    pub score: Option<f64>,
    /// Sibling group, if any.
    pub sibling: Option<Sibling>,
}

/// Where one child goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// The child's id.
    pub id: i64,
    /// Class index, `0..classes` (the caller's class number is usually `index + 1`).
    pub class: u32,
}

/// Balance figures of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassBalance {
    /// Class index, `0..classes`.
    pub class: u32,
    /// Children in the class.
    pub size: u32,
    /// 男生
    pub boys: u32,
    /// 女生
    pub girls: u32,
    /// Children with a score.
    pub scored: u32,
    /// Mean score of the scored children (`None` when none is scored).
    pub score_mean: Option<f64>,
    /// Population standard deviation of their scores (`None` when none is scored).
    pub score_sd: Option<f64>,
}

/// Balance figures over all classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceSummary {
    /// Largest class size minus smallest (0 or 1).
    pub max_size_difference: u32,
    /// Largest share of boys in a class minus the smallest (0.0–1.0; empty classes ignored).
    pub max_sex_ratio_spread: f64,
    /// Highest class score mean minus the lowest (`None` when no child has a score).
    pub max_mean_spread: Option<f64>,
}

/// The result of [`assign_classes`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    /// The seed used.
    pub seed: u64,
    /// One placement per child, sorted by id.
    pub placements: Vec<Placement>,
    /// One entry per class, by class index.
    pub classes: Vec<ClassBalance>,
    /// Overall figures.
    pub summary: BalanceSummary,
}

impl Assignment {
    /// The class of a child, by id.
    pub fn class_of(&self, id: i64) -> Option<u32> {
        self.placements
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| self.placements[i].class)
    }
}

/// Assigns the accepted children of an intake to `classes` classes. See the module documentation
/// for the rules and the method.
pub fn assign_classes(
    children: &[Child],
    classes: u32,
    seed: u64,
) -> Result<Assignment, EngineError> {
    if classes == 0 {
        return Err(EngineError::NoClasses);
    }
    let k = classes as usize;
    let mut kids: Vec<&Child> = children.iter().collect();
    kids.sort_by_key(|c| c.id);
    for w in kids.windows(2) {
        if w[0].id == w[1].id {
            return Err(EngineError::DuplicateChild { id: w[0].id });
        }
    }
    if let Some(c) = kids
        .iter()
        .find(|c| c.score.is_some_and(|s| !s.is_finite()))
    {
        return Err(EngineError::InvalidScore { id: c.id });
    }
    let n = kids.len();
    let (q, r) = (n / k, n % k);
    let cap: Vec<usize> = (0..k).map(|c| q + usize::from(c < r)).collect();
    let max_cap = q + usize::from(r > 0);

    // Sibling groups (by group key, so iteration order is fixed).
    let mut groups: BTreeMap<i64, (SiblingMode, Vec<usize>)> = BTreeMap::new();
    for (i, c) in kids.iter().enumerate() {
        if let Some(s) = c.sibling {
            let g = groups.entry(s.group).or_insert((s.mode, Vec::new()));
            if g.0 != s.mode {
                return Err(EngineError::MixedSiblingModes { group: s.group });
            }
            g.1.push(i);
        }
    }
    // A "group" of one constrains nothing.
    groups.retain(|_, (_, m)| m.len() > 1);
    for (&group, (mode, members)) in &groups {
        match mode {
            SiblingMode::Together if members.len() > max_cap => {
                return Err(EngineError::TogetherGroupTooLarge {
                    group,
                    size: members.len(),
                    max: max_cap,
                });
            }
            SiblingMode::Apart if members.len() > k => {
                return Err(EngineError::ApartGroupTooLarge {
                    group,
                    size: members.len(),
                    classes: k,
                });
            }
            _ => {}
        }
    }

    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut rank = vec![0usize; n];
    for (pos, &i) in order.iter().enumerate() {
        rank[i] = pos;
    }

    const UNPLACED: usize = usize::MAX;
    let mut class_of = vec![UNPLACED; n];
    let mut room = cap.clone();

    // Step 2: together-groups.
    let mut together: Vec<&Vec<usize>> = groups
        .values()
        .filter(|(m, _)| *m == SiblingMode::Together)
        .map(|(_, v)| v)
        .collect();
    together.sort_by_key(|m| (std::cmp::Reverse(m.len()), rank[m[0]]));
    let sizes: Vec<usize> = together.iter().map(|m| m.len()).collect();
    let bins = pack_groups(&sizes, &room).ok_or(EngineError::TogetherGroupsDoNotFit {
        groups: sizes.len(),
        children: sizes.iter().sum(),
    })?;
    for (members, &c) in together.iter().zip(&bins) {
        for &i in members.iter() {
            class_of[i] = c;
        }
        room[c] -= members.len();
    }

    // Step 3: apart-groups, largest first, each member into a different class with the most room.
    let mut apart: Vec<(i64, &Vec<usize>)> = groups
        .iter()
        .filter(|(_, (m, _))| *m == SiblingMode::Apart)
        .map(|(g, (_, v))| (*g, v))
        .collect();
    apart.sort_by_key(|(_, m)| (std::cmp::Reverse(m.len()), rank[m[0]]));
    let mut apart_of = vec![None::<usize>; n];
    let mut apart_members: Vec<Vec<usize>> = Vec::new();
    for (group, members) in apart {
        let mut by_room: Vec<usize> = (0..k).collect();
        by_room.sort_by_key(|&c| (std::cmp::Reverse(room[c]), c));
        let chosen = &by_room[..members.len()];
        if chosen.iter().any(|&c| room[c] == 0) {
            return Err(EngineError::ApartGroupDoesNotFit {
                group,
                size: members.len(),
            });
        }
        let mut ms = members.clone();
        ms.sort_by_key(|&i| rank[i]);
        for (&i, &c) in ms.iter().zip(chosen) {
            class_of[i] = c;
            room[c] -= 1;
            apart_of[i] = Some(apart_members.len());
        }
        apart_members.push(ms);
    }

    // Step 4: serpentine deal of everyone not yet placed.
    let mut rest: Vec<usize> = (0..n).filter(|&i| class_of[i] == UNPLACED).collect();
    rest.sort_by(|&a, &b| {
        let (ca, cb) = (kids[a], kids[b]);
        sex_key(ca.sex)
            .cmp(&sex_key(cb.sex))
            .then_with(|| match (ca.score, cb.score) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| rank[a].cmp(&rank[b]))
    });
    let mut snake = Serpentine::new(k);
    for i in rest {
        let c = loop {
            let c = snake.next_class();
            if room[c] > 0 {
                break c;
            }
        };
        class_of[i] = c;
        room[c] -= 1;
    }

    // Step 5: local improvement.
    let movable: Vec<usize> = {
        let mut in_together = vec![false; n];
        for m in &together {
            for &i in m.iter() {
                in_together[i] = true;
            }
        }
        (0..n).filter(|&i| !in_together[i]).collect()
    };
    let mut state = State::new(&kids, &class_of, k);
    let apart_ok = |class_of: &[usize], x: usize, to: usize, except: usize| -> bool {
        match apart_of[x] {
            None => true,
            Some(g) => apart_members[g]
                .iter()
                .all(|&m| m == x || m == except || class_of[m] != to),
        }
    };
    for _ in 0..MAX_PASSES {
        let mut improved = false;
        for (xi, &x) in movable.iter().enumerate() {
            for &y in &movable[xi + 1..] {
                let (a, b) = (class_of[x], class_of[y]);
                if a == b || state.same_profile(x, y) {
                    continue;
                }
                if !apart_ok(&class_of, x, b, y) || !apart_ok(&class_of, y, a, x) {
                    continue;
                }
                if state.swap_improves(x, a, y, b) {
                    state.remove(x, a);
                    state.remove(y, b);
                    state.add(x, b);
                    state.add(y, a);
                    class_of[x] = b;
                    class_of[y] = a;
                    improved = true;
                }
            }
        }
        for &x in &movable {
            for b in 0..k {
                let a = class_of[x];
                if state.size[a] != state.size[b] + 1 || !apart_ok(&class_of, x, b, x) {
                    continue;
                }
                if state.move_improves(x, a, b) {
                    state.remove(x, a);
                    state.add(x, b);
                    class_of[x] = b;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }

    // Step 6: draw the class labels.
    let mut label: Vec<usize> = (0..k).collect();
    rng.shuffle(&mut label);

    let placements: Vec<Placement> = kids
        .iter()
        .enumerate()
        .map(|(i, c)| Placement {
            id: c.id,
            class: label[class_of[i]] as u32,
        })
        .collect();
    let classes_out = balance_of(&kids, &placements, k);
    let summary = summarize(&classes_out);
    Ok(Assignment {
        seed,
        placements,
        classes: classes_out,
        summary,
    })
}

/// Girls are dealt first, then boys: dealing one sex completely and continuing the serpentine
/// with the other spreads both evenly.
fn sex_key(s: Sex) -> u8 {
    match s {
        Sex::Female => 0,
        Sex::Male => 1,
    }
}

/// The S-shaped order 0, 1, …, k−1, k−1, …, 1, 0, 0, 1, …
struct Serpentine {
    k: usize,
    pos: usize,
    forward: bool,
}

impl Serpentine {
    fn new(k: usize) -> Self {
        Serpentine {
            k,
            pos: 0,
            forward: true,
        }
    }
    fn next_class(&mut self) -> usize {
        let c = self.pos;
        if self.forward {
            if self.pos + 1 == self.k {
                self.forward = false;
            } else {
                self.pos += 1;
            }
        } else if self.pos == 0 {
            self.forward = true;
        } else {
            self.pos -= 1;
        }
        c
    }
}

/// Packs groups (sizes in decreasing order) into bins with the given room: worst fit first, then
/// a bounded exhaustive search. Returns the bin of each group.
fn pack_groups(sizes: &[usize], room: &[usize]) -> Option<Vec<usize>> {
    // Worst fit decreasing: the bin with the most room (lowest index on ties).
    let mut left = room.to_vec();
    let mut out = Vec::with_capacity(sizes.len());
    let mut ok = true;
    for &s in sizes {
        let best = (0..left.len()).max_by_key(|&c| (left[c], std::cmp::Reverse(c)));
        match best {
            Some(c) if left[c] >= s => {
                left[c] -= s;
                out.push(c);
            }
            _ => {
                ok = false;
                break;
            }
        }
    }
    if ok {
        return Some(out);
    }
    let mut left = room.to_vec();
    let mut out = vec![0; sizes.len()];
    let mut steps = 0;
    search(sizes, 0, &mut left, &mut out, &mut steps).then_some(out)
}

fn search(
    sizes: &[usize],
    i: usize,
    left: &mut [usize],
    out: &mut [usize],
    steps: &mut usize,
) -> bool {
    if i == sizes.len() {
        return true;
    }
    *steps += 1;
    if *steps > PACKING_SEARCH_LIMIT {
        return false;
    }
    // Remaining room must hold the remaining groups.
    if left.iter().sum::<usize>() < sizes[i..].iter().sum::<usize>() {
        return false;
    }
    let mut tried: Vec<usize> = Vec::new();
    for c in 0..left.len() {
        // Bins with equal room are interchangeable: try one of them.
        if left[c] < sizes[i] || tried.contains(&left[c]) {
            continue;
        }
        tried.push(left[c]);
        left[c] -= sizes[i];
        out[i] = c;
        if search(sizes, i + 1, left, out, steps) {
            return true;
        }
        left[c] += sizes[i];
    }
    false
}

/// Running per-class figures for the objective.
struct State {
    sex: Vec<bool>,
    score: Vec<Option<f64>>,
    n: i128,
    boys_total: i128,
    scored_total: i128,
    mean: f64,
    size: Vec<i128>,
    boys: Vec<i128>,
    scored: Vec<i128>,
    sum: Vec<f64>,
}

/// One class's share of the objective.
#[derive(Clone, Copy)]
struct Cost {
    sex: i128,
    coverage: i128,
    deviation: f64,
}

impl State {
    fn new(kids: &[&Child], class_of: &[usize], k: usize) -> State {
        let sex: Vec<bool> = kids.iter().map(|c| c.sex == Sex::Male).collect();
        let score: Vec<Option<f64>> = kids.iter().map(|c| c.score).collect();
        let scored_total = score.iter().flatten().count();
        let total: f64 = score.iter().flatten().sum();
        let mut s = State {
            n: kids.len() as i128,
            boys_total: sex.iter().filter(|&&b| b).count() as i128,
            scored_total: scored_total as i128,
            mean: if scored_total > 0 {
                total / scored_total as f64
            } else {
                0.0
            },
            sex,
            score,
            size: vec![0; k],
            boys: vec![0; k],
            scored: vec![0; k],
            sum: vec![0.0; k],
        };
        for (i, &c) in class_of.iter().enumerate() {
            s.add(i, c);
        }
        s
    }
    fn add(&mut self, i: usize, c: usize) {
        self.size[c] += 1;
        self.boys[c] += i128::from(self.sex[i]);
        if let Some(v) = self.score[i] {
            self.scored[c] += 1;
            self.sum[c] += v;
        }
    }
    fn remove(&mut self, i: usize, c: usize) {
        self.size[c] -= 1;
        self.boys[c] -= i128::from(self.sex[i]);
        if let Some(v) = self.score[i] {
            self.scored[c] -= 1;
            self.sum[c] -= v;
        }
    }
    fn same_profile(&self, x: usize, y: usize) -> bool {
        self.sex[x] == self.sex[y] && self.score[x] == self.score[y]
    }
    fn cost(&self, size: i128, boys: i128, scored: i128, sum: f64) -> Cost {
        let d = boys * self.n - size * self.boys_total;
        let e = scored * self.n - size * self.scored_total;
        let f = sum - scored as f64 * self.mean;
        Cost {
            sex: d * d,
            coverage: e * e,
            deviation: f * f,
        }
    }
    fn class_cost(&self, c: usize) -> Cost {
        self.cost(self.size[c], self.boys[c], self.scored[c], self.sum[c])
    }
    /// Figures of a child as (boy, scored, score).
    fn contribution(&self, i: usize) -> (i128, i128, f64) {
        (
            i128::from(self.sex[i]),
            i128::from(self.score[i].is_some()),
            self.score[i].unwrap_or(0.0),
        )
    }
    fn swap_improves(&self, x: usize, a: usize, y: usize, b: usize) -> bool {
        let (bx, sx, vx) = self.contribution(x);
        let (by, sy, vy) = self.contribution(y);
        let old = [self.class_cost(a), self.class_cost(b)];
        let new = [
            self.cost(
                self.size[a],
                self.boys[a] - bx + by,
                self.scored[a] - sx + sy,
                self.sum[a] - vx + vy,
            ),
            self.cost(
                self.size[b],
                self.boys[b] - by + bx,
                self.scored[b] - sy + sx,
                self.sum[b] - vy + vx,
            ),
        ];
        better(&new, &old)
    }
    fn move_improves(&self, x: usize, a: usize, b: usize) -> bool {
        let (bx, sx, vx) = self.contribution(x);
        let old = [self.class_cost(a), self.class_cost(b)];
        let new = [
            self.cost(
                self.size[a] - 1,
                self.boys[a] - bx,
                self.scored[a] - sx,
                self.sum[a] - vx,
            ),
            self.cost(
                self.size[b] + 1,
                self.boys[b] + bx,
                self.scored[b] + sx,
                self.sum[b] + vx,
            ),
        ];
        better(&new, &old)
    }
}

/// Lexicographic comparison of the summed costs; the score deviation must drop by more than a
/// rounding margin, so floating-point noise can never make two swaps undo each other forever.
fn better(new: &[Cost; 2], old: &[Cost; 2]) -> bool {
    let sum = |c: &[Cost; 2]| {
        (
            c[0].sex + c[1].sex,
            c[0].coverage + c[1].coverage,
            c[0].deviation + c[1].deviation,
        )
    };
    let (ns, nc, nd) = sum(new);
    let (os, oc, od) = sum(old);
    if ns != os {
        return ns < os;
    }
    if nc != oc {
        return nc < oc;
    }
    nd < od - 1e-9 * (1.0 + od.abs())
}

fn balance_of(kids: &[&Child], placements: &[Placement], k: usize) -> Vec<ClassBalance> {
    let mut scores: Vec<Vec<f64>> = vec![Vec::new(); k];
    let mut out: Vec<ClassBalance> = (0..k)
        .map(|c| ClassBalance {
            class: c as u32,
            size: 0,
            boys: 0,
            girls: 0,
            scored: 0,
            score_mean: None,
            score_sd: None,
        })
        .collect();
    for (child, p) in kids.iter().zip(placements) {
        let c = &mut out[p.class as usize];
        c.size += 1;
        match child.sex {
            Sex::Male => c.boys += 1,
            Sex::Female => c.girls += 1,
        }
        if let Some(v) = child.score {
            c.scored += 1;
            scores[p.class as usize].push(v);
        }
    }
    for (c, s) in out.iter_mut().zip(&scores) {
        if !s.is_empty() {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            let var = s.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / s.len() as f64;
            c.score_mean = Some(m);
            c.score_sd = Some(var.sqrt());
        }
    }
    out
}

fn summarize(classes: &[ClassBalance]) -> BalanceSummary {
    let sizes = classes.iter().map(|c| c.size);
    let max_size_difference = sizes.clone().max().unwrap_or(0) - sizes.min().unwrap_or(0);
    let shares: Vec<f64> = classes
        .iter()
        .filter(|c| c.size > 0)
        .map(|c| f64::from(c.boys) / f64::from(c.size))
        .collect();
    let spread = |v: &[f64]| {
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        hi - lo
    };
    let means: Vec<f64> = classes.iter().filter_map(|c| c.score_mean).collect();
    BalanceSummary {
        max_size_difference,
        max_sex_ratio_spread: if shares.is_empty() {
            0.0
        } else {
            spread(&shares)
        },
        max_mean_spread: if means.is_empty() {
            None
        } else {
            Some(spread(&means))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serpentine_turns_at_both_ends() {
        let mut s = Serpentine::new(3);
        let got: Vec<usize> = (0..8).map(|_| s.next_class()).collect();
        assert_eq!(got, vec![0, 1, 2, 2, 1, 0, 0, 1]);
        let mut one = Serpentine::new(1);
        assert_eq!(
            (0..3).map(|_| one.next_class()).collect::<Vec<_>>(),
            [0, 0, 0]
        );
    }

    #[test]
    fn packing_falls_back_to_search_when_worst_fit_fails() {
        // Worst fit puts 3|3 then 2|2 and the last 2 fails; 3+3 | 2+2+2 fits.
        let bins = pack_groups(&[3, 3, 2, 2, 2], &[6, 6]).unwrap();
        let mut load = [0; 2];
        for (s, b) in [3, 3, 2, 2, 2].iter().zip(&bins) {
            load[*b] += s;
        }
        assert_eq!(load, [6, 6]);
        assert!(pack_groups(&[4, 3, 3], &[5, 5]).is_none());
    }
}
