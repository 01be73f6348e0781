//! A real, throwaway `redis-server` for tests and benchmarks (feature
//! `test-server`): started on a free port in a temporary directory
//! (`redis-server --port P --bind 127.0.0.1 --dir TMP --save '' --daemonize
//! yes --pidfile TMP/r.pid`), stopped by that pid when dropped. It can be
//! paused (`SIGSTOP`), resumed, killed, and restarted empty on the same port.
//!
//! Nothing is mocked and nothing is skipped: without `redis-server` on the
//! `PATH`, [`RedisServer::start`] fails with how to install it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How to get `redis-server`, for error messages.
pub const INSTALL_HINT: &str =
    "redis-server is not installed: run `make test-redis` (it installs Debian's package), or `apt-get install -y redis-server`";

static STARTED: AtomicU32 = AtomicU32::new(0);

/// A `redis-server` of this test run.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    pid: Option<u32>,
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn signal(pid: u32, sig: &str) -> Result<(), String> {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("kill {sig} {pid}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill {sig} {pid} failed"))
    }
}

/// Whether `pid` is a live process (a zombie left for an init that does
/// not reap counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => false,
    }
}

impl RedisServer {
    /// Starts a server on a free port.
    ///
    /// # Errors
    /// When `redis-server` is missing ([`INSTALL_HINT`]) or does not start.
    pub fn start() -> Result<Self, String> {
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("resilience-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut last = String::new();
        for _ in 0..5 {
            let mut server = Self {
                port: free_port()?,
                dir: dir.clone(),
                pid: None,
            };
            match server.launch() {
                Ok(()) => return Ok(server),
                Err(e) if e == INSTALL_HINT => return Err(e),
                // Another process took the port in between: try another.
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn launch(&mut self) -> Result<(), String> {
        let pidfile = self.dir.join("r.pid");
        let _ = std::fs::remove_file(&pidfile);
        let status = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&self.dir)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile"])
            .arg(&pidfile)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => INSTALL_HINT.to_owned(),
                _ => format!("redis-server: {e}"),
            })?;
        if !status.success() {
            return Err(format!("redis-server exited with {status}"));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let pid = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            if let Some(pid) = pid {
                self.pid = Some(pid);
                if !alive(pid) {
                    return Err(format!("redis-server on port {} exited at start", self.port));
                }
                if self.ping() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(format!("redis-server on port {} did not answer within 10 s", self.port))
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
            .and_then(|mut con| redis::cmd("PING").query::<String>(&mut con))
            .is_ok()
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's pid (`None` once killed).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// A plain connection, to look at the keys or the command statistics.
    ///
    /// # Errors
    /// When the server does not answer.
    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// `calls` of `command` in `INFO commandstats` (e.g. `evalsha`): how
    /// many times clients ran it (commands run inside scripts count under
    /// their own names).
    ///
    /// # Errors
    /// When the server does not answer.
    pub fn command_calls(&self, command: &str) -> redis::RedisResult<u64> {
        let info: String = redis::cmd("INFO").arg("commandstats").query(&mut self.connection()?)?;
        let prefix = format!("cmdstat_{command}:calls=");
        Ok(info
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// `SIGSTOP`: the server stops answering (connections stay open).
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn pause(&self) -> Result<(), String> {
        signal(self.pid.ok_or("not running")?, "-STOP")
    }

    /// `SIGCONT`.
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn resume(&self) -> Result<(), String> {
        signal(self.pid.ok_or("not running")?, "-CONT")
    }

    /// `SIGKILL`, and waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = signal(pid, "-CONT");
            let _ = signal(pid, "-KILL");
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Kills the server and starts an empty one on the same port (a
    /// restart that lost every key, and the script cache).
    ///
    /// # Errors
    /// When the new server does not start.
    pub fn restart_empty(&mut self) -> Result<(), String> {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.launch() {
                Ok(()) => return Ok(()),
                // The port may take a moment to be free again.
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
