//! A spinner with the time left while a login waits on a person; off in CI and pipes.

use std::future::Future;
use std::time::{Duration, Instant};

use super::login::SsoLoginOptions;

/// How often the spinner moves.
pub(super) const SPIN_TICK: Duration = Duration::from_millis(120);
/// The spinner's frames (plain ASCII: readable on any terminal).
pub(super) const SPIN_FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// A spinner with the time left, shown on stderr while a login waits for the person; only
/// when stderr is a terminal (never in CI logs or pipes) and never with a test's sleeper.
/// It shows no token: only the frame and the time left.
pub(super) struct Spinner {
    pub(super) out: Option<Box<dyn std::io::Write + Send>>,
    pub(super) deadline: Instant,
    pub(super) frame: usize,
}

/// Whether a waiting login shows the spinner.
pub(super) fn spinner_on(stderr_is_terminal: bool, sleeper_injected: bool) -> bool {
    stderr_is_terminal && !sleeper_injected
}

impl Spinner {
    pub(super) fn for_stderr(opts: &SsoLoginOptions, left: Duration) -> Spinner {
        use std::io::IsTerminal;
        let on = spinner_on(std::io::stderr().is_terminal(), opts.sleeper.is_some());
        Spinner::new(on.then(|| Box::new(std::io::stderr()) as _), left)
    }

    pub(super) fn new(out: Option<Box<dyn std::io::Write + Send>>, left: Duration) -> Spinner {
        Spinner {
            out,
            deadline: Instant::now() + left,
            frame: 0,
        }
    }

    pub(super) fn tick(&mut self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = spinner_line(self.frame, left);
        self.frame += 1;
        if let Some(out) = &mut self.out {
            let _ = write!(out, "\r{line}");
            let _ = out.flush();
        }
    }

    /// Waits for `until`, moving the spinner meanwhile.
    pub(super) async fn wait<F: Future>(&mut self, until: F) -> F::Output {
        let mut until = std::pin::pin!(until);
        if self.out.is_none() {
            return until.await;
        }
        loop {
            self.tick();
            tokio::select! {
                v = &mut until => return v,
                _ = tokio::time::sleep(SPIN_TICK) => {}
            }
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(out) = &mut self.out {
            // Erase the line so the next message starts clean.
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }
}

/// One spinner line: `| waiting for the login: 9:58 left (Ctrl-C cancels)`.
pub(super) fn spinner_line(frame: usize, left: Duration) -> String {
    format!(
        "{} waiting for the login: {} left (Ctrl-C cancels)",
        SPIN_FRAMES[frame % SPIN_FRAMES.len()],
        remaining(left)
    )
}

/// `m:ss`, or `h:mm:ss` from an hour on.
pub(super) fn remaining(left: Duration) -> String {
    let s = left.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_spinner_shows_the_time_left_and_moves() {
        assert_eq!(remaining(Duration::from_secs(598)), "9:58");
        assert_eq!(remaining(Duration::from_secs(5)), "0:05");
        assert_eq!(remaining(Duration::from_secs(3 * 3600 + 62)), "3:01:02");
        assert_eq!(remaining(Duration::ZERO), "0:00");
        assert_eq!(
            spinner_line(0, Duration::from_secs(600)),
            "| waiting for the login: 10:00 left (Ctrl-C cancels)"
        );
        assert!(spinner_line(1, Duration::from_secs(1)).starts_with("/ "));
        assert!(spinner_line(4, Duration::from_secs(1)).starts_with("| "));
    }

    #[test]
    fn the_spinner_is_off_without_a_terminal_or_with_a_test_sleeper() {
        assert!(spinner_on(true, false));
        assert!(!spinner_on(false, false));
        assert!(!spinner_on(true, true));
        // Off: ticking writes nothing anywhere and waiting still returns the value.
        let mut off = Spinner::new(None, Duration::from_secs(60));
        off.tick();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(off.wait(async { 7 })), 7);
        // Here (cargo test) stderr is whatever the runner gave: the spinner follows it.
        use std::io::IsTerminal;
        let opts = SsoLoginOptions::default();
        let s = Spinner::for_stderr(&opts, Duration::from_secs(60));
        assert_eq!(s.out.is_some(), std::io::stderr().is_terminal());
    }

    #[test]
    fn the_spinner_writes_one_line_and_erases_it() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let mut s = Spinner::new(Some(Box::new(buf.clone())), Duration::from_secs(125));
        s.tick();
        drop(s);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with("\r| waiting for the login: 2:0"),
            "{text:?}"
        );
        assert!(
            text.ends_with(" left (Ctrl-C cancels)\r\x1b[2K"),
            "{text:?}"
        );
    }
}
