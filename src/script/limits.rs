//! The engine's resource limits: operations, call depth, data sizes and wall-clock time.
//! Each limit's error names the flag that raises it.

use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine};

/// Limits for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most Rhai operations a run may perform (`--max-operations`).
    pub max_operations: u64,
    /// Longest a run may take (`--timeout`).
    pub timeout: Duration,
    /// Deepest nesting of function calls.
    pub max_call_levels: usize,
    /// Largest string, in bytes.
    pub max_string_size: usize,
    /// Largest array.
    pub max_array_size: usize,
    /// Largest object map.
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 10_000_000,
            timeout: Duration::from_secs(300),
            max_call_levels: 64,
            max_string_size: 8 * 1024 * 1024,
            // A 1 MiB aws-auth holds under 20,000 entries; Rhai re-measures a container
            // each time it grows, so generous limits make runaway loops slow to stop.
            max_array_size: 20_000,
            max_map_size: 20_000,
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
            .set_max_expr_depths(128, 64);
        let start = Instant::now();
        let timeout = self.timeout;
        engine.on_progress(move |ops| {
            // Reading the clock every operation would cost more than the script.
            (ops % 4096 == 0 && start.elapsed() > timeout).then(|| Dynamic::from(TIMEOUT_MARKER))
        });
    }
}
