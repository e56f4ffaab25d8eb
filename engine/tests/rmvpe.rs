//! RMVPE in both ONNX forms (`cargo xtask models`: RVC's own network with seeded random weights, so
//! the salience means nothing, but the interfaces, front end and decoding are RVC's):
//!
//! * both forms are recognised from the file alone and track;
//! * the mel front end and the salience decoding match RVC's own code (`inferrvc/rmvpe.py`, run by
//!   `models/reference/rmvpe_reference.py`);
//! * the mel form (front end and decoding here) and the wave form (everything in the graph) give the
//!   same f0 on the same audio, at many window lengths;
//! * broken files are refused with a reason.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

use rvc_live_engine::ModelError;
use rvc_live_engine::PitchTracker;
use rvc_live_engine::mel::{self, MelSpectrogram};
use rvc_live_engine::rmvpe::{self, Rmvpe, RmvpeForm};
use rvc_live_engine::rmvpe_checkpoint;
use rvc_live_engine::{PitchDecoding, PitchModel};
use rvc_live_test_support::{rvc_reference, signals};
use serde::Deserialize;

const MEL_MODEL: &str = "rmvpe_tiny_mel.onnx";
const WAVE_MODEL: &str = "rmvpe_tiny_wave.onnx";
/// The lowest and highest f0 RMVPE's 360 bins can give: bins 0 and 359.
const F0_RANGE: (f32, f32) = (31.7, 2006.0);

// --- allocation counting (this thread only, so parallel tests do not interfere) ---------------------

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

// --- signals ---------------------------------------------------------------------------------------

/// A voice-like tone at 16 kHz; `frequency` may glide (Hz at each sample).
fn tone(frequency: impl Fn(usize) -> f32, samples: usize) -> Vec<f32> {
    signals::harmonic_tone(|n| f64::from(frequency(n)), samples, 16_000.0, 0.3)
}

fn noise(samples: usize, seed: u64) -> Vec<f32> {
    signals::noise(samples, seed, 0.1)
}

fn track(model: &mut PitchModel, audio: &[f32]) -> Vec<f32> {
    let mut f0 = vec![f32::NAN; audio.len() / 160];
    model.track(audio, &mut f0).unwrap();
    f0
}

fn load(name: &str) -> PitchModel {
    PitchModel::load(&common::generated(name), 1, 16_000).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// --- the Python reference --------------------------------------------------------------------------

#[derive(Deserialize)]
struct Reference {
    threshold: f32,
    signals: std::collections::BTreeMap<String, Signal>,
    salience_cases: Cases,
}

#[derive(Deserialize)]
struct Signal {
    audio: Vec<f32>,
    log_mel: Vec<Vec<f32>>,
    salience: Vec<Vec<f32>>,
    f0: Vec<f64>,
}

#[derive(Deserialize)]
struct Cases {
    salience: Vec<Vec<f32>>,
    f0: Vec<f64>,
}

fn reference() -> Reference {
    rvc_reference::run("rmvpe_reference.py", &[common::generated(MEL_MODEL).as_os_str()])
}

// --- tests -----------------------------------------------------------------------------------------

#[test]
fn both_forms_are_recognised_and_track() {
    for (name, decoding, form) in
        [(MEL_MODEL, PitchDecoding::RmvpeMel, RmvpeForm::Mel), (WAVE_MODEL, PitchDecoding::RmvpeWave, RmvpeForm::Wave)]
    {
        let mut model = load(name);
        assert_eq!(model.decoding(), decoding, "{name}");
        assert_eq!(Rmvpe::load(&common::generated(name), 1, 16_000).unwrap().form(), form, "{name}");
        let f0 = track(&mut model, &tone(|_| 220.0, 16_000));
        assert_eq!(f0.len(), 100);
        // Random weights: which frames are voiced, and at what pitch, means nothing; the decoding must
        // still give f0 inside RMVPE's bins for some frames and leave others unvoiced.
        let voiced: Vec<f32> = f0.iter().copied().filter(|&v| v != 0.0).collect();
        assert!((10..=90).contains(&voiced.len()), "{name}: {} of 100 frames voiced", voiced.len());
        assert!(voiced.iter().all(|&v| (F0_RANGE.0..=F0_RANGE.1).contains(&v)), "{name}: {voiced:?}");
    }
}

#[test]
fn mel_form_and_wave_form_agree_at_every_length() {
    let (mut mel_form, mut wave_form) = (load(MEL_MODEL), load(WAVE_MODEL));
    let glide = tone(|n| 150.0 * (400.0f32 / 150.0).powf(n as f32 / 16_000.0), 16_000);
    let signals = [("tone", tone(|_| 220.0, 16_000)), ("glide", glide), ("noise", noise(16_000, 3))];
    let (mut frames, mut voiced, mut worst) = (0, 0, 0.0f32);
    for (name, audio) in &signals {
        // 1 frame (padded to the minimum), non-multiples of 160 and of 32 frames, 32 frames exactly.
        for n in [200, 513, 1000, 4959, 5120, 8000, 12_345, 16_000] {
            let (a, b) = (track(&mut mel_form, &audio[..n]), track(&mut wave_form, &audio[..n]));
            for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(x == 0.0, y == 0.0, "{name}, {n} samples, frame {i}: {x} vs {y}");
                if x != 0.0 {
                    worst = worst.max((x / y - 1.0).abs());
                    voiced += 1;
                }
            }
            frames += a.len();
        }
    }
    println!("{voiced} of {frames} frames voiced; worst relative difference {worst:e}");
    assert!(voiced > frames / 5 && voiced < frames * 4 / 5, "{voiced} of {frames} frames voiced");
    assert!(worst < 1e-5, "mel form and wave form differ by {worst:e} (relative)");
}

#[test]
fn log_mel_and_decoding_match_rvc() {
    let reference = reference();
    assert_eq!(reference.threshold, rmvpe::THRESHOLD);
    let mut front = MelSpectrogram::new(16_000);
    let mut model = Rmvpe::load(&common::generated(MEL_MODEL), 1, 16_000).unwrap();
    let (mut mel_error, mut loud_error, mut floor_error) = (0.0f32, 0.0f32, 0.0f32);
    let (mut decode_error, mut track_error, mut flips) = (0.0f64, 0.0f64, 0);
    for (name, signal) in &reference.signals {
        let frames = MelSpectrogram::frames(signal.audio.len());
        assert_eq!(signal.log_mel.len(), mel::N_MELS);
        assert_eq!(signal.log_mel[0].len(), frames, "{name}");
        let mut ours = vec![0.0; mel::N_MELS * frames];
        front.compute(&signal.audio, &mut ours, frames);
        // Ours is exact (f64); torch's f32 STFT is not: against an f64 numpy STFT it is off by up to
        // 2.4e-5 in the log of bands within 60 dB of a frame's loudest, by up to 4.7e-7 of the
        // loudest band's energy anywhere, and so by up to 2.7e-3 in the log of bands ~110 dB down,
        // just above the 1e-5 clamp. The bounds are those, with a margin.
        for t in 0..frames {
            let loudest = signal.log_mel.iter().map(|row| row[t]).fold(f32::MIN, f32::max);
            for (m, theirs) in signal.log_mel.iter().enumerate() {
                let (a, b) = (ours[m * frames + t], theirs[t]);
                mel_error = mel_error.max((a - b).abs());
                floor_error = floor_error.max((a.exp() - b.exp()).abs() / loudest.exp());
                if b > loudest - 3.0 * std::f32::consts::LN_10 {
                    loud_error = loud_error.max((a - b).abs());
                }
            }
        }
        // The decoder alone, on the very salience RVC decoded.
        for (salience, &theirs) in signal.salience.iter().zip(&signal.f0) {
            let ours = f64::from(rmvpe::decode_frame(salience, reference.threshold));
            decode_error = decode_error.max((ours - theirs).abs() / theirs.max(1.0));
        }
        // The whole tracker, on our own mel: the network sees mels differing by float rounding only.
        let mut f0 = vec![0.0; signal.audio.len() / 160];
        model.track(&signal.audio, &mut f0).unwrap();
        for (&ours, &theirs) in f0.iter().zip(&signal.f0) {
            if (ours == 0.0) != (theirs == 0.0) {
                flips += 1;
            } else {
                track_error = track_error.max((f64::from(ours) - theirs).abs() / theirs.max(1.0));
            }
        }
    }
    println!(
        "log-mel max abs {mel_error:e} ({loud_error:e} within 60 dB of the loudest band; energy error \
         {floor_error:e} of the loudest), decoding rel {decode_error:e}, tracker rel {track_error:e}"
    );
    assert!(loud_error < 5e-5, "log-mel within 60 dB differs from RVC's by {loud_error:e}");
    assert!(floor_error < 2e-6, "mel energy differs from RVC's by {floor_error:e} of the loudest band");
    assert!(mel_error < 5e-3, "log-mel differs from RVC's by {mel_error:e}");
    assert!(decode_error < 1e-6, "decoded f0 differs from RVC's by {decode_error:e} (relative)");
    assert!(track_error < 1e-5 && flips == 0, "tracker vs RVC: {track_error:e} relative, {flips} voicing flips");

    let cases = &reference.salience_cases;
    assert!(cases.f0.contains(&0.0) && cases.f0.iter().filter(|&&f| f > 0.0).count() >= 8);
    for (salience, &theirs) in cases.salience.iter().zip(&cases.f0) {
        let ours = f64::from(rmvpe::decode_frame(salience, reference.threshold));
        assert!((ours - theirs).abs() <= 1e-6 * theirs.max(1.0), "decoded {ours} vs RVC's {theirs}");
    }
}

#[test]
fn the_mel_front_end_does_not_allocate() {
    let audio = tone(|_| 300.0, 16_000);
    let frames = MelSpectrogram::frames(audio.len());
    let mut front = MelSpectrogram::new(audio.len());
    let mut out = vec![0.0; mel::N_MELS * frames];
    let salience = vec![0.5; rmvpe::BINS];
    let count = allocations_in(|| {
        front.compute(&audio, &mut out, frames);
        std::hint::black_box(rmvpe::decode_frame(&salience, rmvpe::THRESHOLD));
    });
    assert_eq!(count, 0);
}

#[test]
fn broken_or_foreign_files_are_refused_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("rvc-live-rmvpe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(common::generated(MEL_MODEL)).unwrap();
    let truncated = dir.join("rmvpe_truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let garbage = dir.join("rmvpe_garbage.onnx");
    std::fs::write(&garbage, noise(4096, 9).iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    for path in [&truncated, &garbage] {
        let Err(err) = PitchModel::load(path, 1, 16_000) else { panic!("{} must not load", path.display()) };
        assert!(matches!(err, ModelError::Unreadable(_)), "{err}");
        assert!(err.to_string().contains(path.file_name().unwrap().to_str().unwrap()), "{err}");
        assert!(Rmvpe::load(path, 1, 16_000).is_err());
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // A readable model with another interface: not RMVPE, and the message says what would be.
    let Err(err) = Rmvpe::load(&common::generated("fcpe.onnx"), 1, 16_000) else { panic!("FCPE is not RMVPE") };
    assert!(matches!(err, ModelError::UnknownInterface { .. }) && err.to_string().contains("RMVPE"), "{err}");
    let Err(err) = PitchModel::load(&common::analytic("affine.onnx"), 1, 16_000) else { panic!("no pitch model") };
    assert!(err.to_string().contains("not a pitch model") && err.to_string().contains("RMVPE"), "{err}");
}

/// RVC's `rmvpe.pt` (a state dict of E2E) is built into the mel-input model from the committed
/// template and tracks exactly as the generator's own export of the same weights; the cached
/// model is the one a second load opens. A `.pt` that is not RMVPE is refused with why.
#[test]
fn rmvpe_pt_builds_the_model_rvcs_export_is() {
    let (built, template) = rmvpe_checkpoint::build(&common::generated("rmvpe_tiny.pt")).unwrap();
    assert_eq!(template, "rmvpe_tiny");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rmvpe-pt");
    std::fs::create_dir_all(&dir).unwrap();
    let built_path = dir.join("rmvpe_tiny_built.onnx");
    std::fs::write(&built_path, built).unwrap();
    let mut ours = PitchModel::load(&built_path, 1, 16_000).unwrap();
    let mut exported = load(MEL_MODEL);
    assert_eq!(ours.decoding(), exported.decoding());
    let audio = tone(|n| 150.0 + 100.0 * (n as f32 / 16_000.0), 16_000);
    let (a, b) = (track(&mut ours, &audio), track(&mut exported, &audio));
    assert!(b.iter().filter(|f| **f > 0.0).count() > b.len() / 4, "the export tracks too little to compare");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= 1e-3 * y.abs().max(1.0), "frame {i}: {x} Hz from the .pt, {y} Hz exported");
    }
    // Through the loader a user's file reaches (and its cache).
    let mut via_cache = PitchModel::load(&common::generated("rmvpe_tiny.pt"), 1, 16_000).unwrap();
    assert_eq!(track(&mut via_cache, &audio), a);

    let Err(e) = rmvpe_checkpoint::build(&common::generated("rvc_v2_40k_tiny_not_a_voice.pth")) else {
        panic!("a checkpoint of something else built as RMVPE")
    };
    assert!(e.contains("is not RVC's RMVPE") && e.contains("is missing"), "{e}");
    let Err(e) = rmvpe_checkpoint::build(&common::generated("rvc_v2_40k_tiny_hostile.pth")) else {
        panic!("the hostile checkpoint built")
    };
    assert!(e.contains("posix.system"), "{e}");
}
