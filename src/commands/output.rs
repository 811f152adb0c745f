//! Standard output that outlives its reader: once the reader has gone (a closed pipe, `… --json | head -1`),
//! further output is dropped quietly and the command carries on to its own exit code, instead of panicking.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output cannot be written to any more.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output, unless an earlier write found it closed.
pub(crate) fn write(text: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write to standard output any more ({error}); the files written are complete");
        }
    }
}

/// Prints a line to standard output, as `println!`, without panicking when the reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard output, as `print!`, without panicking when the reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
