//! The remote engine from a plugin host: plugin instances in clack-host whose projects choose an
//! `rvc-live serve` server, beside `rvc-live convert --server` runs, all converting at once on
//! one server, each with a voice of its own. The plugin reports a latency that counts the
//! network budget it measured and delays by exactly that; a server killed mid-stream leaves the
//! host playing the input in time, and the plugin converts again once the server is back.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rvc_live_engine::remote::client::server_health;
use rvc_live_hosts::analysis::zero_crossing_frequency;
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::release_bundle;
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::plugin_paths::rvc_live_cli;
use rvc_live_hosts::state::{NiceState, RemoteEngine};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost};
use rvc_live_test_support::remote_server::{LEVELS, Scratch, Server, level_library, voice_name};
use rvc_live_test_support::signals;

const RATE: f64 = 48_000.0;
const BUFFER: u32 = 512;
const TONE_HZ: f64 = 220.0;

/// The plugin reads its tokens from here, not from the user's own config folder. One folder for
/// the whole test binary: the variable is the process's, and its tests run at once.
fn private_config() -> &'static Path {
    static CONFIG: std::sync::OnceLock<Scratch> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let config = Scratch::new("plugin-config");
        // SAFETY: set once, before any plugin of this binary loads (every test asks first).
        unsafe { std::env::set_var("RVC_LIVE_CONFIG_DIR", &config.0) };
        config
    });
    &config.0
}

fn start_server(library: &Path, listen: &str) -> Server {
    Server::start(&rvc_live_cli().unwrap_or_else(|e| panic!("{e:#}")), library, listen, &["--max-streams", "8"])
}

/// A real-time instance whose project converts on `address` with the level voice `level`,
/// shifted by `semitones`, active at 48 kHz. Returns it with the latency it reports.
fn remote_instance(address: &str, level: u32, semitones: f32) -> (PluginHost, usize) {
    let mut host = PluginHost::load(&release_bundle()).expect("the bundle loads");
    let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
    state.set_remote_engine(&RemoteEngine {
        enabled: true,
        address: address.to_owned(),
        voices: vec![voice_name(level)],
    });
    state.set_f32_param("pitch", semitones);
    host.load_state(&state.encode()).unwrap();
    host.activate(AudioConfig::new(RATE, BUFFER)).unwrap();
    let latency = host.latency().unwrap() as usize;
    (host, latency)
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
}

/// Four plugin instances and four `convert --server` runs on one server at once: every output is
/// its own voice at its own pitch, and each plugin's voice starts exactly one reported latency
/// after its input.
#[test]
fn plugin_instances_and_cli_runs_convert_on_one_server_each_with_its_own_voice() {
    let _config = private_config();
    let library = level_library();
    let server = start_server(&library.0, "127.0.0.1:0");
    let address = server.address.to_string();
    let lead = 0.5;
    let input: Vec<f32> = signals::silence((lead * RATE) as usize)
        .into_iter()
        .chain(signals::sine((2.5 * RATE) as usize, RATE, TONE_HZ, 0.4))
        .collect();

    let plugins: Vec<_> = LEVELS[..4]
        .iter()
        .enumerate()
        .map(|(i, &level)| {
            let (address, input) = (address.clone(), input.clone());
            std::thread::spawn(move || {
                let semitones = 3.0 * i as f32 - 4.0;
                let (mut host, latency) = remote_instance(&address, level, semitones);
                let x: Vec<f32> = input.iter().copied().chain(std::iter::repeat_n(0.0, latency)).collect();
                let blocks = &mut RandomBlocks::new(11 + i as u64, BUFFER as usize);
                let output = host.process_signal(&[x.clone(), x], blocks, Pace::RealTime).unwrap();
                (level, semitones, latency, output)
            })
        })
        .collect();
    let scratch = Scratch::new("host-cli");
    let wav = scratch.0.join("tone.wav");
    rvc_live_test_support::speech::write_wav(&wav, RATE as u32, &input);
    let cli_runs: Vec<_> = LEVELS[4..]
        .iter()
        .map(|&level| {
            let (address, wav, out) = (address.clone(), wav.clone(), scratch.0.join(format!("out{level}.wav")));
            std::thread::spawn(move || {
                let run = Command::new(rvc_live_cli().unwrap())
                    .arg("convert")
                    .args([&wav, &out])
                    .args(["--server", &address, "--voice", &voice_name(level)])
                    .env_remove("RVC_LIVE_SERVER_TOKEN")
                    .output()
                    .unwrap();
                assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
                let samples: Vec<f32> = hound::WavReader::open(&out).unwrap().samples().map(Result::unwrap).collect();
                (level, samples)
            })
        })
        .collect();

    let local = ExpectedLatency::defaults(RATE, BUFFER).total();
    let steady = |latency: usize| {
        let start = ((lead + 0.8) * RATE) as usize + latency;
        start..start + (1.2 * RATE) as usize
    };
    for plugin in plugins {
        let (level, semitones, latency, output) = plugin.join().unwrap();
        assert!(
            latency < local,
            "level {level}: the network budget on loopback ({latency}) is below a local block's ({local})"
        );
        for channel in &output {
            let expected_hz = TONE_HZ * 2f64.powf(f64::from(semitones) / 12.0);
            let sang = zero_crossing_frequency(&channel[steady(latency)], RATE);
            assert!((sang / expected_hz - 1.0).abs() < 0.01, "level {level}: sang {sang} Hz, expected {expected_hz}");
            let level_rms = rms(&channel[steady(latency)]);
            let expected = level as f32 / 100.0 / 2f32.sqrt();
            assert!(
                (level_rms / expected - 1.0).abs() < 0.05,
                "level {level}: RMS {level_rms}, its voice's is {expected}"
            );
            // The voice starts one reported latency after the input, give or take the pitch
            // tracker's first frame (10 ms) and the sine's rise to half its level (a twelfth of
            // its period, from phase 0).
            let onset = channel.iter().position(|v| v.abs() > 0.5 * level as f32 / 100.0).unwrap();
            let expected_onset = (lead * RATE) as usize + latency;
            let rise = (RATE / expected_hz / 12.0).ceil() as usize;
            assert!(
                onset.abs_diff(expected_onset) <= 480 + rise + 8,
                "level {level}: voice at {onset}, expected {expected_onset}"
            );
        }
    }
    for run in cli_runs {
        let (level, converted) = run.join().unwrap();
        let start = ((lead + 0.8) * RATE) as usize;
        let part = &converted[start..start + (1.2 * RATE) as usize];
        let expected = level as f32 / 100.0 / 2f32.sqrt();
        assert!((rms(part) / expected - 1.0).abs() < 0.05, "CLI, level {level}: RMS {}", rms(part));
        assert!((zero_crossing_frequency(part, RATE) / TONE_HZ - 1.0).abs() < 0.01, "CLI, level {level}");
    }
}

/// The server killed while the host plays: the host keeps running, every sample after the
/// fade is the input at exactly the reported latency; the server back on its address: the plugin
/// converts again without the host restarting it.
#[test]
fn a_killed_server_leaves_the_host_playing_the_input_in_time_until_it_returns() {
    let _config = private_config();
    let library = level_library();
    let mut server = start_server(&library.0, "127.0.0.1:0");
    let address = server.address.to_string();
    let (mut host, latency) = remote_instance(&address, 30, 0.0);
    let blocks = &mut RandomBlocks::new(5, BUFFER as usize);
    let part = |seconds: f64| signals::sine((seconds * RATE) as usize, RATE, TONE_HZ, 0.4);
    let expected = 0.30 / 2f32.sqrt();

    let before = part(1.5);
    let out = host.process_signal(&[before.clone(), before.clone()], blocks, Pace::RealTime).unwrap();
    let tail = &out[0][out[0].len() - (0.5 * RATE) as usize..];
    assert!((rms(tail) / expected - 1.0).abs() < 0.05, "converting before the kill: RMS {}", rms(tail));

    server.kill();
    let outage = part(1.0);
    let out = host.process_signal(&[outage.clone(), outage.clone()], blocks, Pace::RealTime).unwrap();
    // Once what was converted before the kill has played (a latency and a block), the output is
    // the input the latency earlier, to the sample.
    let block = (0.12 * RATE) as usize;
    let history: Vec<f32> = before.iter().chain(&outage).copied().collect();
    let offset = before.len();
    for n in latency + block..outage.len() {
        let dry = history[offset + n - latency];
        assert!((out[0][n] - dry).abs() < 1e-6, "slot {n} of the outage: {} where the input was {dry}", out[0][n]);
    }

    let server = start_server(&library.0, &address);
    let after = part(3.0);
    let out = host.process_signal(&[after.clone(), after], blocks, Pace::RealTime).unwrap();
    let end = &out[0][out[0].len() - (0.5 * RATE) as usize..];
    assert!((rms(end) / expected - 1.0).abs() < 0.05, "converting after the restart: RMS {}", rms(end));
    drop(server);
    std::thread::sleep(Duration::from_millis(10));
}

/// A project that names a server this user never allowed sends it nothing: the input plays
/// through at the reported latency and the server sees no stream. Once the user allows the
/// address (what the editor's Allow writes to the config folder), the next activation converts
/// on it.
///
/// Tests stay on loopback, so the "other machine" is the test's server under an IPv4-mapped IPv6
/// address: it reaches 127.0.0.1, yet is not one of the names the plugin takes for this machine.
#[test]
fn a_project_streams_only_to_servers_the_user_allowed() {
    let config = private_config();
    let library = level_library();
    let server = start_server(&library.0, "127.0.0.1:0");
    let address = format!("[::ffff:127.0.0.1]:{}", server.address.port());
    let (mut host, latency) = remote_instance(&address, 30, 0.0);
    let blocks = &mut RandomBlocks::new(9, BUFFER as usize);
    let input = signals::sine((1.5 * RATE) as usize, RATE, TONE_HZ, 0.4);
    let out = host.process_signal(&[input.clone(), input.clone()], blocks, Pace::RealTime).unwrap();
    for n in latency..input.len() {
        let dry = input[n - latency];
        assert!((out[0][n] - dry).abs() < 1e-6, "slot {n}: {} where the input was {dry}", out[0][n]);
    }
    let health = server_health(&server.address.to_string(), Duration::from_secs(5)).unwrap();
    assert_eq!(health.streams, 0, "the server got a stream from a project the user never allowed");

    let allowed = serde_json::json!({ address.as_str(): "" });
    std::fs::write(config.join("remote-servers.json"), allowed.to_string()).unwrap();
    host.deactivate().unwrap();
    host.activate(AudioConfig::new(RATE, BUFFER)).unwrap();
    let out = host.process_signal(&[input.clone(), input], blocks, Pace::RealTime).unwrap();
    let tail = &out[0][out[0].len() - (0.5 * RATE) as usize..];
    let expected = 0.30 / 2f32.sqrt();
    assert!((rms(tail) / expected - 1.0).abs() < 0.05, "converting once allowed: RMS {}", rms(tail));
}
