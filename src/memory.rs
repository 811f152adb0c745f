//! How the binary's allocator (mimalloc) gives freed memory back to the system.
//!
//! The binary sets two of mimalloc's options before anything is allocated ([`release_freed_memory`]): arenas committed
//! on demand, and freed pages returned after 10 ms rather than a second. That keeps a report on a million records
//! about 40 MiB lower. But a scoring pass frees and reallocates its buffers all the time, and returning them that soon
//! cost it seconds of system time in purges and page faults. So a pass holds freed pages for longer
//! ([`HoldFreedMemory`]), then returns them all at once when it ends, before the analysis allocates its own.
//!
//! Nothing here changes what is computed. Where mimalloc is not the global allocator (the library's tests), the
//! options are set on an allocator nothing uses. An option set in the environment (`MIMALLOC_PURGE_DELAY`, to compare
//! or to tune) is left as mimalloc read it.

use std::ffi::{c_char, c_int, c_long, CStr};
use std::sync::Mutex;

// The declarations below name symbols of mimalloc's C library, which this crate links only when it is used.
use mimalloc as _;

/// `mimalloc.h`'s `mi_option_e` numbers, of the mimalloc (v3) that libmimalloc-sys builds (the crate names neither
/// option); Cargo.lock pins that crate's version.
const ARENA_EAGER_COMMIT: (c_int, &CStr) = (4, c"MIMALLOC_ARENA_EAGER_COMMIT");
const PURGE_DELAY: (c_int, &CStr) = (15, c"MIMALLOC_PURGE_DELAY");

/// Purge delay outside a scoring pass, in milliseconds (0 ms cost a `run` about 5% more CPU, for no less memory).
const RELEASE_DELAY_MS: c_long = 10;

/// Purge delay during a scoring pass. Measured at a million records (docs/benchmarks.md, "Freed memory held through
/// the pass"): 100 ms took `report`'s system time from 3.2–4.3 s to 2.0–2.6 s; 250 ms and mimalloc's default of
/// 1000 ms gained little more, and `compare`, which holds one run's scores through the other's pass, then peaked at
/// 251 and 266 MiB (100 ms: 246).
const HOLD_DELAY_MS: c_long = 100;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_collect(force: bool);
    fn getenv(name: *const c_char) -> *mut c_char;
}

/// Sets `option` to `value`, unless the environment set it.
fn set_unless_in_environment((option, variable): (c_int, &CStr), value: c_long) {
    // Through std, which guards the environment against `std::env::set_var` on other threads.
    if std::env::var_os(variable.to_str().unwrap_or_default()).is_none() {
        // SAFETY: a plain setter of mimalloc's global options, which mimalloc reads afresh each time it decides.
        unsafe { mi_option_set(option, value) };
    }
}

/// Sets the options described in the module docs. The binary calls it before its first allocation: where it runs from
/// `main`, the first arena has already been reserved, committed up front.
pub extern "C" fn release_freed_memory() {
    for ((option, variable), value) in [(ARENA_EAGER_COMMIT, 0), (PURGE_DELAY, RELEASE_DELAY_MS)] {
        // SAFETY: `getenv` reads the environment without allocating (so mimalloc is not yet touched); this runs
        // before `main`, where nothing writes the environment. `mi_option_set` as above.
        unsafe {
            if getenv(variable.as_ptr()).is_null() {
                mi_option_set(option, value);
            }
        }
    }
}

/// Passes holding freed memory right now: the last one to end returns it.
static HOLDERS: Mutex<usize> = Mutex::new(0);

/// While alive, freed pages are held for [`HOLD_DELAY_MS`] before they go back to the system; when the last holder
/// drops, every freed page goes back at once and the short delay returns.
#[must_use = "freed memory is held only while the guard lives"]
pub struct HoldFreedMemory(());

impl HoldFreedMemory {
    /// Starts holding freed memory.
    pub fn start() -> Self {
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        if *holders == 0 {
            set_unless_in_environment(PURGE_DELAY, HOLD_DELAY_MS);
        }
        *holders += 1;
        HoldFreedMemory(())
    }
}

impl Drop for HoldFreedMemory {
    fn drop(&mut self) {
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        *holders -= 1;
        if *holders == 0 {
            set_unless_in_environment(PURGE_DELAY, RELEASE_DELAY_MS);
            // SAFETY: a forced collection frees this thread's empty pages and purges every page freed so far, in
            // all arenas; any thread may call it at any time.
            unsafe { mi_collect(true) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
    }

    fn purge_delay() -> c_long {
        // SAFETY: a plain getter of mimalloc's global options.
        unsafe { mi_option_get(PURGE_DELAY.0) }
    }

    #[test]
    fn freed_memory_is_held_until_the_last_holder_ends() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return; // The environment's setting is left alone, by design.
        }
        // Other tests' scoring passes may hold it too, so only what must hold whatever they do is checked.
        let outer = HoldFreedMemory::start();
        assert_eq!(purge_delay(), HOLD_DELAY_MS);
        let inner = HoldFreedMemory::start();
        drop(inner);
        assert_eq!(
            purge_delay(),
            HOLD_DELAY_MS,
            "an inner holder's end must not release the outer's hold"
        );
        drop(outer);
        // Under the lock, no holder can start or end.
        let holders = HOLDERS.lock().unwrap();
        if *holders == 0 {
            assert_eq!(purge_delay(), RELEASE_DELAY_MS);
        }
    }
}
