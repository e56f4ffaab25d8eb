//! `rvc-live-bench remote-streams`: how many real-time streams one `rvc-live serve` sustains on
//! this machine, what the network path adds per block on loopback, and the server's CPU per
//! stream. The server is the `rvc-live` beside this binary, started on a loopback port with a
//! library of the voice under test; each stream is the engine's own stream with the remote
//! processor, fed speech in 512-sample buffers paced in real time, as a plugin instance would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rvc_live_engine::ConversionControls;
use rvc_live_engine::RvcProcessor;
use rvc_live_engine::remote::client::{ConnectTimeouts, LOAD_TIMEOUT, RemoteEndpoint, RemoteStats, connect};
use rvc_live_engine::stream::{Stream, StreamSettings, StreamStats};
use serde::Serialize;

use super::{HOST_BUFFER, HOST_RATE, read_mono};

pub struct RemoteBench {
    pub voice: PathBuf,
    pub content_encoder: PathBuf,
    pub pitch_model: Option<PathBuf>,
    pub input: PathBuf,
    pub streams: Vec<usize>,
    pub seconds: f64,
    pub server_threads: usize,
    /// The server gives each stream its own content encoder and pitch model.
    pub separate_models: bool,
}

/// One row: `streams` at once for the run's seconds.
#[derive(Debug, Serialize)]
pub struct StreamsRow {
    pub streams: usize,
    /// Blocks that came back within the network budget, over all streams, and in the worst one.
    pub on_time: f64,
    pub worst_stream_on_time: f64,
    /// What the network path added per block (round trip less the server's compute), ms.
    pub overhead_p50_ms: f64,
    pub overhead_p99_ms: f64,
    /// The server's compute for a block, as its last block said, mean over streams, ms.
    pub server_block_ms: f64,
    /// The server process's CPU time over the run's wall time, per stream (1.0 = one core).
    pub server_cpu_per_stream: f64,
    /// The latency the streams reported, ms (the largest).
    pub latency_ms: f64,
}

/// A `rvc-live serve` child, killed when dropped.
struct ServerProcess(Child, String);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(library: &Path, max_streams: usize, threads: usize, separate: bool) -> Result<ServerProcess, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cli = exe.with_file_name(format!("rvc-live{}", std::env::consts::EXE_SUFFIX));
    let mut child = Command::new(&cli)
        .arg("serve")
        .arg("--library")
        .arg(library)
        .args(["--listen", "127.0.0.1:0", "--max-streams", &max_streams.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(separate.then_some("--separate-models"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{} (build it with `cargo build --release --bins`): {e}", cli.display()))?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("piped")), &mut line)
        .map_err(|e| e.to_string())?;
    let address = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("the server said {line:?}"))?;
    Ok(ServerProcess(child, address.to_owned()))
}

/// User and system CPU seconds process `pid` has used (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / per_second
}

pub fn run(bench: &RemoteBench, json: Option<&Path>) -> Result<(), String> {
    let library = std::env::temp_dir().join(format!("rvc-live-bench-library-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&library);
    std::fs::create_dir_all(&library).map_err(|e| e.to_string())?;
    let link = |from: &Path, name: &str| {
        let from = std::path::absolute(from).map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink(&from, library.join(name)).map_err(|e| format!("{}: {e}", from.display()))
    };
    link(&bench.voice, "bench_voice.onnx")?;
    let encoder_name = bench.content_encoder.file_name().ok_or("the content encoder has no file name")?;
    link(&bench.content_encoder, &encoder_name.to_string_lossy())?;
    if let Some(pitch) = &bench.pitch_model {
        let name = pitch.file_name().ok_or("the pitch model has no file name")?;
        link(pitch, &name.to_string_lossy())?;
    }
    let speech = read_mono(&bench.input)?;
    let samples = (bench.seconds * f64::from(HOST_RATE)) as usize;
    let input: Arc<Vec<f32>> = Arc::new(speech.iter().copied().cycle().take(samples).collect());

    let max = bench.streams.iter().copied().max().unwrap_or(1);
    let server = start_server(&library, max, bench.server_threads, bench.separate_models)?;
    eprintln!(
        "server at {} ({} thread per model, {} models); {:.0} s of speech per stream",
        server.1,
        bench.server_threads,
        if bench.separate_models { "separate" } else { "shared" },
        bench.seconds
    );
    let mut rows = Vec::new();
    for &count in &bench.streams {
        rows.push(measure(&server, count, &input)?);
        let row = rows.last().expect("pushed");
        eprintln!(
            "{:>2} streams: {:>5.1} % on time (worst {:>5.1} %), network path p50 {:.2} ms p99 {:.2} ms, server {:.1} ms per block, CPU {:.2} of a core per stream",
            row.streams,
            row.on_time * 100.0,
            row.worst_stream_on_time * 100.0,
            row.overhead_p50_ms,
            row.overhead_p99_ms,
            row.server_block_ms,
            row.server_cpu_per_stream
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&library);
    println!(
        "| streams | blocks on time (worst stream) | network path per block p50 / p99 | server per block | server CPU per stream | latency |"
    );
    println!("|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.1} % ({:.1} %) | {:.2} / {:.2} ms | {:.1} ms | {:.0} % of a core | {:.0} ms |",
            row.streams,
            row.on_time * 100.0,
            row.worst_stream_on_time * 100.0,
            row.overhead_p50_ms,
            row.overhead_p99_ms,
            row.server_block_ms,
            row.server_cpu_per_stream * 100.0,
            row.latency_ms
        );
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `count` streams connected first, then played together in real time.
fn measure(server: &ServerProcess, count: usize, input: &Arc<Vec<f32>>) -> Result<StreamsRow, String> {
    let settings = StreamSettings::default();
    let local = RvcProcessor::stream_geometry(&settings, HOST_RATE as f32, HOST_BUFFER);
    // Every block through the models, speech or not: the work, not the gate's shortcut.
    let controls = ConversionControls { gate_db: ConversionControls::GATE_DB_RANGE.0, ..Default::default() };
    let endpoint = RemoteEndpoint { address: server.1.clone(), token: None, voice: "bench_voice".into() };
    let timeouts = ConnectTimeouts { step: Duration::from_secs(5), load: LOAD_TIMEOUT };
    let mut streams = Vec::new();
    for _ in 0..count {
        let remote = Arc::new(RemoteStats::default());
        let voice = connect(&endpoint, local, &settings, Arc::new(move || controls), None, timeouts, remote.clone())
            .map_err(|e| e.to_string())?;
        let stats = Arc::new(StreamStats::default());
        let (stream, _swap) =
            Stream::start(voice.geometry, Box::new(voice.processor), stats, false).map_err(|e| e.to_string())?;
        streams.push((stream, remote, voice.geometry.samples_to_ms(voice.geometry.latency())));
    }
    let barrier = Arc::new(Barrier::new(count + 1));
    let players: Vec<_> = streams
        .into_iter()
        .map(|(mut stream, remote, latency_ms)| {
            let (barrier, input) = (barrier.clone(), input.clone());
            std::thread::spawn(move || {
                let buffer = HOST_BUFFER as usize;
                let (mut wet, mut weight) = (vec![0.0; buffer], vec![0.0; buffer]);
                barrier.wait();
                let started = Instant::now();
                for (i, chunk) in input.chunks(buffer).enumerate() {
                    let n = chunk.len();
                    stream.audio.process(chunk, &mut wet[..n], &mut weight[..n]);
                    let due = started + Duration::from_secs_f64(((i + 1) * buffer) as f64 / f64::from(HOST_RATE));
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                drop(stream);
                (remote, latency_ms)
            })
        })
        .collect();
    let pid = server.0.id();
    let cpu_before = cpu_seconds(pid);
    barrier.wait();
    let started = Instant::now();
    let results: Vec<_> = players.into_iter().map(|p| p.join().expect("a player thread")).collect();
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds(pid) - cpu_before;

    let on_time = |r: &RemoteStats| {
        let (converted, missed) =
            (r.converted_blocks.load(Ordering::Relaxed) as f64, r.missed_blocks.load(Ordering::Relaxed) as f64);
        converted / (converted + missed).max(1.0)
    };
    let (converted, all) = results.iter().fold((0u64, 0u64), |(c, a), (r, _)| {
        let converted = r.converted_blocks.load(Ordering::Relaxed);
        (c + converted, a + converted + r.missed_blocks.load(Ordering::Relaxed))
    });
    let quantile = |q: f64| {
        let values: Vec<f64> = results.iter().filter_map(|(r, _)| r.overhead.quantile(q)).collect();
        values.iter().copied().fold(0.0, f64::max)
    };
    Ok(StreamsRow {
        streams: count,
        on_time: converted as f64 / all.max(1) as f64,
        worst_stream_on_time: results.iter().map(|(r, _)| on_time(r)).fold(1.0, f64::min),
        overhead_p50_ms: quantile(0.5),
        overhead_p99_ms: quantile(0.99),
        server_block_ms: results
            .iter()
            .map(|(r, _)| f64::from(r.compute_us.load(Ordering::Relaxed)) / 1e3)
            .sum::<f64>()
            / count as f64,
        server_cpu_per_stream: server_cpu / wall / count as f64,
        latency_ms: results.iter().map(|(_, l)| *l).fold(0.0, f64::max),
    })
}
