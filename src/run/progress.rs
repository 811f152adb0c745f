//! Progress while a run is under way: a bar on a terminal, a quiet line every few seconds otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::records::{Record, RecordStatus};

/// Tallies records as they arrive and shows them.
pub struct Progress {
    bar: Option<ProgressBar>,
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
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_position(already_done as u64);
            bar
        });
        Progress {
            bar,
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
        let message = format!(
            "{} tokens, {} errors, {} retries",
            self.tokens, self.errors, self.retries
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(self.done as u64);
                bar.set_message(message);
            }
            None if self.last_line.elapsed() >= Duration::from_secs(5) || self.done == self.total => {
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
