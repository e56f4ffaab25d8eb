//! What the remote engine's tests share: a real `rvc-live serve` process on a loopback port, a
//! library of analytic voices, clients that stream in real time through the engine's own stream,
//! and the local conversion each remote one must match.
#![allow(dead_code, unused_imports)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rvc_live_engine::remote::client::{
    ConnectTimeouts, LOAD_TIMEOUT, RemoteEndpoint, RemoteStats, ServerHealth, connect, server_health,
};
use rvc_live_engine::stream::{BlockProcessor, InputHistory, Stream, StreamGeometry, StreamSettings, StreamStats};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, VoiceSelection};
use rvc_live_test_support::models::analytic;

pub use rvc_live_test_support::remote_server::{LEVELS, Scratch, level_library, resident_bytes, voice_name};

pub const RATE: u32 = 48_000;
/// The host buffer the clients stream in.
pub const BUFFER: usize = 512;

/// A running `rvc-live serve` of this package, killed when dropped.
pub struct Server(rvc_live_test_support::remote_server::Server);

impl Server {
    /// Start a server on `library` at `listen` (port 0: any free port) and wait until it listens.
    pub fn start(library: &Path, listen: &str, extra: &[&str]) -> Self {
        let binary = Path::new(env!("CARGO_BIN_EXE_rvc-live"));
        Self(rvc_live_test_support::remote_server::Server::start(binary, library, listen, extra))
    }
}

impl std::ops::Deref for Server {
    type Target = rvc_live_test_support::remote_server::Server;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Server {
    /// `GET /health`.
    pub fn health(&self) -> ServerHealth {
        health(self.address)
    }
}

/// `GET /health` at `address`.
pub fn health(address: SocketAddr) -> ServerHealth {
    server_health(&address.to_string(), Duration::from_secs(5)).unwrap()
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
        let local = RvcProcessor::stream_geometry(&settings(), RATE as f32, BUFFER as u32);
        let remote = Arc::new(RemoteStats::default());
        let timeouts = ConnectTimeouts { step: Duration::from_secs(5), load: LOAD_TIMEOUT };
        let source = Arc::new(move || controls(semitones));
        let voice = connect(&endpoint, local, &settings(), source, None, timeouts, remote.clone()).unwrap();
        let stats = Arc::new(StreamStats::default());
        let (stream, _swap) = Stream::start(voice.geometry, Box::new(voice.processor), stats.clone(), false).unwrap();
        Self { stream, geometry: voice.geometry, remote, stats }
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

/// `tone(frequency, seconds)` as a mono 32-bit float WAV at the clients' rate.
pub fn write_tone(path: &Path, frequency: f64, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    tone(frequency, seconds).into_iter().for_each(|s| writer.write_sample(s).unwrap());
    writer.finalize().unwrap();
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
