//! What the remote engine's tests share: a real `rvc-live serve` process on a loopback port, a
//! library of analytic voices, clients that stream in real time through the engine's own stream,
//! and the local conversion each remote one must match.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rvc_live_engine::remote::client::{
    Connection, LOAD_TIMEOUT, LinkPlan, RemoteEndpoint, RemoteProcessor, RemoteStats, budget_samples, network_budget,
};
use rvc_live_engine::remote::{Hello, PROTOCOL_VERSION};
use rvc_live_engine::stream::{BlockProcessor, InputHistory, Stream, StreamGeometry, StreamSettings, StreamStats};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, VoiceSelection};
use rvc_live_test_support::models::analytic;

pub const RATE: u32 = 48_000;
/// The host buffer the clients stream in.
pub const BUFFER: usize = 512;
/// The analytic voices' levels (`analytic_synth_v2_40k_level{percent}.onnx`): one per client.
pub const LEVELS: [u32; 8] = [10, 15, 20, 25, 30, 35, 40, 45];

pub fn voice_name(level: u32) -> String {
    format!("analytic_synth_v2_40k_level{level}")
}

/// A scratch folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!("rvc-live-remote-{what}-{}", std::process::id()));
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
    /// Start a server on `library` at `listen` (port 0: any free port) and wait until it listens.
    pub fn start(library: &Path, listen: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .arg("serve")
            .arg("--library")
            .arg(library)
            .args(["--listen", listen])
            .args(extra)
            .env_remove("RVC_LIVE_SERVER_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
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

    /// `GET /health`: the status code and the JSON.
    pub fn health(&self) -> (u16, serde_json::Value) {
        health(self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET /health` at `address`, by hand over a TCP socket (the test's only HTTP client).
pub fn health(address: SocketAddr) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(socket, "GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).unwrap();
    let code = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    // A chunked body (hyper's default without a length) holds the JSON between its size lines.
    let json = body.find('{').and_then(|start| body.rfind('}').map(|end| &body[start..=end])).unwrap_or("null");
    (code, serde_json::from_str(json).unwrap())
}

/// Resident memory of process `pid`, bytes (Linux).
pub fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kib.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

pub fn settings() -> StreamSettings {
    StreamSettings::default()
}

pub fn controls(semitones: f32) -> ConversionControls {
    ConversionControls { semitones, ..ConversionControls::default() }
}

/// A stream converting on a server, as a front end builds it: connect, measure the budget, and
/// start the stream with its latency.
pub struct RemoteClient {
    pub stream: Stream,
    pub geometry: StreamGeometry,
    pub remote: Arc<RemoteStats>,
    pub stats: Arc<StreamStats>,
}

impl RemoteClient {
    pub fn connect(endpoint: RemoteEndpoint, semitones: f32) -> Self {
        let geometry = RvcProcessor::stream_geometry(&settings(), RATE as f32, BUFFER as u32);
        let hello = Hello {
            protocol: PROTOCOL_VERSION,
            token: None,
            voice: endpoint.voice.clone(),
            sample_rate: RATE,
            block: geometry.block as u32,
            settings: settings(),
            controls: controls(semitones),
        };
        let connection = Connection::open(&endpoint, hello.clone(), Duration::from_secs(5), LOAD_TIMEOUT).unwrap();
        let welcome = connection.welcome.clone();
        let budget = network_budget(connection.round_trip, Duration::from_micros(u64::from(welcome.compute_us)));
        let geometry = geometry
            .with_processor_delay(welcome.processor_delay as usize)
            .with_worker_budget(budget_samples(budget, RATE, geometry.block));
        let remote = Arc::new(RemoteStats::default());
        let plan = LinkPlan {
            endpoint,
            hello,
            controls: Arc::new(move || controls(semitones)),
            processor_delay: welcome.processor_delay as usize,
        };
        let wait = Duration::from_secs_f64(geometry.worker_budget as f64 / f64::from(RATE));
        let processor =
            RemoteProcessor::start(plan, Some(connection), geometry.crossfade, wait, remote.clone()).unwrap();
        let stats = Arc::new(StreamStats::default());
        let (stream, _swap) = Stream::start(geometry, Box::new(processor), stats.clone(), false).unwrap();
        Self { stream, geometry, remote, stats }
    }

    pub fn latency(&self) -> usize {
        self.geometry.latency()
    }

    /// Stream `input` in host buffers paced in real time; `each_buffer` sees the sample count so
    /// far after every buffer. Returns the converted signal and its weight for every slot.
    pub fn play(&mut self, input: &[f32], mut each_buffer: impl FnMut(usize, &Self)) -> (Vec<f32>, Vec<f32>) {
        let (mut wet, mut weight) = (vec![0.0; input.len()], vec![0.0; input.len()]);
        let started = Instant::now();
        let mut at = 0;
        while at < input.len() {
            let n = BUFFER.min(input.len() - at);
            self.stream.audio.process(&input[at..at + n], &mut wet[at..at + n], &mut weight[at..at + n]);
            at += n;
            each_buffer(at, self);
            let due = started + Duration::from_secs_f64(at as f64 / f64::from(RATE));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        (wet, weight)
    }

    pub fn missed(&self) -> u64 {
        self.remote.missed_blocks.load(Ordering::Relaxed)
    }

    pub fn converted(&self) -> u64 {
        self.remote.converted_blocks.load(Ordering::Relaxed)
    }
}

/// What a host plays: the converted signal over the dry input delayed by `latency`.
pub fn mix(input: &[f32], wet: &[f32], weight: &[f32], latency: usize) -> Vec<f32> {
    (0..input.len()).map(|n| wet[n] + (1.0 - weight[n]) * if n >= latency { input[n - latency] } else { 0.0 }).collect()
}

/// The same voice converted here, block by block: each block's converted signal and weight, as the
/// stream plays them `latency - processor delay` slots late.
pub fn local_conversion(voice: &VoiceSelection, semitones: f32, input: &[f32]) -> (Vec<f32>, Vec<f32>, usize) {
    let geometry = RvcProcessor::stream_geometry(&settings(), RATE as f32, BUFFER as u32);
    let mut processor = RvcProcessor::load(
        voice,
        &geometry,
        &settings(),
        Arc::new(move || controls(semitones)),
        Arc::new(ConversionStats::default()),
        1,
    )
    .unwrap();
    let block = geometry.block;
    let mut history = InputHistory::new(geometry.history());
    let (mut signal, mut weight) = (vec![0.0; input.len() / block * block], vec![0.0; input.len() / block * block]);
    for ((x, y), g) in input.chunks_exact(block).zip(signal.chunks_exact_mut(block)).zip(weight.chunks_exact_mut(block))
    {
        history.push(x);
        processor.process_block(&history, y, g);
    }
    (signal, weight, processor.delay())
}

/// Where the stream's converted slots disagree with the local conversion: slots of full converted
/// weight in both, compared after each one's own latency. Returns (slots compared, largest
/// difference).
pub fn compare_with_local(
    wet: &[f32],
    weight: &[f32],
    latency: usize,
    local: &(Vec<f32>, Vec<f32>, usize),
) -> (usize, f32) {
    let (signal, local_weight, delay) = local;
    // The stream plays processor output slot k at k + (latency - delay).
    let lead = latency - delay;
    let (mut compared, mut worst) = (0, 0.0f32);
    for k in 0..signal.len() {
        let n = k + lead;
        if n >= wet.len() {
            break;
        }
        if weight[n] == 1.0 && local_weight[k] == 1.0 {
            compared += 1;
            worst = worst.max((wet[n] - signal[k]).abs());
        }
    }
    (compared, worst)
}

/// A steady tone, the voice every client sings.
pub fn tone(frequency: f64, seconds: f64) -> Vec<f32> {
    rvc_live_test_support::signals::sine((seconds * f64::from(RATE)) as usize, f64::from(RATE), frequency, 0.5)
}

pub fn endpoint(address: SocketAddr, voice: &str, token: Option<&str>) -> RemoteEndpoint {
    RemoteEndpoint { address: address.to_string(), token: token.map(str::to_owned), voice: voice.to_owned() }
}

pub fn level_voice(level: u32) -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic(&format!("{}.onnx", voice_name(level)))),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}
