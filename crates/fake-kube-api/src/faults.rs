//! Faults a test switches on at runtime, and the log of every request the fake answered.
//!
//! Owns counters and the log only; handlers ask it what to do next. Shared between the
//! server task and the test through an `Arc`, so both sides may use it at any time.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Runtime fault switches. Each counter is consumed one request at a time.
#[derive(Debug, Default)]
pub struct Faults {
    conflicts: AtomicU32,
    errors: AtomicU32,
    drops: AtomicU32,
    delay_ms: AtomicU64,
}

impl Faults {
    /// The next `n` writes (POST, PUT, PATCH, DELETE of ConfigMaps) answer 409 Conflict
    /// without being applied.
    pub fn conflict_next_writes(&self, n: u32) {
        self.conflicts.store(n, Ordering::SeqCst);
    }

    /// The next `n` API requests (any path but discovery: `/version`, `/api`, `/apis`,
    /// `/openapi`, health checks), before authentication, answer 500 InternalError.
    pub fn fail_next_requests(&self, n: u32) {
        self.errors.store(n, Ordering::SeqCst);
    }

    /// The connections carrying the next `n` API requests (discovery excepted) are closed
    /// once the request has been read, without any response (what a client sees when an apiserver or LB dies).
    pub fn drop_next_requests(&self, n: u32) {
        self.drops.store(n, Ordering::SeqCst);
    }

    /// Every request waits this long before it is handled (`Duration::ZERO` to stop).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Switches every fault off.
    pub fn clear(&self) {
        self.conflict_next_writes(0);
        self.fail_next_requests(0);
        self.drop_next_requests(0);
        self.set_delay(Duration::ZERO);
    }

    pub(crate) fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
    }

    pub(crate) fn take_conflict(&self) -> bool {
        take(&self.conflicts)
    }

    pub(crate) fn take_error(&self) -> bool {
        take(&self.errors)
    }

    pub(crate) fn take_drop(&self) -> bool {
        take(&self.drops)
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// One request as the fake saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The URL path.
    pub path: String,
    /// The raw query string, empty for none.
    pub query: String,
    /// The `Content-Type` header, empty for none.
    pub content_type: String,
    /// The request body as text (lossy UTF-8).
    pub body: String,
    /// The authenticated username, `None` when authentication failed or was not reached.
    pub user: Option<String>,
    /// The status code answered; `0` when the connection was dropped instead.
    pub status: u16,
    /// Why a request was refused (token check, mapping), for debugging failed tests.
    pub note: String,
}

impl LoggedRequest {
    /// `METHOD path?query -> status`, for assertion messages.
    pub fn summary(&self) -> String {
        let q = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("{} {}{q} -> {}", self.method, self.path, self.status)
    }
}

/// The request log.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
}

impl RequestLog {
    pub(crate) fn push(&self, entry: LoggedRequest) {
        self.entries.lock().expect("log lock").push(entry);
    }

    /// Every request so far, oldest first.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.lock().expect("log lock").clone()
    }

    /// Forgets every request so far.
    pub fn clear(&self) {
        self.entries.lock().expect("log lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_consumed_one_at_a_time() {
        let f = Faults::default();
        f.conflict_next_writes(2);
        assert!(f.take_conflict());
        assert!(f.take_conflict());
        assert!(!f.take_conflict());
        f.fail_next_requests(1);
        f.clear();
        assert!(!f.take_error());
    }
}
