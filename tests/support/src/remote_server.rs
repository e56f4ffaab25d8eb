//! A real `rvc-live serve` process on a loopback port, with a library of the analytic level
//! voices: what the engine's remote tests and the host-level remote tests run against.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::models::analytic;

/// The analytic voices' levels (`analytic_synth_v2_40k_level{percent}.onnx`, a sine of that
/// amplitude at the tracked pitch): one per client, so each output says whose voice it carries.
pub const LEVELS: [u32; 8] = [10, 15, 20, 25, 30, 35, 40, 45];

/// The library name of the level voice at `level` percent.
pub fn voice_name(level: u32) -> String {
    format!("analytic_synth_v2_40k_level{level}")
}

/// A scratch folder, removed when dropped. Numbered within the process: tests running at once
/// that ask for the same kind of folder must not remove each other's.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rvc-live-remote-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A voice library of the eight level voices and the analytic content encoder.
pub fn level_library() -> Scratch {
    let library = Scratch::new("library");
    for level in LEVELS {
        let name = format!("{}.onnx", voice_name(level));
        std::fs::copy(analytic(&name), library.0.join(&name)).unwrap();
    }
    std::fs::copy(analytic("analytic_content_units.onnx"), library.0.join("analytic_content_units.onnx")).unwrap();
    library
}

/// A running `rvc-live serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// Start `binary serve` on `library` at `listen` (port 0: any free port) and wait until it
    /// listens.
    pub fn start(binary: &Path, library: &Path, listen: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--library")
            .arg(library)
            .args(["--listen", listen])
            .args(extra)
            .env_remove("RVC_LIVE_SERVER_TOKEN")
            .stdout(Stdio::piped())
            // Its log would interleave with the tests' output; what a test checks is what the server does.
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the server says where it listens");
        let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).parse().unwrap();
        Self { child, address }
    }

    /// Kill the process outright, as a crash or a pulled plug would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Resident memory of process `pid`, bytes (Linux; 0 elsewhere).
pub fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kib.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}
