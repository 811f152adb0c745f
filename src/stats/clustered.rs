//! Standard error of a mean score when examples were sampled in groups (several questions from one document).

use std::collections::BTreeMap;

use super::{check_finite, check_same_length, finite, mean, StatsError};

/// Cluster-robust standard error of the mean (Miller 2024, "Adding Error Bars to Evals", as Inspect AI implements
/// it): √(C/(C − 1) · Σ_c (Σ_{i∈c}(sᵢ − s̄))²) / n, with C clusters. `cluster_ids[i]` names the unit actually
/// sampled for score i. `Ok(None)` with fewer than two clusters.
pub fn clustered_standard_error<K: Ord>(scores: &[f64], cluster_ids: &[K]) -> Result<Option<f64>, StatsError> {
    check_same_length("scores and cluster ids", scores.len(), cluster_ids.len())?;
    check_finite("scores", scores)?;
    let Some(grand_mean) = mean(scores) else {
        return Ok(None);
    };
    let mut residual_sums: BTreeMap<&K, f64> = BTreeMap::new();
    for (score, id) in scores.iter().zip(cluster_ids) {
        *residual_sums.entry(id).or_insert(0.0) += score - grand_mean;
    }
    let clusters = residual_sums.len() as f64;
    if clusters < 2.0 {
        return Ok(None);
    }
    // Scaled by the largest residual sum, so that squares of residuals ~1e300 do not overflow.
    let scale = residual_sums.values().fold(0.0, |m: f64, s| m.max(s.abs()));
    if scale == 0.0 {
        return Ok(Some(0.0));
    }
    let between: f64 = residual_sums.values().map(|s| (s / scale) * (s / scale)).sum();
    Ok(finite(
        (clusters / (clusters - 1.0) * between).sqrt() * scale / scores.len() as f64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cluster_is_undefined() {
        assert_eq!(clustered_standard_error(&[0.1, 0.9], &["a", "a"]).expect("valid"), None);
        assert_eq!(clustered_standard_error::<u32>(&[], &[]).expect("valid"), None);
    }

    #[test]
    fn singleton_clusters_match_the_plain_formula() {
        // With one example per cluster the formula reduces to sd(ddof = 1)/√n.
        let s = [0.2, 0.4, 0.9, 0.5];
        let ids = [1, 2, 3, 4];
        let se = clustered_standard_error(&s, &ids).expect("valid").expect("defined");
        let m = 0.5;
        let sd = (s.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 3.0).sqrt();
        assert!((se - sd / 2.0).abs() < 1e-15);
    }
}
