//! How much the commands say on the terminal: `--quiet` (errors only), the default, or `--verbose`. Set once by the
//! binary from its flags; read by the progress display and by the lines the commands print. Errors always print.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: no progress, notes or warnings.
    Quiet,
    /// Progress, notes, warnings and what was written.
    Normal,
    /// All that, and every failed or retried request as it happens.
    Verbose,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the process's verbosity.
pub fn set(verbosity: Verbosity) {
    LEVEL.store(verbosity as u8, Ordering::Relaxed);
}

/// The process's verbosity.
pub fn get() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Whether only errors are to be printed.
pub fn quiet() -> bool {
    get() == Verbosity::Quiet
}

/// Prints a line on stderr unless `--quiet`: a note, a warning, a progress line.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::verbosity::quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// Prints a line on stdout unless `--quiet`: what a command did (files written, totals).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::verbosity::quiet() {
            println!($($arg)*);
        }
    };
}
