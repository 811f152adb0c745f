//! The `bedrock-eval` binary: parse the command line, call the library, map errors to exit codes.
//!
//! Exit codes (the full table is in docs/ci.md): 0 success; 1 a finding (a regression, a failed data check); 2 a
//! usage or input error, reported before any model is called; 3 an operational failure (credentials, access, too
//! many failed requests, a run folder in use, I/O); 130 interrupted by Ctrl-C, 143 by SIGTERM (resume to finish).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: under glibc's, a run at concurrency 64 spent about a sixth of its CPU in
/// `_int_malloc` (the SDK's many short-lived buffers freed on other threads); see docs/benchmarks.md, "Scale".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// [`bedrock_eval::memory::release_freed_memory`] before anything is allocated: where it runs from `main`, the first
/// arena has already been reserved, committed up front. A constructor right after mimalloc's own (priority 101, which
/// reads its options from the environment) and before the first Rust allocation.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00102")]
static RELEASE_FREED_MEMORY: extern "C" fn() = bedrock_eval::memory::release_freed_memory;

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    bedrock_eval::memory::release_freed_memory();
    let cli = cli::Cli::parse();
    bedrock_eval::verbosity::set(match (cli.quiet, cli.verbose) {
        (true, _) => bedrock_eval::verbosity::Verbosity::Quiet,
        (false, true) => bedrock_eval::verbosity::Verbosity::Verbose,
        (false, false) => bedrock_eval::verbosity::Verbosity::Normal,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(commands::dispatch(cli.command)) {
        Ok(code) => code,
        Err(error) => commands::report_error(&error),
    }
}
