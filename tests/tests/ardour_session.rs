//! RVC Live's VST3 bundle in a real DAW: Ardour 7, headless (`ardour7-lua` on the dummy audio
//! backend, driven by `tests/ardour/session.lua`). Ardour hosts the plugin with its own VST3
//! implementation, compensates the latency the plugin reports with its own delay compensation,
//! saves the plugin's state in its session file, and renders the master bus two ways: its export
//! (freewheeling, faster than real time: what Session > Export does) and a real-time recording of
//! the master bus (what a listener hears while the session plays).
//!
//! Converted voices are checked in real-time recordings only. Ardour 7.3 tells a VST3 plugin that
//! it renders offline only in each `process` call's `ProcessData::processMode` (kOffline while
//! freewheeling); its `setupProcessing` at activation says kRealtime, and nice-plug 0.4.2 reads
//! the mode from `setupProcessing` alone. An export therefore runs RVC Live's real-time path,
//! whose audio thread never waits for the inference thread: rendering faster than real time, the
//! conversions come late and the latency-aligned dry input plays (measured: every 100 ms of a
//! +7 semitone export sang the input's 200 Hz). Ardour's "Realtime Export" renders in real time.
//!
//! Each session has two stereo tracks playing one region, the test's signal: "Voice" through RVC
//! Live, "Reference" without it. The tests render with one track muted, or with both playing and
//! "Reference" polarity-inverted, so anything RVC Live adds or moves shows up as a difference.
//!
//! Needs Ardour 7 (`apt-get install --no-install-recommends ardour`; `cargo xtask test` installs
//! it), the VST3 bundle (`RVC_LIVE_VST3`, or `target/bundled`), and the generated models
//! (`cargo xtask models`). The tests run one at a time: real-time recordings need the CPU.

use rvc_live_test_support::models::model;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rvc_live_hosts::analysis::{max_abs_error, zero_crossing_frequency};
use rvc_live_hosts::ardour::{self, ArdourRun, BLOCK, SAMPLE_RATE, Sandbox};
use rvc_live_hosts::ardour_state::SessionXml;
use rvc_live_hosts::blocks;
use rvc_live_hosts::fixtures::release_bundle;
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::signals;
use rvc_live_hosts::state::{NiceState, VoiceSelection};
use rvc_live_hosts::subprocess::StopLog;
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode};

const RATE: f64 = SAMPLE_RATE as f64;

/// One Ardour at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sandbox(test: &str) -> Sandbox {
    let bundle = ardour::vst3_bundle().unwrap_or_else(|e| panic!("{e:#}"));
    Sandbox::new(test, &bundle).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A generated model's path without `..`, as a session file holds it.
fn models(folder: &str, name: &str) -> PathBuf {
    model(folder, name).canonicalize().unwrap()
}

/// The analytic voice: it sings a sine at the pitch the engine tracks.
fn analytic_voice() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(models("analytic", "analytic_synth_v2_40k.onnx")),
        content_encoder: Some(models("analytic", "analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// What RVC Live reports at Ardour's rate and buffer with its default stream settings.
fn expected_latency() -> usize {
    ExpectedLatency::defaults(RATE, BLOCK).total()
}

/// Peak level in dBFS (-inf for silence).
fn peak_dbfs(x: &[f32]) -> f64 {
    20.0 * f64::from(x.iter().fold(0.0f32, |m, v| m.max(v.abs()))).log10()
}

/// Write `voice` into the RVC Live state of the session saved in `dir`, as a project file that
/// chose it carries it (there is no editor headless, and the voice is no parameter).
fn choose_voice(dir: &Path, voice: &VoiceSelection) {
    let mut xml = SessionXml::read(dir).unwrap();
    let mut preset = xml.plugin_state().unwrap();
    let mut state = preset.component().unwrap();
    state.set_voice(voice);
    preset.set_component(&state);
    xml.set_plugin_state(&preset).unwrap();
    xml.write(dir).unwrap();
}

/// The latency Ardour reports for the plugin and the tracks, checked against the formula: exactly
/// it without a voice, and with one every term but the worker budget, which the voice measured
/// when it loaded (at most the formula's).
#[track_caller]
fn assert_reported_latency(run: &ArdourRun, with_voice: bool) {
    let latency = run.number("plugin_latency");
    if with_voice {
        // Panics unless every term but the budget is the formula's and the budget within its cap.
        ExpectedLatency::defaults(RATE, BLOCK).with_measured_budget(latency as usize);
    } else {
        assert_eq!(latency, expected_latency() as f64, "the latency Ardour reports for RVC Live");
    }
    assert_eq!(run.number("block_size"), f64::from(BLOCK), "Ardour's buffer size");
    assert_eq!(run.number("route_latency Voice"), latency, "the Voice track's latency");
    assert_eq!(run.number("route_latency Reference"), 0.0, "the Reference track's latency");
}

/// Silence for `lead` seconds, a 0.4 sine at `frequency` for `seconds`, silence for `tail`
/// seconds; the same on both channels.
fn tone(lead: f64, frequency: f64, seconds: f64, tail: f64) -> [Vec<f32>; 2] {
    let x: Vec<f32> =
        signals::delayed(&signals::sine((seconds * RATE) as usize, RATE, frequency, 0.4), (lead * RATE) as usize)
            .into_iter()
            .chain(std::iter::repeat_n(0.0, (tail * RATE) as usize))
            .collect();
    [x.clone(), x]
}

/// Detection level for a tone's start and end: an eighth of its amplitude.
const AUDIBLE: f32 = 0.05;

/// The first and last sample above [`AUDIBLE`].
fn extent(x: &[f32]) -> Option<(usize, usize)> {
    Some((x.iter().position(|v| v.abs() > AUDIBLE)?, x.iter().rposition(|v| v.abs() > AUDIBLE)?))
}

/// The frequency `x` holds from `from` to `to` seconds after `start`.
fn frequency_between(x: &[f32], start: usize, from: f64, to: f64) -> f64 {
    zero_crossing_frequency(&x[start + (from * RATE) as usize..start + (to * RATE) as usize], RATE)
}

/// Panic unless every 100 ms of `x` from 0.1 s after `start` to 0.1 s before `start + seconds`
/// holds `frequency`, within 1 %: a tone sung throughout, not in places.
#[track_caller]
fn assert_sings(x: &[f32], start: usize, seconds: f64, frequency: f64, what: &str) {
    let windows = ((seconds - 0.2) / 0.1).floor() as usize;
    let sung: Vec<f64> =
        (0..windows).map(|k| frequency_between(x, start, 0.1 + 0.1 * k as f64, 0.2 + 0.1 * k as f64)).collect();
    assert!(
        sung.iter().all(|f| (f / frequency - 1.0).abs() < 0.01),
        "{what} does not sing {frequency:.1} Hz throughout; every 100 ms it sings {:.1?} Hz",
        sung
    );
}

/// The plugin's closing counters from every instance that ran in this Ardour process; at least
/// one, so an assertion over them cannot pass on nothing.
#[track_caller]
fn counters(run: &ArdourRun) -> Vec<StopLog> {
    let counters = run.plugin_counters();
    assert!(!counters.is_empty(), "RVC Live logged no closing counters:\n{}", run.describe());
    counters
}

/// With no voice, RVC Live passes its input through delayed by exactly the latency it reports,
/// stereo unchanged: after Ardour's compensation the Voice track plays the region as it is, and
/// against the polarity-inverted Reference the master bus is silent, exported and in real time.
#[test]
fn without_a_voice_the_compensated_track_nulls_against_the_dry_one() {
    let _one_at_a_time = serial();
    let ardour = sandbox("null");
    let frames = 2 * SAMPLE_RATE as usize;
    // Different content left and right (a sweep, and noise): a plugin that sent a mono mix to
    // both outputs could not null.
    let signal = [signals::chirp(frames, RATE, 50.0, 8000.0, 0.5), signals::noise(frames, 17, 0.3)];
    let session = ardour.session("null");
    let export_frames = frames + 4096;
    let steps = [
        "create",
        "invert",
        "report",
        "save",
        "export:null",
        "export:voice:Reference",
        "export:reference:Voice",
        "capture:null",
    ];
    let run = ardour.run_ok(&session, &steps, Some(&signal), export_frames).unwrap_or_else(|e| panic!("{e:#}"));
    assert_reported_latency(&run, false);

    let expected: Vec<Vec<f32>> =
        signal.iter().map(|x| x.iter().copied().chain(std::iter::repeat_n(0.0, 4096)).collect()).collect();
    // The harness itself: the Reference track plays the signal, inverted, from sample 0.
    let reference = ardour.export("reference").unwrap();
    for (c, (out, x)) in reference.channels.iter().zip(&expected).enumerate() {
        let inverted: Vec<f32> = x.iter().map(|v| -v).collect();
        assert_eq!(out.len(), export_frames);
        let (error, at) = max_abs_error(out, &inverted);
        assert!(
            error == 0.0,
            "channel {c} of the Reference track is not the signal inverted: sample {at} is off by {error}"
        );
    }
    // RVC Live alone: each channel exactly its input, in time.
    let mono_error = expected[0].iter().zip(&expected[1]).map(|(l, r)| ((l - r) / 2.0).abs()).fold(0.0f32, f32::max);
    let voice = ardour.export("voice").unwrap();
    for (c, (out, x)) in voice.channels.iter().zip(&expected).enumerate() {
        let (error, at) = max_abs_error(out, x);
        assert!(
            error <= 1e-6,
            "channel {c} through RVC Live differs from its input by {error} at sample {at}; a mono mix on both \
             outputs would differ by up to {mono_error:.2}"
        );
    }
    let null = ardour.export("null").unwrap();
    let live = ardour.capture(&run, "null").unwrap();
    assert_eq!(run.capture_xruns("null"), 0, "the real-time recording missed real time");
    for (what, audio) in [("exported", &null), ("recorded in real time", &live)] {
        for (c, out) in audio.channels.iter().enumerate() {
            let level = peak_dbfs(out);
            eprintln!("{what}, channel {c}: the null peaks at {level:.1} dBFS");
            assert!(level <= -90.0, "{what}, channel {c}: the null peaks at {level:.1} dBFS, above -90 dBFS");
        }
    }
}

/// A session with a tone on both tracks and RVC Live shifting the pitch by `semitones`, with the
/// analytic voice chosen in the session file. Returns the session's folder.
fn voice_session(ardour: &Sandbox, case: &str, signal: &[Vec<f32>; 2], semitones: f64) -> PathBuf {
    let session = ardour.session(case);
    let set_pitch = format!("set:Pitch={semitones}");
    ardour
        .run_ok(&session, &["create", &set_pitch, "save"], Some(signal), signal[0].len())
        .unwrap_or_else(|e| panic!("{e:#}"));
    choose_voice(&session, &analytic_voice());
    session
}

/// Where the analytic voice starts and ends against the tone (voice minus tone, in samples) when
/// RVC Live converts `signal` in clack-host, a host with no delay of its own, with the output
/// moved back by the latency the plugin reports. Where the plugin's 120 ms blocks and the pitch
/// tracker's 10 ms frames fall against the tone follows the moment the plugin started, which no
/// host sets; so the signal is rendered after 45 lead-ins 128 samples apart, which put the tone
/// at every 32-sample step of a 10 ms frame and across a whole block. Returns the ranges the
/// starts and the ends span.
fn reference_offsets(signal: &[f32], semitones: f32) -> [std::ops::RangeInclusive<i64>; 2] {
    let (tone_start, tone_end) = extent(signal).expect("the signal holds a tone");
    let mut offsets = [Vec::new(), Vec::new()];
    for lead in (0..45).map(|k| k * 128) {
        let mut host = PluginHost::load(&release_bundle()).unwrap();
        let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
        state.set_voice(&analytic_voice());
        state.set_f32_param("pitch", semitones);
        host.load_state(&state.encode()).unwrap();
        host.set_render_mode(RenderMode::Offline).unwrap();
        host.activate(AudioConfig::new(RATE, BLOCK)).unwrap();
        let latency = host.latency().unwrap() as usize;
        let x: Vec<f32> = std::iter::repeat_n(0.0, lead)
            .chain(signal.iter().copied())
            .chain(std::iter::repeat_n(0.0, latency))
            .collect();
        let out = host.process_signal(&[x.clone(), x], &mut blocks::fixed(BLOCK as usize), Pace::Unpaced).unwrap();
        let (start, end) = extent(&out[0]).expect("the converted voice is audible");
        let moved_back = (lead + latency) as i64;
        offsets[0].push(start as i64 - moved_back - tone_start as i64);
        offsets[1].push(end as i64 - moved_back - tone_end as i64);
    }
    offsets.map(|o| *o.iter().min().unwrap()..=*o.iter().max().unwrap())
}

/// The analytic voice, chosen in the session file, converts a tone while the session plays in
/// real time: it sings the tone's pitch shifted by the Pitch parameter, and starts and ends where
/// it does in clack-host, moved back by the latency RVC Live reports, because Ardour compensated
/// that latency. A latency off by one host buffer (1 024 samples) moves the start out of the
/// range clack-host spans; the test checks that the range is narrow enough for that.
#[test]
fn the_analytic_voice_comes_out_at_the_inputs_timing() {
    let _one_at_a_time = serial();
    let ardour = sandbox("voice-timing");
    let (lead, frequency, seconds, semitones) = (0.5, 200.0, 1.5, 7.0);
    let signal = tone(lead, frequency, seconds, 0.5);
    let session = voice_session(&ardour, "voice", &signal, semitones);
    let steps = ["open", "report", "capture:voice:Reference", "capture:reference:Voice"];
    let run = ardour.run_ok(&session, &steps, None, signal[0].len()).unwrap_or_else(|e| panic!("{e:#}"));
    assert_reported_latency(&run, true);
    for name in ["voice", "reference"] {
        assert_eq!(run.capture_xruns(name), 0, "the real-time recording {name} missed real time");
    }
    for log in counters(&run) {
        assert_eq!(
            (log.underruns, log.failed_conversions),
            (0, 0),
            "played in real time, every block must be converted in time: {log:?}"
        );
    }

    let reference = ardour.capture(&run, "reference").unwrap();
    let (dry_start, dry_end) = extent(&reference.channels[0]).expect("the Reference track plays the tone");
    assert!((frequency_between(&reference.channels[0], dry_start, 0.3, seconds - 0.3) / frequency - 1.0).abs() < 1e-3);
    let expected = reference_offsets(&signal[0], semitones as f32);
    eprintln!(
        "in clack-host the converted voice starts {:?} and ends {:?} samples from the tone",
        expected[0], expected[1]
    );
    // The voice starts with the first 10 ms frame the tracker calls voiced: clack-host's starts
    // step with the tone's place in that frame and span it, and Ardour's falls between two of
    // those 32-sample steps. A millisecond of margin; and the spread, margins included, must stay
    // under one host buffer, or a latency off by one buffer would pass.
    let start_margin = 48;
    let starts = &expected[0];
    assert!(
        starts.end() - starts.start() + 2 * start_margin < i64::from(BLOCK),
        "in clack-host the voice starts {starts:?} samples from the tone: too wide a spread to tell a latency off \
         by one buffer"
    );
    // Ends also move with the converted sine's last peak (a period is 144 samples) and with where
    // the last block join falls (measured in clack-host: 160 samples earlier near one): 5 ms.
    let end_margin = 240;
    let voice = ardour.capture(&run, "voice").unwrap();
    let shifted = frequency * 2f64.powf(semitones / 12.0);
    for (c, out) in voice.channels.iter().enumerate() {
        assert!(out.iter().all(|v| v.is_finite()), "channel {c} holds non-finite samples");
        let (start, end) = extent(out).expect("the converted voice is audible");
        assert_sings(out, dry_start, seconds, shifted, &format!("channel {c} of the Voice track"));
        eprintln!("channel {c}: the tone plays {dry_start}..{dry_end}, the converted voice {start}..{end}");
        for (what, voice_at, dry_at, range, margin) in
            [("starts", start, dry_start, &expected[0], start_margin), ("ends", end, dry_end, &expected[1], end_margin)]
        {
            let offset = voice_at as i64 - dry_at as i64;
            assert!(
                (range.start() - margin..=range.end() + margin).contains(&offset),
                "channel {c}: the converted voice {what} {offset} samples from the tone; in clack-host {range:?}"
            );
        }
    }
}

/// A session saved with a voice and a non-default parameter, closed and opened again, comes back
/// as it was saved: Ardour saves what RVC Live gives it, RVC Live restores the voice from it and
/// converts with it, and Ardour reports the same latency and parameters.
#[test]
fn a_reopened_session_restores_the_voice_and_settings() {
    let _one_at_a_time = serial();
    let ardour = sandbox("reopen");
    let (lead, frequency, seconds, semitones) = (0.3, 180.0, 1.2, -5.0);
    let signal = tone(lead, frequency, seconds, 0.3);
    let frames = signal[0].len();
    let session = voice_session(&ardour, "reopen", &signal, semitones);
    let saved = SessionXml::read(&session).unwrap().plugin_state().unwrap().component().unwrap();
    let pitch = saved.f32_param("pitch").expect("the saved state holds the pitch");
    assert!((f64::from(pitch) - semitones).abs() < 1e-4, "Ardour set the pitch to {pitch} st, not {semitones}");

    // Opened, played, and saved by Ardour: the state it writes is what the plugin now holds.
    let first = ardour
        .run_ok(&session, &["open", "report", "capture:first:Reference", "save"], None, frames)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let resaved = SessionXml::read(&session).unwrap().plugin_state().unwrap().component().unwrap();
    assert_eq!(resaved.voice().unwrap(), analytic_voice(), "the voice Ardour saved back");
    assert_eq!(resaved.f32_param("pitch"), Some(pitch), "the pitch Ardour saved back");
    assert_eq!(resaved.stream().unwrap(), saved.stream().unwrap(), "the stream settings Ardour saved back");

    let second = ardour
        .run_ok(&session, &["open", "report", "capture:second:Reference"], None, frames)
        .unwrap_or_else(|e| panic!("{e:#}"));
    for run in [&first, &second] {
        assert_reported_latency(run, true);
        let reported = run.parameters().into_iter().find(|(label, _)| label == "Pitch").expect("Ardour reports Pitch");
        assert!((reported.1 - semitones).abs() < 1e-4, "Ardour reports Pitch = {} st, not {semitones}", reported.1);
    }
    assert_eq!(first.parameters(), second.parameters(), "the parameters Ardour reports after reopening");

    let expected = frequency * 2f64.powf(semitones / 12.0);
    for (name, run) in [("first", &first), ("second", &second)] {
        assert_eq!(run.capture_xruns(name), 0, "the real-time recording {name} missed real time");
        let out = ardour.capture(run, name).unwrap();
        let (start, _) = extent(&out.channels[0]).expect("the converted voice is audible");
        assert_sings(&out.channels[0], start, seconds - 0.02, expected, &format!("the {name} session"));
    }
}

/// Which role a fault model takes in the voice: `voice-*` the synthesizer, `content-encoder-*`
/// the content encoder, `pitch-model-*` the pitch model; the analytic voice fills the others.
fn voice_with_fault(model: &Path) -> VoiceSelection {
    let name = model.file_name().unwrap().to_string_lossy();
    let mut voice = analytic_voice();
    if name.starts_with("voice-") {
        voice.synthesizer = Some(model.to_path_buf());
    } else if name.starts_with("content-encoder-") {
        voice.content_encoder = Some(model.to_path_buf());
    } else if name.starts_with("pitch-model-") {
        voice.pitch_model = Some(model.to_path_buf());
    } else {
        panic!("{name}: not a {{voice,content-encoder,pitch-model}}-FAULT.onnx fault model");
    }
    voice
}

/// Ardour opens a session whose voice is a broken model (NaN, infinities, huge values, silence,
/// a frame too few or too many, the wrong dtype, turning bad mid-stream;
/// `models/generate_faults.py`), exports it and plays it in real time without crashing, and
/// both renders are finite and complete.
#[test]
fn ardour_survives_every_fault_model() {
    let _one_at_a_time = serial();
    let faults = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/models/faults");
    let mut models: Vec<PathBuf> = std::fs::read_dir(&faults)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask models` (or `cargo xtask test`)", faults.display()))
        .map(|entry| entry.unwrap().path().canonicalize().unwrap())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    models.sort();
    for stage in ["voice-", "content-encoder-", "pitch-model-"] {
        assert!(
            models.iter().any(|m| m.file_name().unwrap().to_string_lossy().starts_with(stage)),
            "no {stage}* fault model in {}: run `cargo xtask models`",
            faults.display()
        );
    }

    let ardour = sandbox("faults");
    // Loud enough (0.6) for content-encoder-loud-nan to turn bad.
    let x: Vec<f32> = signals::delayed(&signals::sine(SAMPLE_RATE as usize, RATE, 200.0, 0.6), (0.3 * RATE) as usize)
        .into_iter()
        .chain(std::iter::repeat_n(0.0, (0.3 * RATE) as usize))
        .collect();
    let frames = x.len();
    let base = ardour.session("base");
    ardour.run_ok(&base, &["create", "save"], Some(&[x.clone(), x]), frames).unwrap_or_else(|e| panic!("{e:#}"));

    let mut failures = Vec::new();
    for model in &models {
        let case = model.file_stem().unwrap().to_string_lossy().into_owned();
        let session = ardour.copy_session(&base, &case).unwrap();
        choose_voice(&session, &voice_with_fault(model));
        let steps = ["open", "report", &format!("export:{case}:Reference"), &format!("capture:{case}:Reference")];
        let run = ardour.run(&session, &steps, None, frames).unwrap();
        let rendered = |what: &str, audio: anyhow::Result<rvc_live_hosts::wav::Audio>, min_frames: usize| {
            let audio = audio.map_err(|e| format!("no {what}: {e:#}"))?;
            if audio.frames() < min_frames {
                return Err(format!("the {what} holds {} frames, fewer than {min_frames}", audio.frames()));
            }
            if !audio.channels.iter().flatten().all(|v| v.is_finite()) {
                return Err(format!("the {what} holds non-finite samples"));
            }
            Ok(audio.channels.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs())))
        };
        let outcome = if run.succeeded() {
            rendered("export", ardour.export(&case), frames)
                .and_then(|export| Ok((export, rendered("recording", ardour.capture(&run, &case), frames)?)))
        } else {
            Err(format!("Ardour did not finish: status {}", run.child.status))
        };
        match outcome {
            Ok((export_peak, live_peak)) => eprintln!(
                "{case}: exported (peak {export_peak:.3}) and played in real time (peak {live_peak:.3}); counters {:?}",
                run.plugin_counters()
            ),
            Err(why) => {
                eprintln!("{case}: {why}\n{}", run.describe());
                failures.push(format!("{case}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "Ardour did not survive these fault models:\n{}", failures.join("\n"));
}
