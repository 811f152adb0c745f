//! How much the commands say on the terminal: `--quiet` (errors only), the default, or `--verbose`. Set once by the
//! binary from its flags; read by the progress display and by the lines the commands print. Errors always print.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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

/// Prints a line on stdout unless `--quiet`: what a command did (files written, totals). Like every write to
/// standard output, it goes quiet once the reader has gone (see [`write_stdout`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::verbosity::quiet() {
            $crate::verbosity::write_stdout(format_args!("{}\n", format_args!($($arg)*)));
        }
    };
}

/// Set once standard output cannot be written to any more.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output, unless an earlier write found it closed: once the reader has gone (a closed
/// pipe, `… --json | head -1`), further output is dropped quietly and the command carries on to its own exit code,
/// instead of panicking as `println!` does.
pub fn write_stdout(text: fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write to standard output any more ({error}); the files written are complete");
        }
    }
}
