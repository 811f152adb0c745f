//! Average ranks with ties, as scipy's `rankdata(method='average')` computes them.
//!
//! Values tie only when they are exactly equal as floats, like scipy (no tolerance): 0.7 − 0.6 and 0.2 − 0.1 are
//! different differences in binary floating point, and both scipy and this module rank them apart.

/// Mid-ranks (1-based, ties averaged) in input order, and the size of every tie group.
pub(crate) struct Ranks {
    /// Rank of each value, in the order the values were given.
    pub ranks: Vec<f64>,
    /// Size of each group of equal values (1 for an untied value).
    pub tie_sizes: Vec<usize>,
}

impl Ranks {
    /// Σ(t³ − t) over tie groups, the tie correction of rank-test variances.
    pub fn tie_correction(&self) -> f64 {
        self.tie_sizes
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * t * t - t
            })
            .sum()
    }

    /// Whether any two values are equal.
    pub fn has_ties(&self) -> bool {
        self.tie_sizes.iter().any(|&t| t > 1)
    }
}

/// Ranks finite values.
pub(crate) fn average_ranks(values: &[f64]) -> Ranks {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the mean of ranks start+1..=end.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        tie_sizes.push(end - start);
        start = end;
    }
    Ranks { ranks, tie_sizes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_rank() {
        let r = average_ranks(&[3.0, 2.0, 1.0, 2.0, 2.0, 2.0, 1.0]);
        assert_eq!(r.ranks, vec![7.0, 4.5, 1.5, 4.5, 4.5, 4.5, 1.5]);
        assert_eq!(r.tie_sizes, vec![2, 4, 1]);
        assert_eq!(r.tie_correction(), 6.0 + 60.0);
        assert!(r.has_ties());
    }

    #[test]
    fn float_noise_is_not_a_tie() {
        let r = average_ranks(&[0.7 - 0.6, 0.2 - 0.1]);
        assert!(!r.has_ties());
    }
}
