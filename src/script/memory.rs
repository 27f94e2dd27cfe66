//! The memory a script may take: a count of the heap bytes the script's thread holds, read
//! by the engine's progress callback every operation, and size-checked versions of the
//! string functions that multiply a string's size, so they refuse before allocating.
//!
//! Why a count and not a cap: an allocator that refuses memory makes Rust abort the process,
//! which no script error can report. Counting is cheap (a thread-local add); the check turns
//! an overrun into a clean, uncatchable script error at the next operation. One operation
//! can overshoot by at most what it allocates, which the checked functions below and the
//! per-string limit keep to a few MiB.
//!
//! The count is per thread: the script's values all live on its thread, and the AWS and
//! Kubernetes clients' buffers on the runtime's threads are not the script's to pay for.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rhai::{Engine, EvalAltResult, ImmutableString, NativeCallContext, Position};

/// The marker a run stopped for its memory terminates with.
pub const MEMORY_MARKER: &str = "okscript-memory";

thread_local! {
    /// Net heap bytes this thread allocated (frees of other threads' blocks may make it dip).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Bytes this thread ever allocated: how much work it did, for the wall-clock check.
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: an allocation during thread teardown must not panic in the allocator.
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_add(delta)));
    if delta > 0 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get().wrapping_add(delta as u64)));
    }
}

/// Bytes the current thread has allocated since it started (never decreases).
pub fn allocated_bytes() -> u64 {
    ALLOCATED.try_with(Cell::get).unwrap_or(0)
}

/// Has glibc's malloc keep freed memory for the next allocation instead of returning it to
/// the system. A run holds a few large texts in turn (the manifest read, the section
/// rendered, the file written, the file read back); by default each one over 128 KiB is a
/// fresh mapping whose every page faults on first touch, which costs a grant into a large
/// aws-auth more time than parsing it. The process is short-lived: its peak is what counts.
///
/// It also grows the heap once, by [`HEAP_AHEAD`], and asks the kernel to back that range with
/// transparent huge pages where it can (`MADV_HUGEPAGE`, which glibc's
/// `glibc.malloc.hugetlb=1` tunable does for every heap extension): a 2 MiB page faults once
/// where 512 small ones fault one by one, and a grant into 5,000 entries spent more time in
/// page faults than in its own code (3 to 4 ms of its 18 went). The range is virtual until
/// touched; a run's peak grows by the unused parts of the huge pages it touches (measured:
/// 1.1 to 2.5 MiB). Where transparent huge pages are off, nothing changes.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets malloc's tuning parameters (it is called before any other
    // thread starts); a value glibc refuses leaves its default in place. The block taken to
    // grow the heap is freed unread, and madvise only gives advice on the range from it to
    // the heap's end, all of it this process's heap.
    unsafe {
        // The largest threshold glibc takes on 64-bit systems; trimming past the peak is
        // pointless for a process that exits after its one run.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TOP_PAD, HEAP_AHEAD as libc::c_int);
        // More than the heap holds at start: malloc grows it by this plus the pad.
        let block = libc::malloc(1 << 20);
        let end = libc::sbrk(0);
        if !block.is_null() && end as isize != -1 {
            if let Some((from, len)) = grown_range(block as usize, end as usize) {
                libc::madvise(from as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
        libc::free(block);
    }
}

/// The page-aligned range from `block` to the heap's end `end`, when the block was carved
/// from the heap grown by [`HEAP_AHEAD`] (not mapped elsewhere by malloc, nor on a heap that
/// did not grow): the only range [`reuse_freed_memory`] gives advice on.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
fn grown_range(block: usize, end: usize) -> Option<(usize, usize)> {
    let from = block & !4095;
    (from < end && end - from >= HEAP_AHEAD && end - from <= HEAP_AHEAD + (2 << 20))
        .then(|| (from, end - from))
}

/// How far the heap grows at start, in one step (see [`reuse_freed_memory`]): more than a
/// grant into a 5,000-entry aws-auth uses.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
const HEAP_AHEAD: usize = 16 << 20;

/// The system allocator, counting bytes per thread.
pub struct CountingAllocator;

// SAFETY: every call is passed to `System` unchanged; the counting touches no memory of the
// blocks and never allocates (a const thread-local without a destructor).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap bytes the current thread holds, as counted since it started.
pub fn live_bytes() -> isize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// The memory budget of one run: bytes the script's thread may hold beyond what it held when
/// the run started.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    start: isize,
    max: u64,
}

impl Budget {
    /// A budget of `max` bytes from now, on the current thread.
    pub fn starting_now(max: u64) -> Budget {
        Budget {
            start: live_bytes(),
            max,
        }
    }

    /// Bytes used so far.
    pub fn used(&self) -> u64 {
        u64::try_from(live_bytes() - self.start).unwrap_or(0)
    }

    /// Whether the script holds more than its budget.
    pub fn exceeded(&self) -> bool {
        self.used() > self.max
    }

    /// Whether allocating `more` bytes would take the script past its budget.
    pub fn would_exceed(&self, more: u64) -> bool {
        self.used().saturating_add(more) > self.max
    }
}

/// The error a run stopped for its memory ends with (formatted by `errors::describe`).
pub fn over_budget() -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        MEMORY_MARKER.into(),
        Position::NONE,
    ))
}

/// The size `string.replace(find, with)` would have, without building it.
pub fn replaced_len(string: &str, find: &str, with: &str) -> u64 {
    if with.len() <= find.len() {
        return string.len() as u64;
    }
    let hits = string.matches(find).count() as u64;
    string.len() as u64 + hits * (with.len() - find.len()) as u64
}

/// Refuses a string of `len` bytes before it is built: past the per-string limit, or past
/// what is left of the memory budget.
fn check_growth(
    ctx: &NativeCallContext,
    budget: &Budget,
    what: &str,
    len: u64,
) -> Result<(), Box<EvalAltResult>> {
    let max = ctx.engine().max_string_size() as u64;
    if max > 0 && len > max {
        return Err(Box::new(EvalAltResult::ErrorDataTooLarge(
            format!("Length of the string `{what}` would build ({len} bytes)"),
            Position::NONE,
        )));
    }
    if budget.would_exceed(len) {
        return Err(over_budget());
    }
    Ok(())
}

fn replace_checked(
    ctx: &NativeCallContext,
    budget: &Budget,
    string: &mut ImmutableString,
    find: &str,
    with: &str,
) -> Result<(), Box<EvalAltResult>> {
    if string.is_empty() {
        return Ok(());
    }
    check_growth(ctx, budget, "replace", replaced_len(string, find, with))?;
    *string = string.replace(find, with).into();
    Ok(())
}

/// Registers the checked string functions in place of Rhai's (functions registered on the
/// engine shadow its packages').
pub fn register(engine: &mut Engine, budget: Budget) {
    engine.register_fn(
        "replace",
        move |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, with: &str| {
            replace_checked(&ctx, &budget, s, find, with)
        },
    );
    engine.register_fn(
        "replace",
        move |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, with: char| {
            replace_checked(&ctx, &budget, s, find, &with.to_string())
        },
    );
    engine.register_fn(
        "replace",
        move |ctx: NativeCallContext, s: &mut ImmutableString, find: char, with: &str| {
            replace_checked(&ctx, &budget, s, &find.to_string(), with)
        },
    );
    engine.register_fn(
        "replace",
        move |ctx: NativeCallContext, s: &mut ImmutableString, find: char, with: char| {
            replace_checked(&ctx, &budget, s, &find.to_string(), &with.to_string())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_len_is_the_length_replace_builds() {
        for (s, find, with) in [
            ("aaa", "a", "xyz"),
            ("abc", "", "--"),
            ("hello, world", "o", "0"),
            ("hello", "zz", "long"),
            ("ééé", "é", "ab"),
        ] {
            assert_eq!(
                replaced_len(s, find, with),
                s.replace(find, with).len() as u64,
                "{s:?} {find:?} {with:?}"
            );
        }
    }

    #[test]
    fn the_count_follows_this_threads_allocations() {
        let before = live_bytes();
        let big = vec![0u8; 10 << 20];
        assert!(live_bytes() - before >= 10 << 20);
        drop(big);
        assert!(live_bytes() - before < 1 << 20);
    }

    #[test]
    fn advice_goes_only_to_the_heap_just_grown() {
        let end = 0x5555_0000_0000;
        let block = end - HEAP_AHEAD - (1 << 20) + 16;
        assert_eq!(
            grown_range(block, end),
            Some((block - 16, HEAP_AHEAD + (1 << 20)))
        );
        // A block malloc mapped above the heap, one far below its end, or a heap that did not
        // grow: no advice.
        assert_eq!(grown_range(end + (8 << 20), end), None);
        assert_eq!(grown_range(end - (64 << 20), end), None);
        assert_eq!(grown_range(end - (1 << 20), end), None);
    }

    #[test]
    fn a_budget_refuses_what_would_not_fit() {
        let budget = Budget::starting_now(1 << 20);
        assert!(!budget.exceeded());
        assert!(budget.would_exceed(2 << 20));
        let held = vec![0u8; 2 << 20];
        assert!(budget.exceeded());
        drop(held);
        assert!(!budget.exceeded());
    }
}
