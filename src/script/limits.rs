//! The engine's resource limits: operations, call depth, data sizes, memory and wall-clock
//! time. Each limit's error names the flag that raises it.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine};

use super::memory::{self, Budget, MEMORY_MARKER};

/// How deeply expressions may nest (at the top level, inside functions): every engine that
/// compiles a script (the run, `check`, the inputs reader, the stdlib docs) uses these, so
/// that none of them refuses a script another accepts.
pub const EXPR_DEPTHS: (usize, usize) = (128, 64);

/// Limits for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most Rhai operations a run may perform (`--max-operations`).
    pub max_operations: u64,
    /// Longest a run may take (`--timeout`).
    pub timeout: Duration,
    /// Deepest nesting of function calls.
    pub max_call_levels: usize,
    /// Largest string, in bytes (`--max-string-size`, in MiB).
    pub max_string_size: usize,
    /// Most items in one array value, nested arrays included (`--max-array-size`).
    pub max_array_size: usize,
    /// Most keys in one object map value, nested maps included (`--max-map-size`).
    pub max_map_size: usize,
    /// Most heap bytes the script's values may hold together (`--max-memory`, in MiB).
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 10_000_000,
            timeout: Duration::from_secs(300),
            max_call_levels: 64,
            max_string_size: 8 * 1024 * 1024,
            // Rhai counts a value's nested items together, so `mappings()` of a full 1 MiB
            // aws-auth (up to ~70,000 mapAccounts rows of 6 keys; ~26,000 role or user rows
            // with their groups) must fit. Rhai re-measures a container each time it grows,
            // so a runaway loop takes seconds to reach these; the flags lower them.
            max_array_size: 200_000,
            max_map_size: 500_000,
            // Sixty-four strings at the largest size; real scripts use a few MiB.
            max_memory: 512 * 1024 * 1024,
        }
    }
}

/// The marker a timed-out run terminates with.
pub const TIMEOUT_MARKER: &str = "okscript-timeout";

impl Limits {
    /// Sets the limits on `engine`; the wall clock starts now.
    pub fn install(&self, engine: &mut Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_levels)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            .set_max_expr_depths(EXPR_DEPTHS.0, EXPR_DEPTHS.1);
        let start = Instant::now();
        let timeout = self.timeout;
        let budget = Budget::starting_now(self.max_memory);
        memory::register(engine, budget);
        let clock_read_at = Cell::new(memory::allocated_bytes());
        engine.on_progress(move |ops| {
            // Memory first: one operation may allocate a lot, and the count is a cheap read.
            if budget.exceeded() {
                return Some(Dynamic::from(MEMORY_MARKER));
            }
            // The clock costs more than an operation, so it is read every 256 operations, or
            // sooner once the script has copied a MiB since (operations on big strings are
            // slow, and a few hundred of them would run far past the timeout).
            let allocated = memory::allocated_bytes();
            if ops % 256 != 0 && allocated - clock_read_at.get() < CLOCK_EVERY_BYTES {
                return None;
            }
            clock_read_at.set(allocated);
            (start.elapsed() > timeout).then(|| Dynamic::from(TIMEOUT_MARKER))
        });
    }
}

/// Bytes a script may allocate between two reads of the clock.
const CLOCK_EVERY_BYTES: u64 = 1024 * 1024;
