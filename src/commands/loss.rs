//! `bedrock-eval loss`: read a customization job's loss curves.

use std::process::ExitCode;

use anyhow::Context;
use bedrock_eval::data;
use bedrock_eval::say;

use crate::cli::LossArgs;
use crate::commands::output::outln;

pub(crate) fn loss(args: &LossArgs) -> anyhow::Result<ExitCode> {
    let curves = data::loss::read_metrics(&args.paths)?;
    let diagnosis = data::loss::diagnose(&curves);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut table = String::from("| epoch | training loss | validation loss |\n|---|---|---|\n");
    for epoch in &diagnosis.epochs {
        let value = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            epoch.epoch,
            value(epoch.training_loss),
            value(epoch.validation_loss)
        ));
    }
    let summary = format!(
        "# Training diagnostics\n\n{}\n\n{}{}\n![Training and validation loss per epoch](loss.svg)\n",
        diagnosis.explanation,
        diagnosis
            .stop_epoch
            .map_or(String::new(), |e| format!("**Stop at epoch {e}.**\n\n")),
        table
    );
    let files = [
        ("loss.md", summary.into_bytes()),
        ("loss.json", serde_json::to_vec_pretty(&diagnosis)?),
        ("loss.svg", data::loss::curves_svg(&diagnosis)?.into_bytes()),
    ];
    outln!("{}", diagnosis.explanation);
    for (name, bytes) in files {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        say!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
