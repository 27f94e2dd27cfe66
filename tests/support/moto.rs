//! A real moto server (the AWS API emulator from PyPI) on a free loopback port, one per test.
//!
//! `MotoServer::start()` picks a free port, runs `python3 -m moto.server -H 127.0.0.1 -p PORT`,
//! waits until it answers and kills it on drop. If moto is not importable the test fails with
//! `moto is not installed: pip install 'moto[server]'`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The Python interpreter: `MOTO_PYTHON` if set (for CI images with several), else `python3`.
fn python() -> String {
    std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn check_installed() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECK.get_or_init(|| {
        let out = Command::new(python())
            .args(["-c", "import moto.server, flask"])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("cannot run {}: {e}", python())),
        }
    });
    if let Err(detail) = result {
        panic!("moto is not installed: pip install 'moto[server]'\n({detail})");
    }
}

/// A running moto server; killed when dropped.
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
    _log_dir: tempfile::TempDir,
}

impl MotoServer {
    /// Starts a fresh server with default settings (every key accepted).
    pub fn start() -> MotoServer {
        check_installed();
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_dir = tempfile::tempdir().expect("temp dir for moto's log");
            let log_path = log_dir.path().join("moto.log");
            let log = std::fs::File::create(&log_path).expect("moto log file");
            let child = Command::new(python())
                .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
                .arg(port.to_string())
                .env_remove("INITIAL_NO_AUTH_ACTION_COUNT")
                .env("PYTHONUNBUFFERED", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python()));
            let mut server = MotoServer {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                _log_dir: log_dir,
            };
            match server.wait_ready(Duration::from_secs(60), &log_path) {
                Ok(()) => return server,
                Err(e) => last_error = e, // port taken in between, or a slow start: try again
            }
        }
        panic!("moto server did not start: {last_error}");
    }

    fn wait_ready(&mut self, timeout: Duration, log: &PathBuf) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("moto exited with {status}: {text}"));
            }
            if let Ok((status, _)) = self.try_http("GET", "/moto-api/", "") {
                if status > 0 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("moto did not answer within {timeout:?}: {text}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on moto checks every request's key and signature against its IAM (and
    /// IAM policies for everything but GetCallerIdentity), like real AWS.
    pub fn enforce_auth(&self) {
        let (status, body) = self.http("POST", "/moto-api/reset-auth", "0");
        assert_eq!(status, 200, "reset-auth failed: {body}");
    }

    /// A plain HTTP/1.1 request to the server; returns status and body.
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.try_http(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path} to moto failed: {e}"))
    }

    fn try_http(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (the kernel's choice for port 0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
