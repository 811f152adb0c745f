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

/// Gives freed memory back to the system soon rather than holding it: mimalloc's defaults keep freed pages resident for
/// a second, in arenas committed up front, where a purge only marks pages as reusable. Arenas committed on demand, and
/// a 10 ms purge delay (0 ms cost a `run` about 5% more CPU, for no less memory): a report on a million records peaked
/// about 40 MiB lower, `compare` 50 MiB (docs/benchmarks.md, "Scale").
extern "C" fn release_freed_memory() {
    // `mi_option_set` and the option numbers of the mimalloc (v3) that libmimalloc-sys builds: `mimalloc.h`'s
    // `mi_option_e` (the crate names neither option). Cargo.lock pins that crate's version.
    const OPTIONS: [(std::ffi::c_int, std::ffi::c_long, &std::ffi::CStr); 2] = [
        (4, 0, c"MIMALLOC_ARENA_EAGER_COMMIT"),
        (15, 10, c"MIMALLOC_PURGE_DELAY"),
    ];
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        fn getenv(name: *const std::ffi::c_char) -> *mut std::ffi::c_char;
    }
    for (option, value, variable) in OPTIONS {
        // SAFETY: `getenv` reads the environment (nothing writes it this early; no allocation, so mimalloc is not yet
        // touched); `mi_option_set` is a plain setter of mimalloc's global options. An option set in the
        // environment is left as mimalloc read it (to compare, or to tune).
        unsafe {
            if getenv(variable.as_ptr()).is_null() {
                mi_option_set(option, value);
            }
        }
    }
}

/// [`release_freed_memory`] before anything is allocated: where it runs from `main`, the first arena has already been
/// reserved, committed up front. A constructor right after mimalloc's own (priority 101, which reads its options from
/// the environment) and before the first Rust allocation.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00102")]
static RELEASE_FREED_MEMORY: extern "C" fn() = release_freed_memory;

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    release_freed_memory();
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
