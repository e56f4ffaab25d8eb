//! Running the `rvc-live-host` binary as a child process, for scenarios that need environment
//! variables of their own (environment variables are process-wide, tests run in threads) or that
//! may abort (the allocation check).

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::scenarios::ScenarioReport;

/// What a child run left behind.
#[derive(Debug)]
pub struct ChildRun {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ChildRun {
    /// Whether the process died from SIGABRT: a shell's exit status 134, which is how the
    /// allocation check (and any Rust abort) ends a process.
    pub fn aborted(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            self.status.signal() == Some(6) || self.status.code() == Some(134)
        }
        #[cfg(not(unix))]
        {
            self.status.code() == Some(134)
        }
    }

    /// The scenario report the child printed as the last line of its standard output.
    pub fn report(&self) -> anyhow::Result<ScenarioReport> {
        let line =
            self.stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).with_context(|| {
                format!("no JSON report on stdout; status {}; stderr:\n{}", self.status, self.stderr)
            })?;
        serde_json::from_str(line).with_context(|| format!("parsing the report {line}"))
    }

    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        format!("status {}\n--- stdout\n{}\n--- stderr\n{}", self.status, self.stdout, self.stderr)
    }
}

/// Run `binary args..` with extra environment variables, killing it after `timeout`.
pub fn run(binary: &Path, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> anyhow::Result<ChildRun> {
    let mut child = Command::new(binary)
        .args(args)
        .envs(env.iter().copied())
        // The stop log is read from stderr; a NICE_LOG inherited from the caller could send it to a file.
        .env("NICE_LOG", "stderr")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} {args:?} ran longer than {timeout:?} and was killed", binary.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(ChildRun { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
}

/// The counters RVC Live logs when it deactivates:
/// `RVC Live stopped: {blocks} blocks, block compute p50 {ms} ms p99 {ms} ms max {ms} ms (budget {ms} ms),
/// {u} underruns ({n} samples from the fallback), {o} overflows, {f} failed conversions, {g} gated, {w} voice swaps`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StopLog {
    pub blocks: u64,
    /// The inference thread's time per block, milliseconds: median, 99th percentile, worst, and
    /// the time the latency reserves for it.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub budget_ms: f64,
    pub underruns: u64,
    pub fallback_samples: u64,
    pub overflows: u64,
    pub failed_conversions: u64,
    pub gated_blocks: u64,
    pub voice_swaps: u64,
}

impl StopLog {
    /// Every stop line in `log`, in order.
    pub fn parse_all(log: &str) -> Vec<Self> {
        log.lines().filter_map(Self::parse_line).collect()
    }

    /// The last stop line in `log`.
    pub fn parse_last(log: &str) -> Option<Self> {
        log.lines().rev().find_map(Self::parse_line)
    }

    pub fn parse_line(line: &str) -> Option<Self> {
        let rest = &line[line.find("RVC Live stopped: ")? + "RVC Live stopped: ".len()..];
        // The numbers in order; "p50" and "p99" carry digits of their own, which are dropped.
        let numbers: Vec<&str> = rest
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|s| !s.is_empty() && *s != "." && *s != "50" && *s != "99")
            .collect();
        let ms = |s: &str| s.parse::<f64>().ok();
        match numbers.as_slice() {
            [blocks, p50, p99, max, budget, underruns, fallback, overflows, failed, gated, swaps] => Some(Self {
                blocks: blocks.parse().ok()?,
                p50_ms: ms(p50)?,
                p99_ms: ms(p99)?,
                max_ms: ms(max)?,
                budget_ms: ms(budget)?,
                underruns: underruns.parse().ok()?,
                fallback_samples: fallback.parse().ok()?,
                overflows: overflows.parse().ok()?,
                failed_conversions: failed.parse().ok()?,
                gated_blocks: gated.parse().ok()?,
                voice_swaps: swaps.parse().ok()?,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_line_parses() {
        let log = " INFO RVC Live active at 48000 Hz\n INFO RVC Live stopped: 29 blocks, block compute p50 61.2 ms \
                   p99 98.4 ms max 104.1 ms (budget 120.0 ms), 2 underruns (1234 samples from the fallback), 0 overflows, \
                   3 failed conversions, 4 gated, 5 voice swaps\n";
        assert_eq!(
            StopLog::parse_all(log),
            vec![StopLog {
                blocks: 29,
                p50_ms: 61.2,
                p99_ms: 98.4,
                max_ms: 104.1,
                budget_ms: 120.0,
                underruns: 2,
                fallback_samples: 1234,
                overflows: 0,
                failed_conversions: 3,
                gated_blocks: 4,
                voice_swaps: 5,
            }]
        );
        assert_eq!(StopLog::parse_last(log), StopLog::parse_all(log).pop());
    }
}
