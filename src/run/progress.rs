//! Progress while a run is under way: a live bar with rate and ETA when stderr is a terminal, a plain line every few
//! seconds otherwise (`12/66 requests (3.4/s), 5120 tokens, 0 errors, 1 retries`), nothing with `--quiet`. With
//! `--verbose`, every failed or retried request gets a line of its own as it finishes, and the plain line comes every
//! second.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use super::records::{Record, RecordStatus};
use crate::verbosity::{self, Verbosity};

/// The live bar, as wide as the terminal leaves it: done of total, the rate, the time left, then the running totals.
const BAR_TEMPLATE: &str = "{wide_bar:.cyan/blue} {pos}/{len} {prefix} · {rate} · eta {eta} · {msg}";

/// Tallies records as they arrive and shows them.
pub struct Progress {
    bar: Option<ProgressBar>,
    verbosity: Verbosity,
    total: usize,
    done: usize,
    started: Instant,
    last_line: Instant,
    tokens: u64,
    errors: usize,
    retries: usize,
    /// What is counted ("requests", "judge calls").
    unit: &'static str,
}

impl Progress {
    /// A progress display for `total` requests, `already_done` of them recorded earlier.
    pub fn new(total: usize, already_done: usize) -> Self {
        let verbosity = verbosity::get();
        let bar = (verbosity != Verbosity::Quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(BAR_TEMPLATE)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1}/s", state.per_sec());
                    })
                    .progress_chars("█▉▊▋▌▍▎▏ "),
            );
            bar.set_prefix("requests");
            bar.set_position(already_done as u64);
            // Rate and ETA count this session's calls only, not those recorded by an earlier one.
            bar.reset_eta();
            bar
        });
        Progress {
            bar,
            verbosity,
            total,
            done: already_done,
            started: Instant::now(),
            last_line: Instant::now(),
            tokens: 0,
            errors: 0,
            retries: 0,
            unit: "requests",
        }
    }

    /// The same display, counting something else (e.g. "judge calls").
    pub fn counting(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        if let Some(bar) = &self.bar {
            bar.set_prefix(unit);
        }
        self
    }

    /// Counts one record.
    pub fn record(&mut self, record: &Record) {
        self.done += 1;
        self.tokens += record.input_tokens + record.output_tokens;
        self.retries += record.attempts.saturating_sub(1) as usize;
        if record.status == RecordStatus::Error {
            self.errors += 1;
        }
        if self.verbosity == Verbosity::Verbose {
            if let Some(line) = notable(record) {
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
        }
        let message = format!(
            "{} tokens, {} errors, {} retries",
            self.tokens, self.errors, self.retries
        );
        let every = match self.verbosity {
            Verbosity::Verbose => Duration::from_secs(1),
            _ => Duration::from_secs(5),
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(self.done as u64);
                bar.set_message(message);
            }
            None if self.verbosity == Verbosity::Quiet => {}
            None if self.last_line.elapsed() >= every || self.done == self.total => {
                self.last_line = Instant::now();
                let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                eprintln!("{}/{} {} ({rate:.1}/s), {message}", self.done, self.total, self.unit);
            }
            None => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A line for a request that failed or needed retries (`--verbose`); `None` for one that went through at once.
fn notable(record: &Record) -> Option<String> {
    let what = match &record.criterion {
        Some(criterion) => format!("judge {criterion} of {} / {}", record.example_id, record.config),
        None => format!("{} / {}", record.example_id, record.config),
    };
    let repeat = if record.repeat > 0 {
        format!(" (repeat {})", record.repeat + 1)
    } else {
        String::new()
    };
    let retried = if record.retried.is_empty() {
        String::new()
    } else {
        let kinds: Vec<&str> = record.retried.iter().map(|e| e.kind.as_str()).collect();
        format!(", retried after {}", kinds.join(", "))
    };
    match &record.error {
        Some(error) => Some(format!(
            "failed: {what}{repeat}: {error} ({} attempts{retried})",
            record.attempts
        )),
        None if record.attempts > 1 => Some(format!(
            "retried: {what}{repeat}: ok on attempt {}{retried}",
            record.attempts
        )),
        None => None,
    }
}
