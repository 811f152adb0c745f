//! Multiple-comparison adjustment of p-values.

use super::StatsError;

/// Holm's step-down adjustment (statsmodels `multipletests(method='holm')`): sort p ascending, multiply the i-th
/// (1-based) by m − i + 1, take the running maximum, cap at 1, and return in the input order.
pub fn holm_adjust(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some(&bad) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(StatsError::InvalidParameter {
            name: "p-value",
            value: bad,
            expected: "between 0 and 1",
        });
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_max: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        running_max = running_max.max(p_values[index] * (m - rank) as f64);
        adjusted[index] = running_max.min(1.0);
    }
    Ok(adjusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_single() {
        assert_eq!(holm_adjust(&[]).expect("valid"), Vec::<f64>::new());
        assert_eq!(holm_adjust(&[0.03]).expect("valid"), vec![0.03]);
    }

    #[test]
    fn caps_at_one_and_keeps_order() {
        assert_eq!(holm_adjust(&[0.6, 0.01]).expect("valid"), vec![0.6, 0.02]);
        assert_eq!(holm_adjust(&[0.9, 0.8]).expect("valid"), vec![1.0, 1.0]);
    }

    #[test]
    fn rejects_nan() {
        assert!(holm_adjust(&[0.1, f64::NAN]).is_err());
    }
}
