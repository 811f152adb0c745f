//! Standard output that outlives its reader (see `bedrock_eval::verbosity::write_stdout`): for a command's results,
//! which `--quiet` does not silence (`plan --json`, a data report). Informational lines use `say!` instead.

/// Prints a line to standard output, as `println!`, without panicking when the reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {
        bedrock_eval::verbosity::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard output, as `print!`, without panicking when the reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        bedrock_eval::verbosity::write_stdout(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
