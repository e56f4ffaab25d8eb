//! `.pth` voices as users download them, built into the engine's model without Python and checked
//! against RVC's own export of the same checkpoint (`models/generate_models.py` writes, for every
//! configuration, a tiny voice's `.pth`, its partial-decoding export — which `check_models.py`
//! checks against RVC's PyTorch module — and the det template of its configuration).

use std::path::{Path, PathBuf};

use rvc_live_engine::built_model_cache;
use rvc_live_engine::torch_checkpoint::{CheckpointError, TorchCheckpoint};
use rvc_live_engine::voice_checkpoint::{CheckpointLayout, VoiceCheckpoint, weights};
use rvc_live_engine::voice_graph::{self, VoiceBuildError, VoiceTemplate};
use rvc_live_engine::{DecodeRange, ModelVersion, Synthesizer};
use rvc_live_test_support::models::generated;

/// The tiny voices with a det template: every configuration RVC has (v1/v2, 32k/40k/48k — v1's
/// 32k and 48k with five-stage decoders — with and without f0).
const TINY_VOICES: [&str; 12] = [
    "rvc_v1_32k_tiny",
    "rvc_v1_32k_nof0_tiny",
    "rvc_v1_40k_tiny",
    "rvc_v1_40k_nof0_tiny",
    "rvc_v1_48k_tiny",
    "rvc_v1_48k_nof0_tiny",
    "rvc_v2_32k_tiny",
    "rvc_v2_32k_nof0_tiny",
    "rvc_v2_40k_tiny",
    "rvc_v2_40k_nof0_tiny",
    "rvc_v2_48k_tiny",
    "rvc_v2_48k_nof0_tiny",
];

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pth-voices");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn open(name: &str) -> VoiceCheckpoint {
    VoiceCheckpoint::open(&generated(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn det_template(stem: &str) -> VoiceTemplate {
    let name = format!("{stem}_partial_det.template.onnx");
    VoiceTemplate::parse_onnx(&name, &std::fs::read(generated(&name)).unwrap()).unwrap()
}

/// Render `frames` frames of the same made-up features and pitch through `synth`, decoding `range`.
fn render(synth: &mut Synthesizer, frames: usize, range: DecodeRange) -> Vec<f32> {
    let features = synth.features_mut(frames);
    for (i, x) in features.iter_mut().enumerate() {
        *x = ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.8;
    }
    let pitchf: Vec<f32> = (0..frames).map(|i| if i < frames / 5 { 0.0 } else { 180.0 + i as f32 }).collect();
    let pitch: Vec<i64> = pitchf.iter().map(|&f| if f > 0.0 { 60 + (f as i64 - 180) / 4 } else { 1 }).collect();
    synth.render(&pitch, &pitchf, range).unwrap().to_vec()
}

#[test]
fn every_configuration_built_from_its_pth_renders_as_rvcs_own_export() {
    for stem in TINY_VOICES {
        let checkpoint = open(&format!("{stem}.pth"));
        let built = voice_graph::build(&checkpoint, vec![det_template(stem)]).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let built_path = scratch(&format!("{stem}_built_det.onnx"));
        std::fs::write(&built_path, &built.onnx).unwrap();
        let mut ours = Synthesizer::load(&built_path, 1, 120, 0).unwrap();
        let mut rvc = Synthesizer::load(&generated(&format!("{stem}_partial_det.onnx")), 1, 120, 0).unwrap();
        assert_eq!(ours.sample_rate(), rvc.sample_rate(), "{stem}");
        assert_eq!(ours.sample_rate(), built.fits.sample_rate(), "{stem}: the template's rate");
        for (frames, skip_head, return_length) in [(40, 0, 40), (64, 30, 20), (117, 80, 37)] {
            let range = DecodeRange { skip_head, return_length };
            let (a, b) = (render(&mut ours, frames, range), render(&mut rvc, frames, range));
            assert_eq!(a.len(), b.len(), "{stem} at {frames} frames");
            let error = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            let peak = b.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(peak > 0.05, "{stem}: RVC's export renders near silence ({peak}); the check would be empty");
            assert!(error <= 1e-3, "{stem} at {frames} frames from {skip_head}: max error {error} (peak {peak})");
        }
    }
}

#[test]
fn the_fixtures_weight_norm_lengths_differ_from_their_directions_norms() {
    // Were g = ‖v‖ (a fresh weight norm), a loader that ignored g would pass the parity test above.
    let checkpoint = open("rvc_v2_40k_tiny.pth");
    let names: Vec<&str> = checkpoint.weights.names().filter(|n| n.ends_with(".weight_g")).collect();
    assert!(names.len() > 10, "weight-normed layers: {}", names.len());
    let (mut channels, mut off) = (0, 0);
    for g_name in names {
        let v_name = g_name.replace("weight_g", "weight_v");
        let (g, v) = (checkpoint.weights.read_f32(g_name).unwrap(), checkpoint.weights.read_f32(&v_name).unwrap());
        let slice = v.len() / g.len();
        let ratios: Vec<f32> =
            g.iter().zip(v.chunks(slice)).map(|(g, v)| g / v.iter().map(|x| x * x).sum::<f32>().sqrt()).collect();
        let layer_off = ratios.iter().filter(|r| (**r - 1.0).abs() > 0.1).count();
        assert!(layer_off > 0, "{g_name}: every channel has g = ‖v‖");
        (channels, off) = (channels + ratios.len(), off + layer_off);
    }
    assert!(off * 10 > channels * 7, "only {off} of {channels} channels have g away from ‖v‖");
}

#[test]
fn every_layout_of_a_voice_gives_the_same_model() {
    let reference = voice_graph::build(&open("rvc_v2_40k_tiny.pth"), voice_graph::embedded_templates()).unwrap();
    assert_eq!(reference.template, "rvc_v2_40k_tiny");
    for layout in ["applio", "parametrizations"] {
        let built =
            voice_graph::build(&open(&format!("rvc_v2_40k_tiny_{layout}.pth")), voice_graph::embedded_templates())
                .unwrap();
        assert!(built.onnx == reference.onnx, "{layout}: another model than RVC WebUI's layout gives");
    }
    // A trainer's checkpoint holds the same weights in fp32 (the saved voice rounds them to fp16),
    // has no configuration, and is matched on its shapes.
    let training = open("rvc_v2_40k_tiny_training.pth");
    assert!(training.weights.names().any(|n| n.starts_with("enc_q.")), "the fixture has the posterior encoder");
    let built = voice_graph::build(&training, voice_graph::embedded_templates()).unwrap();
    assert_eq!(built.template, "rvc_v2_40k_tiny");
    let voice = open("rvc_v2_40k_tiny.pth");
    for (name, _) in det_template("rvc_v2_40k_tiny").graph.weights() {
        let half = weights::read(&voice.weights, name).unwrap().unwrap();
        let full = weights::read(&training.weights, name).unwrap().unwrap();
        assert_eq!(half.shape, full.shape, "{name}");
        for (h, f) in half.values.iter().zip(&full.values) {
            assert!((h - f).abs() <= 2e-3 * f.abs().max(1.0), "{name}: {h} (fp16) against {f}");
        }
    }
}

#[test]
fn the_facts_are_read_from_each_layout() {
    let webui = open("rvc_v2_40k_tiny.pth").facts;
    assert_eq!(webui.layout, CheckpointLayout::RvcWebUi);
    assert_eq!((webui.version, webui.sample_rate, webui.f0), (Some(ModelVersion::V2), Some(40_000), Some(true)));
    let applio = open("rvc_v2_40k_tiny_applio.pth").facts;
    assert_eq!(applio.layout, CheckpointLayout::Applio);
    assert_eq!((applio.sample_rate, applio.f0, applio.epochs), (Some(40_000), Some(true), Some(300)));
    assert_eq!(applio.vocoder.as_deref(), Some("HiFi-GAN"));
    let training = open("rvc_v2_40k_tiny_training.pth").facts;
    assert_eq!(training.layout, CheckpointLayout::Training);
    assert_eq!((training.version, training.sample_rate, training.f0), (None, None, None));
    assert_eq!(open("rvc_v2_32k_nof0_tiny.pth").facts.f0, Some(false));
    assert_eq!(open("rvc_v1_48k_tiny.pth").facts.version, Some(ModelVersion::V1));
    assert_eq!(open("rvc_v2_40k_tiny.pth").speakers(), 4);
}

#[test]
fn a_pth_loads_as_a_voice_like_an_onnx_export() {
    let mut synth = Synthesizer::load(&generated("rvc_v2_40k_tiny.pth"), 1, 80, 0).unwrap();
    assert_eq!((synth.sample_rate(), synth.hop()), (40_000, 400));
    let out = render(&mut synth, 50, DecodeRange { skip_head: 20, return_length: 30 });
    assert_eq!(out.len(), 30 * 400);
    assert!(out.iter().all(|x| x.is_finite()) && out.iter().any(|x| x.abs() > 0.01));
}

#[test]
fn the_built_model_is_cached_by_the_checkpoints_hash() {
    let cache = scratch("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let voice = generated("rvc_v2_40k_tiny_parametrizations.pth");
    let started = std::time::Instant::now();
    let first = built_model_cache::onnx_for_in(&voice, &cache).unwrap();
    let cold = started.elapsed();
    assert!(first.starts_with(&cache) && first.is_file(), "{}", first.display());
    let modified = std::fs::metadata(&first).unwrap().modified().unwrap();
    let started = std::time::Instant::now();
    let second = built_model_cache::onnx_for_in(&voice, &cache).unwrap();
    let warm = started.elapsed();
    assert_eq!(first, second);
    assert_eq!(std::fs::metadata(&second).unwrap().modified().unwrap(), modified, "the cached model was rebuilt");
    // The same bytes under another name share the cache entry's key, not its name.
    let copy = scratch("renamed voice.pth");
    std::fs::copy(&voice, &copy).unwrap();
    let renamed = built_model_cache::onnx_for_in(&copy, &cache).unwrap();
    assert_ne!(renamed, first);
    assert_eq!(std::fs::read(&renamed).unwrap(), std::fs::read(&first).unwrap());
    // ONNX voices are opened as they are.
    let onnx = generated("rvc_v2_40k_tiny_partial.onnx");
    assert_eq!(built_model_cache::onnx_for_in(&onnx, &cache).unwrap(), onnx);
    eprintln!("tiny .pth: built in {:.1} ms, from the cache in {:.1} ms", ms(cold), ms(warm));
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn build_error(path: &Path) -> VoiceBuildError {
    match VoiceCheckpoint::open(path) {
        Err(e) => VoiceBuildError::Checkpoint(e),
        Ok(checkpoint) => match voice_graph::build(&checkpoint, voice_graph::embedded_templates()) {
            Err(e) => e,
            Ok(built) => panic!("{} built as {}", path.display(), built.template),
        },
    }
}

#[test]
fn a_checkpoint_naming_a_command_is_refused_unrun() {
    let path = generated("rvc_v2_40k_tiny_hostile.pth");
    let error = build_error(&path);
    assert!(
        matches!(&error, VoiceBuildError::Checkpoint(CheckpointError::Foreign { callable, .. }) if callable.ends_with("system")),
        "{error:?}"
    );
    assert!(error.to_string().contains("nothing of it was run"), "{error}");
    // Through the loader a user's click reaches: an error, no model.
    let Err(e) = Synthesizer::load(&path, 1, 80, 0) else { panic!("the hostile checkpoint loaded") };
    assert!(e.to_string().contains("system"), "{e}");
}

#[test]
fn bad_checkpoints_are_refused_with_what_is_wrong() {
    let wrong = build_error(&generated("rvc_v2_40k_tiny_wrong_shapes.pth")).to_string();
    assert!(wrong.contains("enc_p.emb_phone.weight") && wrong.contains("[64, 256]"), "{wrong}");
    let refinegan = build_error(&generated("rvc_v2_40k_tiny_refinegan.pth")).to_string();
    assert!(refinegan.contains("RefineGAN"), "{refinegan}");
    let not_a_voice = build_error(&generated("rvc_v2_40k_tiny_not_a_voice.pth")).to_string();
    assert!(not_a_voice.contains("voice weights"), "{not_a_voice}");

    let bytes = std::fs::read(generated("rvc_v2_40k_tiny.pth")).unwrap();
    let truncated = scratch("truncated.pth");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(build_error(&truncated), VoiceBuildError::Checkpoint(CheckpointError::Unreadable { .. })));
    let onnx_renamed = scratch("an onnx model.pth");
    std::fs::copy(generated("rvc_v2_40k_tiny_partial.onnx"), &onnx_renamed).unwrap();
    let error = build_error(&onnx_renamed).to_string();
    assert!(error.contains("not a readable PyTorch checkpoint"), "{error}");
    let empty = scratch("empty.pth");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(build_error(&empty), VoiceBuildError::Checkpoint(CheckpointError::Unreadable { .. })));
    // The reader alone: the hostile file's pickle parses, and the callable is reported by name.
    let checkpoint = TorchCheckpoint::open(&generated("rvc_v2_40k_tiny_hostile.pth")).unwrap();
    assert!(checkpoint.refuse_foreign(&["info"]).is_ok(), "skipping the key that holds the call accepts the rest");
}
