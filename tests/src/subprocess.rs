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

pub const STOP_PREFIX: &str = "RVC Live stopped: ";
/// The stop line RVC Live logs when it deactivates (`deactivate` in `plugin/src/lib.rs`),
/// after [`STOP_PREFIX`], with `{}` for each number.
pub const STOP_TEMPLATE: &str = "{} blocks, block compute p50 {} ms p99 {} ms max {} ms (budget {} ms), {} underruns \
                             ({} samples from the fallback), {} overflows, {} failed conversions, {} gated, {} voice swaps";

/// The counters RVC Live logs when it deactivates, in the form of [`STOP_TEMPLATE`]. A line of
/// another form (an older plugin's, or a changed one) parses as nothing rather than as wrong
/// numbers.
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

    /// The last line in `log` that starts a stop line, trimmed, and what it says if it has the
    /// expected form.
    pub fn find_last(log: &str) -> Option<(String, Option<Self>)> {
        let line = log.lines().rev().find(|l| l.contains(STOP_PREFIX))?;
        Some((line.trim().to_string(), Self::parse_line(line)))
    }

    pub fn parse_line(line: &str) -> Option<Self> {
        let rest = line[line.find(STOP_PREFIX)? + STOP_PREFIX.len()..].trim_end();
        let int = |s: &str| s.trim().parse::<u64>().ok();
        let float = |s: &str| s.trim().parse::<f64>().ok();
        let v = match_template(rest, STOP_TEMPLATE)?;
        Some(Self {
            blocks: int(v[0])?,
            p50_ms: float(v[1])?,
            p99_ms: float(v[2])?,
            max_ms: float(v[3])?,
            budget_ms: float(v[4])?,
            underruns: int(v[5])?,
            fallback_samples: int(v[6])?,
            overflows: int(v[7])?,
            failed_conversions: int(v[8])?,
            gated_blocks: int(v[9])?,
            voice_swaps: int(v[10])?,
        })
    }
}

/// The values in `text` where `template` has `{}`, if the literal parts all match in order.
/// Text after the template's last literal is ignored.
fn match_template<'a>(text: &'a str, template: &str) -> Option<Vec<&'a str>> {
    let mut literals = template.split("{}");
    let mut rest = text.strip_prefix(literals.next()?)?;
    let mut values = Vec::new();
    for literal in literals {
        if literal.is_empty() {
            values.push(rest);
            rest = "";
            continue;
        }
        let at = rest.find(literal)?;
        let value = &rest[..at];
        if value.is_empty() || value.contains(',') {
            return None;
        }
        values.push(value);
        rest = &rest[at + literal.len()..];
    }
    Some(values)
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

    const LINE: &str = " INFO RVC Live stopped: 4988 blocks, block compute p50 71.3 ms p99 103.9 ms max 160.2 ms \
                        (budget 120.0 ms), 2 underruns (1234 samples from the fallback), 0 overflows, 3 failed \
                        conversions, 41 gated, 19 voice swaps";

    #[test]
    fn the_last_stop_line_is_found_whole() {
        let (line, counters) = StopLog::find_last(&format!("RVC Live Loaded x\n{LINE}\n")).unwrap();
        assert!(line.starts_with("INFO RVC Live stopped"));
        assert_eq!(counters.map(|c| (c.blocks, c.gated_blocks, c.voice_swaps)), Some((4988, 41, 19)));
    }

    #[test]
    fn the_stop_line_the_plugin_printed_before_compute_times_is_not_misread() {
        let line = "RVC Live stopped: 29 blocks, peak load 0.25, 2 underruns (1234 samples from the fallback), \
                    0 overflows, 3 failed conversions, 4 gated";
        assert_eq!(StopLog::parse_line(line), None);
    }

    #[test]
    fn a_changed_stop_line_is_not_misread() {
        assert_eq!(StopLog::parse_line("RVC Live stopped: 29 blocks, 2 underruns"), None);
        assert_eq!(StopLog::parse_line(&LINE.replace("p99", "p95")), None);
        assert_eq!(StopLog::parse_line(&LINE.replace("41 gated", "x gated")), None);
    }
}
