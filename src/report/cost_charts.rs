//! The cost charts: monthly cost against volume (each config's cost curve, a custom config's cheaper serving option
//! dashed, break-evens numbered and listed beneath so no label overlaps another), and cost per 1,000 requests
//! against quality with the frontier dashed (on a log cost axis when costs span more than 100×).

use plotters::prelude::*;

use super::charts::{chart_error, WIDTH};
use super::costs::CostReport;
use crate::cost::round_volume;

/// Monthly cost against monthly volume, one line per priced config, with break-even points marked.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLines {
    /// Currency of the costs.
    pub currency: String,
    /// Per config: (volume, monthly cost) points, volume ascending.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
    /// A custom config's serving option that a break-even refers to, drawn dashed: (label, points).
    pub option_lines: Vec<(String, Vec<(f64, f64)>)>,
    /// (label, volume, monthly cost) of each break-even.
    pub break_evens: Vec<(String, f64, f64)>,
    /// The suite's volumes, marked on the axis.
    pub volumes: Vec<f64>,
}

/// A config's cost per 1,000 requests and mean quality, for the cost-quality scatter.
#[derive(Debug, Clone, PartialEq)]
pub struct CostPoint {
    /// Config name.
    pub config: String,
    /// Cost per 1,000 requests at the main volume.
    pub per_thousand: f64,
    /// Mean quality points.
    pub quality: f64,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(49, 105, 173),
    RGBColor(214, 110, 30),
    RGBColor(60, 150, 80),
    RGBColor(170, 60, 140),
    RGBColor(120, 120, 120),
    RGBColor(180, 40, 40),
];

/// Height of the plot of the cost-volume chart; the break-even list goes beneath it.
const PLOT_HEIGHT: u32 = 440;
/// Height of one line of the break-even list.
const LIST_LINE: u32 = 18;

/// Samples a cost curve over `volumes`, plus both sides of every step within the range, so steps show as steps.
fn sample(curve: &crate::cost::CostCurve, volumes: &[f64]) -> Vec<(f64, f64)> {
    let (low, high) = (volumes[0], volumes[volumes.len() - 1]);
    let mut at: Vec<f64> = volumes.to_vec();
    for s in curve.segments.iter().filter(|s| s.to > low && s.to < high) {
        at.extend([s.to, s.to * (1.0 + 1e-9)]);
    }
    at.sort_by(f64::total_cmp);
    at.iter().filter_map(|v| Some((*v, curve.monthly(*v)?))).collect()
}

/// Monthly cost of each priced config over a log range spanning the suite's volumes and the break-evens.
pub fn cost_lines(cost: &CostReport) -> CostLines {
    let mut low = cost.volumes.iter().copied().fold(f64::INFINITY, f64::min);
    let mut high = cost.volumes.iter().copied().fold(0.0, f64::max);
    for v in cost.break_evens.iter().filter_map(|b| b.volume).filter(|v| *v > 0.0) {
        low = low.min(v);
        high = high.max(v);
    }
    let (low, high) = ((low / 10.0).max(1.0), (high * 10.0).max(10.0));
    let steps = 60;
    let volumes: Vec<f64> = (0..=steps)
        .map(|i| low * (high / low).powf(f64::from(i) / f64::from(steps)))
        .collect();
    let lines = cost
        .configs
        .iter()
        .filter_map(|c| {
            let points = sample(c.curve.as_ref()?, &volumes);
            (!points.is_empty()).then(|| (c.config.clone(), points))
        })
        .collect();
    // The serving options break-evens are stated for ("fine-tuned (on-demand custom-model deployment)").
    let option_lines = cost
        .configs
        .iter()
        .flat_map(|c| c.options.iter().map(move |o| (c, o)))
        .filter(|(_, o)| !o.option.configured)
        .filter_map(|(c, o)| {
            let label = format!("{} ({})", c.config, o.option.label);
            cost.break_evens.iter().any(|b| b.custom == label).then_some(())?;
            Some((label, sample(o.curve.as_ref()?, &volumes)))
        })
        .collect();
    let break_evens = cost
        .break_evens
        .iter()
        .filter_map(|b| {
            let volume = b.volume?.max(low);
            Some((
                format!(
                    "{} = {}: {} requests/month",
                    b.custom,
                    b.on_demand,
                    round_volume(volume)
                ),
                volume,
                b.monthly_cost?,
            ))
        })
        .collect();
    CostLines {
        currency: cost.currency.clone(),
        lines,
        option_lines,
        break_evens,
        volumes: cost.volumes.clone(),
    }
}

/// Cost per 1,000 requests at the main volume against mean quality, per priced config.
pub fn cost_points(cost: &CostReport, analysis: &super::analysis::Analysis) -> Vec<CostPoint> {
    cost.configs
        .iter()
        .zip(&analysis.configs)
        .filter_map(|(c, a)| {
            Some(CostPoint {
                config: c.config.clone(),
                per_thousand: c.main()?.per_thousand,
                quality: a.quality.mean?,
            })
        })
        .collect()
}

/// An axis value as money: whole amounts with thousands separators, cents below 10.
fn money_label(value: f64) -> String {
    if value >= 10.0 {
        round_volume(value.round())
    } else if value >= 0.01 {
        format!("{value:.2}")
    } else {
        format!("{value:.1e}")
    }
}

/// Monthly cost (log scale) against monthly volume (log scale).
pub fn cost_volume_chart(data: &CostLines) -> std::io::Result<String> {
    let mut svg = String::new();
    {
        let listed = data.break_evens.len() as u32;
        let height = PLOT_HEIGHT + if listed > 0 { 16 + LIST_LINE * listed } else { 0 };
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let (plot, list) = root.split_vertically(PLOT_HEIGHT);
        let points = data.lines.iter().chain(&data.option_lines).flat_map(|(_, p)| p.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
        for &(x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            if y > 0.0 {
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        if !(x0.is_finite() && y0.is_finite()) {
            (x0, x1, y0, y1) = (1.0, 10.0, 0.01, 1.0);
        }
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!("Monthly cost ({}) against monthly requests", data.currency),
                ("sans-serif", 18),
            )
            .margin(12)
            .margin_right(40)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d((x0..x1.max(x0 * 10.0)).log_scale(), (y0 / 2.0..y1 * 2.0).log_scale())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("requests per month")
            .y_desc("cost per month")
            .x_label_formatter(&|v| round_volume(*v))
            .y_label_formatter(&|v| money_label(*v))
            .draw()
            .map_err(chart_error)?;
        for (i, (name, points)) in data.lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied().filter(|p| p.1 > 0.0),
                    colour.stroke_width(2),
                ))
                .map_err(chart_error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
        }
        for (i, (name, points)) in data.option_lines.iter().enumerate() {
            let colour = PALETTE[(data.lines.len() + i) % PALETTE.len()];
            chart
                .draw_series(DashedLineSeries::new(
                    points.iter().copied().filter(|p| p.1 > 0.0),
                    6,
                    4,
                    colour.stroke_width(2),
                ))
                .map_err(chart_error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 6, y)], colour.stroke_width(2)));
        }
        chart
            .draw_series(
                data.break_evens
                    .iter()
                    .map(|(_, v, m)| Circle::new((*v, *m), 5, BLACK.filled())),
            )
            .map_err(chart_error)?
            .label("break-even (numbered, listed below)")
            .legend(|(x, y)| Circle::new((x + 8, y), 4, BLACK.filled()));
        // Numbers beside the points, alternately above and below, so neighbours do not collide.
        chart
            .draw_series(data.break_evens.iter().enumerate().map(|(i, (_, v, m))| {
                let shift = if i % 2 == 0 { 1.6 } else { 0.55 };
                Text::new(format!("{}", i + 1), (*v * 1.08, *m * shift), ("sans-serif", 13))
            }))
            .map_err(chart_error)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(chart_error)?;
        for (i, (label, _, _)) in data.break_evens.iter().enumerate() {
            let y = 8 + LIST_LINE as i32 * i as i32;
            list.draw(&Text::new(
                format!("{}. break-even: {label}", i + 1),
                (100, y),
                ("sans-serif", 13),
            ))
            .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Cost per 1,000 requests against mean quality, with the frontier dashed: the configs no other beats on both. The
/// cost axis is logarithmic when costs span more than 100×, so cheap configs do not collapse onto the axis.
pub fn cost_quality_chart(points: &[CostPoint]) -> std::io::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let positive: Vec<f64> = points.iter().map(|p| p.per_thousand).filter(|c| *c > 0.0).collect();
        let (low, high) = (
            positive.iter().copied().fold(f64::INFINITY, f64::min),
            positive.iter().copied().fold(0.0f64, f64::max),
        );
        let log = low.is_finite() && high / low > 100.0;
        // On a log axis costs are drawn as their logarithm, and labelled back in money.
        let y = |cost: f64| if log { cost.max(low).log10() } else { cost };
        let (bottom, top) = if log {
            ((low / 2.0).log10(), (high * 2.0).log10())
        } else {
            (0.0, high.max(1e-6) * 1.2)
        };
        let caption = if log {
            "Cost per 1,000 requests (log scale) against quality; frontier dashed"
        } else {
            "Cost per 1,000 requests against quality; frontier dashed"
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..100f64, bottom..top)
            .map_err(chart_error)?;
        // On a log axis, one label per power of ten.
        let y_labels = if log { (top - bottom).ceil() as usize + 1 } else { 10 };
        chart
            .configure_mesh()
            .x_desc("mean quality (points)")
            .y_desc("cost per 1,000 requests")
            .y_labels(y_labels)
            .y_label_formatter(&|v| money_label(if log { 10f64.powf(*v) } else { *v }))
            .draw()
            .map_err(chart_error)?;
        let mut frontier = frontier(points);
        frontier.sort_by(|a, b| a.quality.total_cmp(&b.quality));
        chart
            .draw_series(DashedLineSeries::new(
                frontier.iter().map(|p| (p.quality, y(p.per_thousand))),
                8,
                5,
                BLACK.mix(0.6).stroke_width(2),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                Circle::new(
                    (p.quality.clamp(0.0, 100.0), y(p.per_thousand)),
                    6,
                    PALETTE[i % PALETTE.len()].filled(),
                )
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(point_labels(points, &y, top - bottom))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// About how many quality points one character of a label takes at 13 px on the chart's 100-point axis.
const POINTS_PER_CHARACTER: f64 = 1.2;

/// Names beside the points, left to right by quality: above its point, or below it when the name above would run
/// into the previous name (a point close by in quality and cost).
fn point_labels<'a>(points: &'a [CostPoint], y: &dyn Fn(f64) -> f64, span: f64) -> Vec<Text<'a, (f64, f64), String>> {
    let mut by_quality: Vec<&CostPoint> = points.iter().collect();
    by_quality.sort_by(|a, b| a.quality.total_cmp(&b.quality));
    // The end (in quality points) and height of the last name in each lane: above and below the points.
    let mut lanes: [Option<(f64, f64)>; 2] = [None, None];
    let mut labels = Vec::new();
    for p in by_quality {
        let x = p.quality.clamp(0.0, 88.0) + 1.5;
        let height = y(p.per_thousand);
        let collides =
            |lane: Option<(f64, f64)>| lane.is_some_and(|(end, h)| x < end && (height - h).abs() < 0.08 * span);
        let lane = if collides(lanes[0]) && !collides(lanes[1]) {
            1
        } else {
            0
        };
        let offset = if lane == 1 { -0.07 * span } else { 0.03 * span };
        lanes[lane] = Some((x + p.config.chars().count() as f64 * POINTS_PER_CHARACTER, height));
        labels.push(Text::new(p.config.clone(), (x, height + offset), ("sans-serif", 13)));
    }
    labels
}

/// The configs on the cost-quality frontier: no other config is at least as good and at most as costly, and better
/// on one of the two.
pub fn frontier(points: &[CostPoint]) -> Vec<&CostPoint> {
    points
        .iter()
        .filter(|p| {
            !points.iter().any(|q| {
                q.quality >= p.quality
                    && q.per_thousand <= p.per_thousand
                    && (q.quality > p.quality || q.per_thousand < p.per_thousand)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart rendered to pixels (in process, with resvg): its size and how many pixels are not white.
    fn rendered(svg: &str) -> (u32, u32, usize, usize) {
        let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("valid SVG");
        let size = tree.size().to_int_size();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("a canvas");
        resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let ink = pixmap
            .pixels()
            .iter()
            .filter(|p| p.alpha() > 0 && (p.red() < 235 || p.green() < 235 || p.blue() < 235))
            .count();
        // Saturated pixels: the coloured lines and points, not the grey grid or black text.
        let colour = pixmap
            .pixels()
            .iter()
            .filter(|p| p.red().abs_diff(p.green()) > 40 || p.green().abs_diff(p.blue()) > 40)
            .count();
        (size.width(), size.height(), ink, colour)
    }

    fn point(config: &str, per_thousand: f64, quality: f64) -> CostPoint {
        CostPoint {
            config: config.into(),
            per_thousand,
            quality,
        }
    }

    #[test]
    fn the_frontier_keeps_only_undominated_configs_and_is_dashed() {
        let points = [
            point("cheap", 0.03, 35.0),
            point("mid", 0.07, 62.0),
            point("worse", 0.09, 50.0),
            point("top", 0.5, 83.0),
        ];
        let names: Vec<&str> = frontier(&points).iter().map(|p| p.config.as_str()).collect();
        assert_eq!(names, ["cheap", "mid", "top"]);
        let svg = cost_quality_chart(&points).unwrap();
        assert!(svg.contains("worse") && !svg.contains("log scale"));
        // Dashed, as the caption says: the frontier is many short segments (two points, three at a corner), not one polyline.
        let frontier: Vec<&str> = svg.lines().filter(|l| l.contains("opacity=\"0.6\"")).collect();
        assert!(frontier.len() > 10, "{svg}");
        assert!(frontier.iter().all(|l| l.matches(',').count() <= 3), "{frontier:?}");
    }

    #[test]
    fn costs_spanning_more_than_100x_get_a_log_axis_and_render_non_blank() {
        let points = [
            point("prompt", 0.028, 35.0),
            point("few-shot", 0.069, 62.0),
            point("fine-tuned", 4416.7, 83.0),
        ];
        let svg = cost_quality_chart(&points).unwrap();
        assert!(svg.contains("log scale"), "{svg}");
        let (width, height, ink, colour) = rendered(&svg);
        assert_eq!((width, height), (720, 420));
        // Axes, grid and points: well over 1% of the canvas drawn, a few hundred pixels in colour (the points).
        assert!(ink > (width * height) as usize / 100, "{ink}");
        assert!(colour > 300, "{colour}");
    }

    #[test]
    fn break_evens_are_numbered_and_listed_beneath_the_plot() {
        let lines = CostLines {
            currency: "USD".into(),
            lines: vec![
                ("a".into(), vec![(10.0, 1.0), (1000.0, 100.0)]),
                ("b".into(), vec![(10.0, 50.0), (1000.0, 50.0)]),
            ],
            option_lines: vec![("b (on demand)".into(), vec![(10.0, 0.5), (1000.0, 50.0)])],
            break_evens: vec![
                ("b = a: 500 requests/month".into(), 500.0, 50.0),
                ("b (on demand) = a: 520 requests/month".into(), 520.0, 52.0),
            ],
            volumes: vec![100.0],
        };
        let svg = cost_volume_chart(&lines).unwrap();
        // The two labels are on lines of their own beneath the plot, not beside their (nearly coincident) points.
        assert!(svg.contains("1. break-even: b = a: 500 requests/month"), "{svg}");
        assert!(
            svg.contains("2. break-even: b (on demand) = a: 520 requests/month"),
            "{svg}"
        );
        let (width, height, ink, colour) = rendered(&svg);
        assert_eq!((width, height), (720, 440 + 16 + 2 * 18));
        assert!(ink > (width * height) as usize / 100, "{ink}");
        assert!(colour > 300, "{colour}");
    }
}
