//! The loss curves as SVG: mean training and validation loss per epoch, with the epoch to stop at marked. Drawn with
//! plotters' SVG backend like the report's charts (fonts are left to the viewer, so equal data give equal bytes).

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::diagnose::LossDiagnosis;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 420;
const TRAINING_COLOUR: RGBColor = RGBColor(49, 105, 173);
const VALIDATION_COLOUR: RGBColor = RGBColor(214, 110, 30);
const STOP_COLOUR: RGBColor = RGBColor(180, 40, 40);

fn chart_error(error: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot draw chart: {error}"))
}

/// Mean training and validation loss per epoch, and a dashed line at the diagnosis' stop epoch (if any).
pub fn curves_svg(diagnosis: &LossDiagnosis) -> std::io::Result<String> {
    let training: Vec<(f64, f64)> = diagnosis
        .epochs
        .iter()
        .filter_map(|e| Some((f64::from(e.epoch), e.training_loss?)))
        .collect();
    let validation: Vec<(f64, f64)> = diagnosis
        .epochs
        .iter()
        .filter_map(|e| Some((f64::from(e.epoch), e.validation_loss?)))
        .collect();
    let first = diagnosis.epochs.first().map_or(0.0, |e| f64::from(e.epoch));
    let last = diagnosis.epochs.last().map_or(1.0, |e| f64::from(e.epoch));
    let top = training
        .iter()
        .chain(&validation)
        .map(|p| p.1)
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Loss per epoch (mean over the epoch)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(first - 0.5..last + 0.5, 0f64..top)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .x_labels(((last - first) as usize + 1).min(20))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(chart_error)?;
        for (name, points, colour) in [
            ("training", &training, TRAINING_COLOUR),
            ("validation", &validation, VALIDATION_COLOUR),
        ] {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
                .map_err(chart_error)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(chart_error)?;
        }
        if let Some(stop) = diagnosis.stop_epoch.map(f64::from) {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(stop, 0.0), (stop, top)],
                    6,
                    4,
                    STOP_COLOUR.stroke_width(2),
                )))
                .map_err(chart_error)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("stop at epoch {stop:.0}"),
                    (stop + 0.05, top * 0.97),
                    ("sans-serif", 13).into_font().color(&STOP_COLOUR),
                )))
                .map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::super::diagnose::{EpochLoss, Verdict};
    use super::*;

    fn diagnosis(stop_epoch: Option<u32>) -> LossDiagnosis {
        LossDiagnosis {
            epochs: (1..=4)
                .map(|epoch| EpochLoss {
                    epoch,
                    training_loss: Some(1.0 / f64::from(epoch)),
                    validation_loss: Some(0.5 + (f64::from(epoch) - 2.0).abs() * 0.1),
                })
                .collect(),
            best_validation_epoch: Some(2),
            verdict: Verdict::Overfitting,
            stop_epoch,
            tolerance: 0.01,
            explanation: String::new(),
        }
    }

    #[test]
    fn svg_with_both_curves_and_the_stop_epoch() {
        let svg = curves_svg(&diagnosis(Some(2))).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("stop at epoch 2"));
        assert!(svg.contains("training") && svg.contains("validation"));
        assert_eq!(svg, curves_svg(&diagnosis(Some(2))).unwrap());
        assert!(!curves_svg(&diagnosis(None)).unwrap().contains("stop at epoch"));
    }
}
