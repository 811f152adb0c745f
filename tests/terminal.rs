//! What a run says on the terminal: a live bar with rate and ETA when stderr is a terminal, plain progress lines
//! when it is not, nothing but errors with `--quiet`, and each retried or failed request with `--verbose`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{command, mini_suite, records};

/// The mini suite with the embedded endpoint throttling a share of requests, so some are retried.
fn throttled_suite(dir: &Path) -> std::path::PathBuf {
    let suite = mini_suite(dir);
    let mut text = std::fs::read_to_string(&suite).unwrap();
    text.push_str("  faults:\n    throttle_rate: 0.3\n");
    std::fs::write(&suite, text).unwrap();
    suite
}

fn run(dir: &Path, suite: &Path, flags: &[&str]) -> Output {
    let output = command()
        .args(flags)
        .arg("run")
        .arg(suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(dir.join("results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Retries over a run's records (attempts beyond the first), and the records that needed any.
fn retries(dir: &Path) -> (u32, usize) {
    let records = records(&dir.join("results/mini/r"));
    let attempts: Vec<u32> = records.iter().map(|r| r["attempts"].as_u64().unwrap() as u32).collect();
    (
        attempts.iter().map(|a| a - 1).sum(),
        attempts.iter().filter(|a| **a > 1).count(),
    )
}

#[test]
fn without_a_terminal_progress_is_plain_lines_and_verbose_adds_each_retried_request() {
    let dir = tempfile::tempdir().unwrap();
    let suite = throttled_suite(dir.path());
    let output = run(dir.path(), &suite, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (retried, retried_records) = retries(dir.path());
    assert!(retried > 0, "the endpoint throttled nothing");
    // The last progress line: all 24 requests, the rate, and the totals.
    let last = stderr
        .lines()
        .rfind(|l| l.contains(" requests ("))
        .unwrap_or_else(|| panic!("no progress line:\n{stderr}"));
    let pattern = regex::Regex::new(&format!(
        r"^24/24 requests \(\d+\.\d/s\), \d+ tokens, 0 errors, {retried} retries$"
    ))
    .unwrap();
    assert!(pattern.is_match(last), "{last}");
    assert!(!stderr.contains("retried: "), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("wrote "));

    let dir = tempfile::tempdir().unwrap();
    let suite = throttled_suite(dir.path());
    let output = run(dir.path(), &suite, &["--verbose"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (_, retried_records_now) = retries(dir.path());
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("retried: ")).collect();
    assert_eq!(lines.len(), retried_records_now, "{stderr}");
    assert!(retried_records > 0);
    let shape = regex::Regex::new(r"^retried: [\w-]+ / [\w-]+: ok on attempt \d+, retried after throttling").unwrap();
    assert!(lines.iter().all(|l| shape.is_match(l)), "{lines:?}");
}

#[test]
fn quiet_prints_errors_only() {
    let dir = tempfile::tempdir().unwrap();
    let suite = throttled_suite(dir.path());
    let output = run(dir.path(), &suite, &["--quiet"]);
    // The mini suite leaks one held-out example into its pool: even that warning is left out.
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert!(dir.path().join("results/mini/r/report.html").is_file());

    let output = command()
        .args(["validate", "-q"])
        .arg(dir.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.yaml"));

    let output = command().args(["-q", "-v", "validate"]).arg(&suite).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "--quiet and --verbose together are refused"
    );
}

#[test]
fn on_a_terminal_progress_is_a_live_bar_with_rate_and_eta() {
    let dir = tempfile::tempdir().unwrap();
    let suite = throttled_suite(dir.path());
    // `script` (util-linux) runs the command on a pseudo-terminal and copies what it drew.
    let binary = command();
    let mut script = Command::new("script");
    for (name, value) in binary.get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    let line = format!(
        "{} run {} --local --run-id r --results {}",
        binary.get_program().to_str().unwrap(),
        suite.display(),
        dir.path().join("results").display()
    );
    let output = script
        .env("TERM", "xterm-256color")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .expect("run script(1), from util-linux");
    let drawn = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{drawn}");
    let bar =
        regex::Regex::new(r"\d+/24 requests · \d+\.\d/s · eta \d+\w* · \d+ tokens, \d+ errors, \d+ retries").unwrap();
    assert!(bar.is_match(&drawn), "no live bar in:\n{drawn}");
    // The bar is redrawn in place (carriage returns and line clears), not printed as plain lines.
    assert!(drawn.contains("\r\u{1b}[2K"), "{drawn}");
    assert!(
        !drawn.contains(" requests ("),
        "plain progress lines on a terminal:\n{drawn}"
    );
}
