//! Tuning of the global allocator (mimalloc, installed in `main.rs`).
//!
//! Indexing a store allocates every event on the reading thread and frees it on the folding
//! thread a moment later. mimalloc gives pages that fall empty back to the OS after its purge
//! delay (1 s by default), so a build of a few seconds kept returning memory and faulting it
//! back in, zero-filled by the kernel: 26,000 page faults and about 7% of the CPU time of a
//! 1M-event build. Purging after 10 s keeps the pages through a build and still returns them
//! once a store is closed.

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`, v3), which `libmimalloc-sys` does not
/// name. The test below checks the index against the option's documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before mimalloc returns it to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// Sets the allocator's options; called once at the start of `main`.
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table, which mimalloc
    // reads atomically; any option index and value are accepted.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
}

/// Returns the memory this thread's heap holds free (and what other threads freed of it) to the
/// OS now, rather than after the purge delay: called before a peak of memory use, such as the
/// end of an index build, when what the reading thread allocated and freed lies idle.
#[allow(unsafe_code)]
pub fn give_back_freed_memory() {
    // SAFETY: `mi_collect` only walks and frees this thread's heap pages; it may be called at
    // any time, and does nothing if mimalloc is not the allocator in use.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_tuned() {
        // SAFETY: reads an integer from mimalloc's option table.
        let read = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        // mimalloc v3's default purge delay, 1000 ms, unless the environment set one.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(read(), 1000, "option {PURGE_DELAY} is not the purge delay");
        }
        tune();
        assert_eq!(read(), PURGE_DELAY_MS);
    }
}
