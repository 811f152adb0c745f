//! SVG charts for the report, drawn with plotters' SVG backend (text is left to the viewer's fonts, so nothing is
//! loaded from the system and the same numbers always give the same bytes).

use plotters::prelude::*;

use super::level_percent;

/// One config's bar: mean quality points and its confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityBar {
    /// Config name.
    pub config: String,
    /// Mean quality points.
    pub mean: f64,
    /// Confidence interval, in quality points.
    pub interval: Option<(f64, f64)>,
    /// Whether this is the baseline.
    pub baseline: bool,
}

/// One comparison's per-example differences (candidate − baseline, quality points) and its mean's interval.
#[derive(Debug, Clone, PartialEq)]
pub struct DifferenceStrip {
    /// "candidate vs baseline".
    pub label: String,
    /// Per-example differences.
    pub differences: Vec<f64>,
    /// Mean difference.
    pub mean: f64,
    /// Its confidence interval.
    pub interval: Option<(f64, f64)>,
}

/// Width of every chart, in pixels.
pub(super) const WIDTH: u32 = 720;
const ROW_HEIGHT: u32 = 70;
const BASELINE_COLOUR: RGBColor = RGBColor(150, 150, 150);
const CONFIG_COLOUR: RGBColor = RGBColor(49, 105, 173);
const POINT_COLOUR: RGBColor = RGBColor(49, 105, 173);

/// A drawing error as an I/O error of the report writer.
pub(super) fn chart_error(error: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot draw chart: {error}"))
}

/// Bars of mean quality per config (0–100 points) with their confidence intervals (at `confidence_level`) as error
/// bars.
pub fn quality_chart(bars: &[QualityBar], confidence_level: f64) -> std::io::Result<String> {
    let mut svg = String::new();
    {
        let height = 120 + 50 * bars.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let rows = bars.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Mean quality per config ({}% CI)", level_percent(confidence_level)),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(12)
            .build_cartesian_2d(0f64..100f64, 0f64..rows)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("quality points")
            .draw()
            .map_err(chart_error)?;
        // The first config on top; each bar's name and value just above it.
        let row_of = |i: usize| rows - 1.0 - i as f64;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, bar)| {
                let name = if bar.baseline {
                    format!("{} (baseline)", bar.config)
                } else {
                    bar.config.clone()
                };
                Text::new(
                    format!("{name}: {:.1}", bar.mean),
                    (0.5, row_of(i) + 0.97),
                    ("sans-serif", 13),
                )
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, bar)| {
                let colour = if bar.baseline { BASELINE_COLOUR } else { CONFIG_COLOUR };
                let y = row_of(i);
                Rectangle::new(
                    [(0.0, y + 0.2), (bar.mean.clamp(0.0, 100.0), y + 0.8)],
                    colour.mix(0.8).filled(),
                )
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, bar)| {
                let (low, high) = bar.interval?;
                let y = row_of(i) + 0.5;
                Some(PathElement::new(
                    vec![(low.clamp(0.0, 100.0), y), (high.clamp(0.0, 100.0), y)],
                    BLACK.stroke_width(2),
                ))
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(
                bars.iter()
                    .enumerate()
                    .filter_map(|(i, bar)| {
                        let (low, high) = bar.interval?;
                        let y = row_of(i);
                        Some([low, high].map(|x| {
                            PathElement::new(
                                vec![(x.clamp(0.0, 100.0), y + 0.35), (x.clamp(0.0, 100.0), y + 0.65)],
                                BLACK.stroke_width(2),
                            )
                        }))
                    })
                    .flatten(),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// A deterministic vertical offset in [-0.25, 0.25] for the `i`-th point, so tied differences stay visible.
fn jitter(i: usize) -> f64 {
    let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    (x as f64 / (1u64 << 53) as f64 - 0.5) * 0.5
}

/// Above this many examples a strip of `differences.svg` shows a histogram instead of one point per example, so the
/// chart stays small and readable at any size of run.
pub const MAX_POINTS: usize = 1000;

/// Histogram bins on each side of zero: bins are centred on multiples of their width, so no difference (0) has a bin
/// of its own, and 2 × this many bins span the x range.
const HALF_BINS: usize = 50;

/// The width of one histogram bin, in quality points, for an x range of ±`extent`.
fn bin_width(extent: f64) -> f64 {
    extent / HALF_BINS as f64
}

/// One strip's differences as bars, one per bin with any example, their heights relative to the fullest bin,
/// standing on the strip's lower part (row centre `y`).
fn histogram(differences: &[f64], extent: f64, y: f64) -> Vec<Rectangle<(f64, f64)>> {
    let width = bin_width(extent);
    let mut counts = [0usize; 2 * HALF_BINS + 1];
    for d in differences {
        let bin = (d.clamp(-extent, extent) / width).round() + HALF_BINS as f64;
        counts[(bin.max(0.0) as usize).min(2 * HALF_BINS)] += 1;
    }
    let fullest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let base = y - 0.25;
    // A sliver between neighbouring bars keeps them apart.
    let gap = width * 0.08;
    counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| {
            let centre = (i as f64 - HALF_BINS as f64) * width;
            let left = (centre - width / 2.0 + gap).max(-extent);
            let right = (centre + width / 2.0 - gap).min(extent);
            let height = 0.55 * *n as f64 / fullest;
            Rectangle::new([(left, base), (right, base + height)], POINT_COLOUR.mix(0.7).filled())
        })
        .collect()
}

/// Per-example differences against the baseline, one strip per comparison, with the mean and its interval (at
/// `confidence_level`).
pub fn differences_chart(strips: &[DifferenceStrip], confidence_level: f64) -> std::io::Result<String> {
    let mut svg = String::new();
    {
        let height = 110 + ROW_HEIGHT * strips.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let extent = strips
            .iter()
            .flat_map(|s| s.differences.iter())
            .fold(10.0f64, |m, d| m.max(d.abs()))
            .min(100.0);
        let extent = (extent / 10.0).ceil() * 10.0;
        let rows = strips.len().max(1) as f64;
        let binned = strips.iter().any(|s| s.differences.len() > MAX_POINTS);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                if binned {
                    "Per-example difference from the baseline (quality points), binned"
                } else {
                    "Per-example difference from the baseline (quality points)"
                },
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(12)
            .build_cartesian_2d(-extent..extent, 0f64..rows)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc(if binned {
                format!(
                    "candidate − baseline, per example (mean over repeats); bars: examples per {} point bin \
                     (over {MAX_POINTS} examples); black: mean with {}% CI",
                    bin_width(extent),
                    level_percent(confidence_level)
                )
            } else {
                format!(
                    "candidate − baseline, per example (mean over repeats); black: mean with {}% CI",
                    level_percent(confidence_level)
                )
            })
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, rows)],
                BLACK.mix(0.5).stroke_width(1),
            )))
            .map_err(chart_error)?;
        let row_of = |i: usize| rows - 1.0 - i as f64 + 0.5;
        for (i, strip) in strips.iter().enumerate() {
            let y = row_of(i);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{}: mean {:+.1}", strip.label, strip.mean),
                    (-extent + extent * 0.02, y + 0.47),
                    ("sans-serif", 13),
                )))
                .map_err(chart_error)?;
            if strip.differences.len() > MAX_POINTS {
                chart
                    .draw_series(histogram(&strip.differences, extent, y))
                    .map_err(chart_error)?;
            } else {
                chart
                    .draw_series(strip.differences.iter().enumerate().map(|(j, d)| {
                        Circle::new(
                            (d.clamp(-extent, extent), y + jitter(j)),
                            3,
                            POINT_COLOUR.mix(0.45).filled(),
                        )
                    }))
                    .map_err(chart_error)?;
            }
            if let Some((low, high)) = strip.interval {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (low.clamp(-extent, extent), y - 0.38),
                            (high.clamp(-extent, extent), y - 0.38),
                        ],
                        BLACK.stroke_width(3),
                    )))
                    .map_err(chart_error)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (strip.mean.clamp(-extent, extent), y - 0.38),
                    5,
                    BLACK.filled(),
                )))
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_and_deterministic() {
        let bars = vec![
            QualityBar {
                config: "prompt".into(),
                mean: 36.5,
                interval: Some((30.0, 43.0)),
                baseline: true,
            },
            QualityBar {
                config: "fine-tuned".into(),
                mean: 84.0,
                interval: Some((79.5, 88.0)),
                baseline: false,
            },
        ];
        let svg = quality_chart(&bars, 0.95).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("fine-tuned") && svg.contains("prompt"));
        assert!(svg.contains("(95% CI)"));
        assert_eq!(svg, quality_chart(&bars, 0.95).unwrap());
        assert!(quality_chart(&bars, 0.9).unwrap().contains("(90% CI)"));
        let strips = vec![DifferenceStrip {
            label: "fine-tuned vs prompt".into(),
            differences: vec![10.0, 50.0, -5.0, 0.0, 0.0],
            mean: 11.0,
            interval: Some((-8.0, 30.0)),
        }];
        let svg = differences_chart(&strips, 0.975).unwrap();
        assert!(svg.contains("fine-tuned vs prompt") && svg.contains("97.5% CI"));
        // Five points plus the mean marker.
        assert_eq!(svg.matches("<circle").count(), 6);
        assert_eq!(svg, differences_chart(&strips, 0.975).unwrap());
        assert!(differences_chart(&[], 0.95).unwrap().starts_with("<svg"));
    }

    #[test]
    fn differences_of_a_large_run_are_binned_said_so_and_stay_small() {
        let strip = |n: usize, label: &str| DifferenceStrip {
            label: label.into(),
            differences: (0..n).map(|i| ((i * 37) % 201) as f64 - 100.0 + jitter(i)).collect(),
            mean: 1.5,
            interval: Some((0.5, 2.5)),
        };
        let at_threshold = differences_chart(&[strip(MAX_POINTS, "a vs b")], 0.95).unwrap();
        assert_eq!(at_threshold.matches("<circle").count(), MAX_POINTS + 1);
        assert!(!at_threshold.contains("binned"));
        let strips: Vec<DifferenceStrip> = (0..4).map(|i| strip(200_000, &format!("c{i} vs base"))).collect();
        let svg = differences_chart(&strips, 0.95).unwrap();
        assert!(svg.len() < 1 << 20, "{} bytes", svg.len());
        assert!(svg.contains("(quality points), binned"), "the caption says so");
        assert!(svg.contains("bars: examples per 2 point bin (over 1000 examples)"));
        // Only the four means are circles; every example is in some bar.
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(
            svg.matches("<rect").count() - 1,
            4 * (2 * HALF_BINS + 1),
            "one bar per bin with examples, plus the background"
        );
    }
}
