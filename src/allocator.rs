//! The global allocator (mimalloc), installed for every program that links Rewind, and its
//! tuning.
//!
//! Indexing a store allocates every event on the reading thread and frees it on the folding
//! thread a moment later, often on another thread than the one that made it: mimalloc handles
//! both far better than glibc's allocator. It gives pages that fall empty back to the OS after
//! its purge delay (1 s by default), so a build of a few seconds kept returning memory and
//! faulting it back in, zero-filled by the kernel; purging after 10 s keeps the pages through a
//! build and still returns them once a store is closed.
//!
//! Transparent huge pages are turned off for the process. On virtual machines whose host takes
//! back the memory the guest frees, a page is slow the first time it is touched, and a 2 MiB
//! huge page much slower than 512 small ones; an index build touches all of its memory for the
//! first time. The measurements are in docs/performance.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`, v3), which `libmimalloc-sys` does not
/// name. The test below checks the index against the option's documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before mimalloc returns it to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// mimalloc's `mi_option_allow_thp` (`mimalloc.h`, v3): whether it asks the kernel for
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`). The test below checks the index against
/// the option's documented default.
const ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Sets the allocator's options; called once, first thing, by [`crate::run`].
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table, which mimalloc
    // reads atomically; any option index and value are accepted.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
        libmimalloc_sys::mi_option_set(ALLOW_THP, 0);
    }
    no_huge_pages();
}

/// Turns transparent huge pages off for this process, including memory mimalloc mapped (and
/// may have asked huge pages for) before `main`, and on systems that give them unasked
/// (`/sys/kernel/mm/transparent_hugepage/enabled` set to `always`). This is what mimalloc
/// itself does when `MIMALLOC_ALLOW_THP=0` is set in the environment; setting the option in
/// `main` is too late for that.
#[allow(unsafe_code)]
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // The arguments go as `unsigned long`, as the kernel reads them (a variadic `int` need
        // not clear a register's upper half, and the kernel refuses non-zero unused arguments).
        let (on, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        // SAFETY: `PR_SET_THP_DISABLE` only sets a flag on this process's memory map; it reads
        // no pointer. A kernel without it answers -1, and the process keeps huge pages.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, on, unused, unused, unused) };
    }
}

/// Whether transparent huge pages are off for this process.
#[cfg(all(test, target_os = "linux"))]
#[allow(unsafe_code)]
fn huge_pages_disabled() -> bool {
    let unused: libc::c_ulong = 0;
    // SAFETY: `PR_GET_THP_DISABLE` reads a flag of this process and takes no pointer.
    unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, unused, unused, unused, unused) == 1 }
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
        // mimalloc v3 asks for huge pages by default, unless the environment says not to.
        // SAFETY: reads an integer from mimalloc's option table.
        let thp = || unsafe { libmimalloc_sys::mi_option_get(ALLOW_THP) };
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert_eq!(thp(), 1, "option {ALLOW_THP} is not allow_thp");
        }
        tune();
        assert_eq!(read(), PURGE_DELAY_MS);
        assert_eq!(thp(), 0);
        #[cfg(target_os = "linux")]
        assert!(
            huge_pages_disabled(),
            "transparent huge pages are still on for the process"
        );
    }
}
