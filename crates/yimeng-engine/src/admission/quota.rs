//! 指标到校 分配 (splitting a school's quota among junior schools), domain-rules §6.2.

use super::{Instance, QuotaPool, QuotaShare};

/// Splits `q` seats among junior schools in proportion to their graduates `g_i` by largest
/// remainder: `q_i = floor(q·g_i/G)`, then the seats left go one each by largest fractional
/// remainder `q·g_i mod G`; ties go to the larger `g_i`, then to the smaller code.
/// `groups` is `(code, g_i)`; the result is in the same order. All zero when `G = 0`.
pub fn largest_remainder(q: u32, groups: &[(&str, u64)]) -> Vec<u32> {
    let total: u64 = groups.iter().map(|g| g.1).sum();
    if total == 0 {
        return vec![0; groups.len()];
    }
    let q64 = u64::from(q);
    let mut out: Vec<u32> = groups
        .iter()
        .map(|g| (u128::from(q64) * u128::from(g.1) / u128::from(total)) as u32)
        .collect();
    let given: u64 = out.iter().map(|&x| u64::from(x)).sum();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    let rem = |i: usize| u128::from(q64) * u128::from(groups[i].1) % u128::from(total);
    order.sort_by(|&a, &b| {
        rem(b)
            .cmp(&rem(a))
            .then(groups[b].1.cmp(&groups[a].1))
            .then(groups[a].0.cmp(groups[b].0))
    });
    for &i in order.iter().take((q64 - given) as usize) {
        out[i] += 1;
    }
    out
}

/// Applies a [`QuotaShare`]: for each named school, `Q = floor(plan × share)` seats leave the
/// general pool and are split among junior schools by [`largest_remainder`]; junior schools that
/// get no seat get no pool. `graduates` must already be resolved to junior indices (or empty:
/// then each junior school's number of candidates is used). Replaces `instance.quotas`.
pub fn apply_share(
    instance: &mut Instance,
    share: &QuotaShare,
    schools: &[u32],
    graduates: &[(u32, u64)],
) {
    let mut g: Vec<(u32, u64)> = if graduates.is_empty() {
        let mut counts = vec![0u64; instance.juniors.len()];
        for c in &instance.candidates {
            counts[c.junior as usize] += 1;
        }
        counts
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(j, n)| (j as u32, n))
            .collect()
    } else {
        graduates.to_vec()
    };
    g.sort_by(|a, b| instance.juniors[a.0 as usize].cmp(&instance.juniors[b.0 as usize]));
    let groups: Vec<(&str, u64)> = g
        .iter()
        .map(|&(j, n)| (instance.juniors[j as usize].as_str(), n))
        .collect();
    let mut quotas = Vec::new();
    for &s in schools {
        let plan = instance.schools[s as usize].general_seats;
        let q = (u64::from(plan) * u64::from(share.share_bp) / 10_000) as u32;
        let split = largest_remainder(q, &groups);
        for (k, &seats) in split.iter().enumerate() {
            if seats > 0 {
                quotas.push(QuotaPool {
                    school: s,
                    junior: g[k].0,
                    seats,
                    min_total: share.min_total,
                });
            }
        }
        instance.schools[s as usize].general_seats = plan - q;
    }
    instance.quotas = quotas;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_follow_graduates_by_largest_remainder() {
        // Q = 10, g = 5/3/2 of 10 → exact 5/3/2.
        assert_eq!(
            largest_remainder(10, &[("a", 5), ("b", 3), ("c", 2)]),
            vec![5, 3, 2]
        );
        // Q = 7, g = 50/30/20: 3.5, 2.1, 1.4 → floors 3/2/1, one left → a (remainder .5).
        assert_eq!(
            largest_remainder(7, &[("a", 50), ("b", 30), ("c", 20)]),
            vec![4, 2, 1]
        );
    }

    #[test]
    fn equal_remainders_go_to_the_larger_junior_school_then_to_the_smaller_code() {
        // Q = 1, g = 1/1/2: remainders 1, 1, 2 (of 4) → c.
        assert_eq!(
            largest_remainder(1, &[("a", 1), ("b", 1), ("c", 2)]),
            vec![0, 0, 1]
        );
        // Q = 2, g = 3/3/3/3: remainders all 6 of 12 → equal sizes → codes a, b.
        assert_eq!(
            largest_remainder(2, &[("d", 3), ("b", 3), ("a", 3), ("c", 3)]),
            vec![0, 1, 1, 0]
        );
        // Q = 3, g = 2/1/1 of 4: 1.5, .75, .75 → floors 1/0/0; remainders 2, 3, 3 → b, c.
        assert_eq!(
            largest_remainder(3, &[("a", 2), ("b", 1), ("c", 1)]),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn the_split_always_hands_out_exactly_the_quota() {
        for q in 0..40u32 {
            let groups = [("a", 7), ("b", 13), ("c", 1), ("d", 0), ("e", 29)];
            assert_eq!(largest_remainder(q, &groups).iter().sum::<u32>(), q);
        }
        assert_eq!(largest_remainder(5, &[("a", 0)]), vec![0]);
    }
}
