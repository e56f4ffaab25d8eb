//! Formant shift against RVC's own steps: `models/reference/formant_shift.py` runs what RVC's
//! real-time `infer` does around the voice (the stretched length, the pitch scaled with it, the
//! decode to the stretched length, torchaudio's resampling back) on the tiny v2 40k voice; the
//! engine's `Synthesizer::render_shifted`, on the model it builds from the same `.pth`, must give
//! the same samples.

use std::path::PathBuf;

use rvc_live_engine::formant;
use rvc_live_engine::voice_checkpoint::VoiceCheckpoint;
use rvc_live_engine::voice_graph::{self, VoiceTemplate};
use rvc_live_engine::{DecodeRange, Synthesizer};
use rvc_live_test_support::models::generated;
use rvc_live_test_support::rvc_reference;
use serde::Deserialize;

const VOICE: &str = "rvc_v2_40k_tiny";

#[derive(Deserialize)]
struct Reference {
    frames: usize,
    skip_head: usize,
    return_length: usize,
    feats: Vec<f32>,
    pitch: Vec<i64>,
    pitchf: Vec<f32>,
    shifts: Vec<Shift>,
}

#[derive(Deserialize)]
struct Shift {
    formant: f32,
    audio: Vec<f32>,
}

fn reference() -> Reference {
    rvc_reference::run("formant_shift.py", &[generated(&format!("{VOICE}.pth")).as_os_str()])
}

/// The engine's model built from the `.pth` with the det template (the NSF source without its
/// random draws, as the reference runs it).
fn built_voice() -> Synthesizer {
    let name = format!("{VOICE}_partial_det.template.onnx");
    let template = VoiceTemplate::parse_onnx(&name, &std::fs::read(generated(&name)).unwrap()).unwrap();
    let checkpoint = VoiceCheckpoint::open(&generated(&format!("{VOICE}.pth"))).unwrap();
    let built = voice_graph::build(&checkpoint, vec![template]).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("formant-parity");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{VOICE}_built_det.onnx"));
    std::fs::write(&path, &built.onnx).unwrap();
    Synthesizer::load(&path, 1, 120, 0).unwrap()
}

#[test]
fn formant_shifted_renders_match_rvcs_steps() {
    let reference = reference();
    let mut voice = built_voice();
    assert!(voice.shifts_formants(), "a voice built from a .pth takes a formant length");
    let range = DecodeRange { skip_head: reference.skip_head, return_length: reference.return_length };
    let hop = voice.hop();
    let mut cases = Vec::new();
    for shift in &reference.shifts {
        voice.features_mut(reference.frames).copy_from_slice(&reference.feats);
        let ours = voice.render_shifted(&reference.pitch, &reference.pitchf, range, shift.formant).unwrap();
        assert_eq!(ours.len(), reference.return_length * hop, "{} st: samples", shift.formant);
        // Where the stretch does not change the samples per frame RVC hands on the whole
        // stretched render and its crossfade reads from the start; the engine keeps that start.
        assert!(shift.audio.len() >= ours.len(), "{} st: RVC's {} samples", shift.formant, shift.audio.len());
        let error = ours.iter().zip(&shift.audio).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let peak = shift.audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        eprintln!("{:+} st: max error {error:.2e}, peak {peak:.3}", shift.formant);
        assert!(peak > 0.05, "{} st: RVC renders near silence ({peak}); the check would be empty", shift.formant);
        // Float rounding apart (the kernel is computed in double here, in single by torchaudio).
        assert!(error <= 1e-4, "{} st: max error {error} (peak {peak})", shift.formant);
        let stretches = formant::stretched_frames(reference.return_length, shift.formant) != range.return_length;
        let resamples = formant::stretched_hop(hop, shift.formant) != hop;
        cases.push((stretches, resamples));
    }
    for case in [(true, true), (false, true), (true, false), (false, false)] {
        assert!(cases.contains(&case), "no shift that stretches / resamples as {case:?}: the reference misses a case");
    }
}
