//! The command line: what the user typed, as clap parses it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Evaluate prompt, few-shot and fine-tuned Bedrock models against each other, with statistics and cost.
#[derive(Debug, Parser)]
#[command(name = "bedrock-eval", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print errors only: no progress, notes, warnings or list of files written.
    #[arg(long, short, global = true, conflicts_with = "verbose", display_order = 1000)]
    pub quiet: bool,
    /// Print more: each failed or retried request as it finishes, and progress every second when not on a terminal.
    #[arg(long, short, global = true, display_order = 1000)]
    pub verbose: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite: call every config on every held-out example, record, score and report.
    Run(RunArgs),
    /// Estimate a suite's run before spending anything: requests, tokens, cost and duration.
    Plan {
        /// The suite file.
        suite: PathBuf,
        /// Latency assumed per call for the duration estimate (ms).
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        latency_ms: u64,
        /// Print the estimate as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a suite and everything it references, without calling a model.
    Validate {
        /// The suite file.
        suite: PathBuf,
    },
    /// Rebuild a run's reports from its records (no model is called).
    Report {
        /// The run directory (results/<suite>/<run-id>).
        run_dir: PathBuf,
        /// Report-only settings.
        #[command(flatten)]
        report: ReportOptions,
    },
    /// Re-score a run (e.g. after editing the rubric): no generation calls; only judge verdicts whose request
    /// changed are asked for.
    Score(ScoreArgs),
    /// Compare two runs of a suite: per config, did quality regress, improve, or stay? Exit 1 when something
    /// regressed.
    Compare(CompareArgs),
    /// Fine-tuning data: check a file, split it, find leakage between training and held-out data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Read a customization job's training and validation metrics: where did validation loss stop improving?
    Loss(LossArgs),
    /// Serve the embedded Bedrock-compatible endpoint (simulated models) until interrupted.
    Serve(ServeArgs),
    /// Print the JSON Schema of suite or rubric files, for editors (schemas/ holds the same files).
    Schema {
        /// Which file's schema.
        #[arg(value_enum)]
        file: SchemaArg,
    },
    /// Print a shell completion script (bash, zsh, fish or powershell) on stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The files with a JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaArg {
    /// Suite files (`suite.yaml`).
    Suite,
    /// Rubric files.
    Rubric,
}

/// Where model calls go.
#[derive(Debug, Args, Clone, Default)]
pub struct EndpointArgs {
    /// Use the embedded, simulated endpoint (offline; started in-process on 127.0.0.1).
    #[arg(long, conflicts_with_all = ["endpoint_url", "profile"])]
    pub local: bool,
    /// Send Converse calls here instead of AWS (also read from AWS_ENDPOINT_URL_BEDROCK_RUNTIME by the SDK).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: the standard chain, e.g. AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named AWS profile (default: the standard chain, e.g. AWS_PROFILE).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

/// `run`'s arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The suite file.
    pub suite: PathBuf,
    /// Where calls go.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Folder that holds <suite>/<run-id> (default: results).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Name of the run folder (default: the UTC start time).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Continue an earlier run (the one named by --run-id, else the one started last), skipping recorded requests.
    /// It goes to the endpoint, region, profile, concurrency and mode the run was started with, unless given again.
    #[arg(long)]
    pub resume: bool,
    /// With --resume, accept an endpoint other than the one the run was started on (the report then says which
    /// records came from where).
    #[arg(long, requires = "resume")]
    pub endpoint_change: bool,
    /// With --resume, ask again the requests whose record is an error.
    #[arg(long, requires = "resume")]
    pub retry_errors: bool,
    /// Most calls in flight (overrides the suite's `concurrency`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
    /// How generation calls are made: `live` (on-demand Converse through the executor) or `batch` (Bedrock batch
    /// inference jobs; needs the suite's `batch:` section) (default: live).
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<Mode>,
    /// S3 endpoint for batch input and output (default: AWS, or AWS_ENDPOINT_URL_S3).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint_url: Option<String>,
    /// Refuse to run when held-out examples leak into the few-shot pool (otherwise a warning).
    #[arg(long)]
    pub strict: bool,
    /// After the run, compare it with this earlier run (as `compare`), with the same exit codes.
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Option<PathBuf>,
    /// Regression rule for --baseline.
    #[command(flatten)]
    pub rule: RegressionOptions,
    /// The fraction of planned requests that may fail (after retries) before the run stops calling and exits 3,
    /// reports written (overrides the suite's `max_error_rate`, default 0.1).
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true, value_parser = parse_fraction)]
    pub max_error_rate: Option<f64>,
    /// Refuse to start when the plan's estimated cost (generation and judge, at per-token prices) exceeds this.
    #[arg(long, value_name = "USD", allow_negative_numbers = true, value_parser = parse_amount)]
    pub max_cost: Option<f64>,
    /// Report settings.
    #[command(flatten)]
    pub report: ReportOptions,
}

/// How generation calls are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// On-demand calls.
    Live,
    /// Bedrock batch inference.
    Batch,
}

/// `data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Check a JSONL file against Bedrock's customization formats and limits, and for duplicates. Exit 1 on errors.
    Check {
        /// The JSONL file.
        file: PathBuf,
        /// The file's format: auto, prompt-completion, bedrock-conversation-2024 or claude-conversation.
        #[arg(long, default_value = "auto", value_name = "FORMAT")]
        format: bedrock_eval::data::Format,
        /// Model family whose limits apply (nova, nova-2-lite, claude-3-haiku, llama-3.1, titan-text-express, …, or a
        /// model id).
        #[arg(long, value_name = "FAMILY")]
        family: Option<bedrock_eval::data::ModelFamily>,
        /// What the file is for: training, validation or held-out (held-out examples may lack the reply and carry
        /// extra fields).
        #[arg(long, default_value = "training", value_name = "PURPOSE")]
        purpose: bedrock_eval::data::Purpose,
        /// Jaccard similarity (0 to 1) at which two records are near duplicates.
        #[arg(long, default_value = "0.8", value_name = "SIMILARITY")]
        threshold: bedrock_eval::data::Threshold,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Split a file into train, validation and test parts (seeded; near duplicates stay together).
    Split {
        /// The JSONL file.
        file: PathBuf,
        /// Share of the records for validation (0 to 1).
        #[arg(long, default_value_t = 0.15, value_name = "FRACTION", value_parser = parse_fraction)]
        validation: f64,
        /// Share of the records for test (0 to 1).
        #[arg(long, default_value_t = 0.10, value_name = "FRACTION", value_parser = parse_fraction)]
        test: f64,
        /// Seed of the shuffle.
        #[arg(long, default_value_t = 0, value_name = "N")]
        seed: u64,
        /// Jaccard similarity (0 to 1) at which records are kept in the same part.
        #[arg(long, default_value = "0.8", value_name = "SIMILARITY")]
        threshold: bedrock_eval::data::Threshold,
        /// Folder for the parts (default: the input's folder); existing files are never overwritten.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Held-out examples that also appear, exactly or nearly, in training data. Exit 1 when any does.
    Leakage {
        /// The training (or few-shot pool) file.
        #[arg(long, value_name = "FILE")]
        train: PathBuf,
        /// The held-out file.
        #[arg(long, value_name = "FILE")]
        held_out: PathBuf,
        /// Jaccard similarity (0 to 1) at which a pair is a near duplicate.
        #[arg(long, default_value = "0.8", value_name = "SIMILARITY")]
        threshold: bedrock_eval::data::Threshold,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `loss`'s arguments.
#[derive(Debug, Args)]
pub struct LossArgs {
    /// The job's output folder (searched for step_wise_training_metrics.csv and validation_metrics.csv), or files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Folder for loss.md, loss.json and loss.svg.
    #[arg(long, value_name = "DIR", default_value = "results/loss")]
    pub out: PathBuf,
}

/// When a drop counts as a regression.
#[derive(Debug, Args, Clone, Copy)]
pub struct RegressionOptions {
    /// Significance level, 0 < ALPHA < 0.5, of the paired test against the earlier run (Holm-adjusted across
    /// configs) (default: 0.05). For `run`, with or without --baseline, it is also the level of the run's own
    /// report, in place of the suite's `analysis.alpha`.
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: Option<f64>,
    /// Tolerance in quality points: a significant drop no larger than this is not a regression.
    #[arg(long, default_value_t = 0.0, value_name = "POINTS", allow_negative_numbers = true, value_parser = parse_points)]
    pub max_drop: f64,
}

/// `compare`'s arguments.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run (results/<suite>/<run-id>).
    pub base_run: PathBuf,
    /// The later run.
    pub new_run: PathBuf,
    /// Folder for compare.md, compare.html, compare.csv, compare.json and compare-junit.xml (default: the new run's
    /// folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Regression rule.
    #[command(flatten)]
    pub rule: RegressionOptions,
}

/// Settings of the reports themselves.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct ReportOptions {
    /// A difference in quality points to size a follow-up for: the report gives the examples needed to detect it
    /// (default: the observed difference).
    #[arg(long, value_name = "POINTS", allow_negative_numbers = true, value_parser = parse_difference)]
    pub target_diff: Option<f64>,
}

/// `score`'s arguments.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The run directory (results/<suite>/<run-id>).
    pub run_dir: PathBuf,
    /// Score with this rubric instead of the suite's (later `report`s of the run use it too).
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Where judge calls go (a run made with --local is judged on the embedded endpoint when none is given).
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Ask again the judge calls that ended in an error.
    #[arg(long)]
    pub retry_errors: bool,
    /// Most judge calls in flight (overrides the suite's `concurrency`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
    /// Report settings.
    #[command(flatten)]
    pub report: ReportOptions,
}

/// `serve`'s arguments; fault flags override the suite's `local_endpoint.faults`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Loopback address to bind; port 0 picks a free port (printed on start).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// A suite whose `local_endpoint` section (custom models, faults, seed) to serve.
    #[arg(long, value_name = "SUITE")]
    pub suite: Option<PathBuf>,
    /// Seed for the simulated models and faults (default: the suite's, else 0).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Fixed latency added to every answer (ms).
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Uniform random latency added on top (ms).
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<u64>,
    /// Fraction of requests answered 429 ThrottlingException (0 to 1).
    #[arg(long, value_name = "FRACTION")]
    pub throttle_rate: Option<f64>,
    /// Enforced requests-per-minute quota per model (429 beyond it).
    #[arg(long, value_name = "N")]
    pub quota_rpm: Option<u32>,
    /// Enforced tokens-per-minute quota per model (429 beyond it).
    #[arg(long, value_name = "N")]
    pub quota_tpm: Option<u64>,
    /// Fraction of requests answered 500/503 (0 to 1).
    #[arg(long, value_name = "FRACTION")]
    pub server_error_rate: Option<f64>,
    /// Fraction of requests delayed by --slow-ms (0 to 1).
    #[arg(long, value_name = "FRACTION")]
    pub slow_rate: Option<f64>,
    /// Delay of slow responses (ms).
    #[arg(long, value_name = "MS")]
    pub slow_ms: Option<u64>,
    /// Fraction of requests answered 200 with a malformed body (0 to 1).
    #[arg(long, value_name = "FRACTION")]
    pub malformed_rate: Option<f64>,
    /// Fraction of judge (grading) requests answered with a malformed verdict (0 to 1).
    #[arg(long, value_name = "FRACTION")]
    pub malformed_verdict_rate: Option<f64>,
    /// Planted regression: MODEL=FRACTION degrades that share of the model's answers to a generic reply
    /// (repeatable).
    #[arg(long, value_name = "MODEL=FRACTION")]
    pub degrade: Vec<String>,
    /// Close a connection whose request head (request line and headers) has not arrived this long after it opened
    /// or after its previous answer (default: 10000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: Option<u64>,
    /// Most connections open at once, 1 to 65536; more wait to be accepted (default: 1024).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub max_connections: Option<usize>,
}

/// A finite number, or what the flag needs instead.
fn finite(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(value) => Err(format!("must be a finite number, got {value}")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A finite number that `accept`s, or what the flag needs (`expected`).
fn bounded(text: &str, accept: impl Fn(f64) -> bool, expected: &str) -> Result<f64, String> {
    let value = finite(text)?;
    if accept(value) {
        Ok(value)
    } else {
        Err(format!("must be {expected}; got {value}"))
    }
}

/// `--alpha`: a significance level, strictly between 0 and 0.5.
fn parse_alpha(text: &str) -> Result<f64, String> {
    bounded(text, |a| a > 0.0 && a < 0.5, "between 0 and 0.5 (exclusive), e.g. 0.05")
}

/// `--max-error-rate`, `data split --validation` and `--test`: a fraction, 0 to 1.
fn parse_fraction(text: &str) -> Result<f64, String> {
    bounded(text, |f| (0.0..=1.0).contains(&f), "a fraction from 0 to 1, e.g. 0.1")
}

/// `--max-drop`: quality points, 0 to 100.
fn parse_points(text: &str) -> Result<f64, String> {
    bounded(text, |p| (0.0..=100.0).contains(&p), "quality points from 0 to 100")
}

/// `--target-diff`: a non-zero difference in quality points, -100 to 100.
fn parse_difference(text: &str) -> Result<f64, String> {
    bounded(
        text,
        |d| d != 0.0 && (-100.0..=100.0).contains(&d),
        "a non-zero difference in quality points, from -100 to 100",
    )
}

/// `--max-cost`: a non-negative amount of US dollars.
fn parse_amount(text: &str) -> Result<f64, String> {
    bounded(text, |a| a >= 0.0, "a non-negative amount of US dollars")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_flags_refuse_nan_infinity_and_out_of_range_values() {
        for text in ["NaN", "nan", "inf", "-inf", "0", "0.5", "-0.1", "x"] {
            assert!(parse_alpha(text).is_err(), "--alpha {text}");
        }
        assert_eq!(parse_alpha("0.01"), Ok(0.01));
        for text in ["NaN", "inf", "-1", "101"] {
            assert!(parse_points(text).is_err(), "--max-drop {text}");
        }
        assert_eq!(parse_points("2.5"), Ok(2.5));
        for text in ["NaN", "-inf", "0", "150"] {
            assert!(parse_difference(text).is_err(), "--target-diff {text}");
        }
        assert_eq!(parse_difference("-3"), Ok(-3.0));
        for text in ["NaN", "inf", "-0.01"] {
            assert!(parse_amount(text).is_err(), "--max-cost {text}");
        }
        assert_eq!(parse_amount("0"), Ok(0.0));
        for text in ["NaN", "1.5", "-0.1"] {
            assert!(parse_fraction(text).is_err(), "--max-error-rate {text}");
        }
        assert_eq!(parse_fraction("0"), Ok(0.0));
    }
}
