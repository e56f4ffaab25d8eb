//! Retrieval against faiss and RVC's own code (`models/generate_indexes.py` writes what faiss's
//! `search` returns and what RVC's formulas give), and the voice's index in the block processor.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{ConversionControls, ConversionStats, IndexFileError, IvfFlatIndex, RvcProcessor};
use rvc_live_engine::{NEIGHBOURS, Neighbours, Retrieval, SearchScratch, VoiceSelection, protect_unvoiced};
use rvc_live_test_support::models::retrieval_index;

fn f32_file(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(retrieval_index(name)).unwrap();
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(retrieval_index(name)).unwrap()).unwrap()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    serde_json::from_value(value.clone()).unwrap()
}

fn index(name: &str) -> IvfFlatIndex {
    IvfFlatIndex::read(&retrieval_index(&format!("{name}.index"))).unwrap()
}

/// What faiss's search returned for one query: its ids and distances, without the −1 padding.
struct FaissResult {
    ids: Vec<u32>,
    distances: Vec<f32>,
}

fn faiss_results(name: &str, nprobe_kind: &str) -> (usize, Vec<FaissResult>) {
    let reference = &json(&format!("{name}.search.json"))[nprobe_kind];
    let ids: Vec<Vec<i64>> = serde_json::from_value(reference["ids"].clone()).unwrap();
    let distances: Vec<Vec<f32>> = serde_json::from_value(reference["distances"].clone()).unwrap();
    let results = ids
        .iter()
        .zip(&distances)
        .map(|(ids, distances)| {
            let found = ids.iter().take_while(|&&id| id >= 0).count();
            assert!(ids[found..].iter().all(|&id| id < 0), "faiss pads at the end only");
            FaissResult {
                ids: ids[..found].iter().map(|&id| id as u32).collect(),
                distances: distances[..found].to_vec(),
            }
        })
        .collect();
    (reference["nprobe"].as_u64().unwrap() as usize, results)
}

#[test]
fn the_neighbours_and_distances_are_faiss_own() {
    let mut padded_queries = 0;
    for name in ["ivf_flat_v1_full", "ivf_flat_v2_sparse"] {
        let index = index(name);
        let queries = f32_file(&format!("{name}.queries.f32"));
        let (mut scratch, mut found) = (SearchScratch::for_index(&index), Neighbours::default());
        for kind in ["stored", "exact"] {
            let (nprobe, expected) = faiss_results(name, kind);
            assert_eq!(kind == "stored", nprobe == index.nprobe(), "{name}: the file's nprobe is the stored one");
            for (q, (query, faiss)) in queries.chunks_exact(index.dim()).zip(&expected).enumerate() {
                index.search(query, nprobe, &mut scratch, &mut found);
                assert_eq!(found.ids(), faiss.ids.as_slice(), "{name}, nprobe {nprobe}, query {q}");
                for (ours, theirs) in found.distances().iter().zip(&faiss.distances) {
                    assert!((ours - theirs).abs() <= 1e-5 * theirs.max(1.0), "{name}, query {q}: {ours} vs {theirs}");
                }
                padded_queries += usize::from(faiss.ids.len() < NEIGHBOURS);
            }
        }
    }
    assert!(padded_queries > 0, "the sparse index has queries with fewer than {NEIGHBOURS} neighbours");
}

/// RVC's `npy · rate + (1 − rate) · feats` with `1/d²` weights, as `rtrvc.py` computes it in numpy.
#[test]
fn the_blend_is_rvc_formula() {
    let name = "ivf_flat_v1_full";
    let mut frames = f32_file(&format!("{name}.queries.f32"));
    let expected = f32_file(&format!("{name}.blended.f32"));
    let mut retrieval = Retrieval::new(index(name));
    retrieval.blend(&mut frames, 0.75);
    let worst = frames.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "max abs error {worst}");
}

/// A frame that is a training vector: RVC's `1/d²` is infinite there (numpy gives NaN); the limit
/// of the formula is the vector itself, which is what the frame retrieves.
#[test]
fn a_frame_at_distance_zero_retrieves_that_vector() {
    let name = "ivf_flat_v2_sparse";
    let index = index(name);
    let dim = index.dim();
    let queries = f32_file(&format!("{name}.queries.f32"));
    let (_, faiss) = faiss_results(name, "stored");
    let exact: Vec<usize> = (0..faiss.len()).filter(|&q| faiss[q].distances.first() == Some(&0.0)).collect();
    assert_eq!(exact.len(), 2, "the generator puts two stored vectors among the queries");
    let mut retrieval = Retrieval::new(index.clone());
    for q in exact {
        let mut frame = queries[q * dim..(q + 1) * dim].to_vec();
        retrieval.blend(&mut frame, 1.0);
        assert_eq!(frame, queries[q * dim..(q + 1) * dim], "query {q}");
        let id = faiss[q].ids[0] as usize;
        assert_eq!(frame, index.vectors()[id * dim..(id + 1) * dim]);
    }
}

/// Where the probed lists hold fewer than eight vectors (faiss pads with −1, and RVC's real-time
/// engine then skips the whole block's retrieval), the frame blends over the neighbours found.
#[test]
fn fewer_neighbours_blend_over_those_found() {
    let name = "ivf_flat_v2_sparse";
    let index = index(name);
    let dim = index.dim();
    let queries = f32_file(&format!("{name}.queries.f32"));
    let (_, faiss) = faiss_results(name, "stored");
    let mut retrieval = Retrieval::new(index.clone());
    let mut checked = 0;
    for (q, result) in faiss.iter().enumerate() {
        if result.ids.is_empty() || result.ids.len() == NEIGHBOURS || result.distances[0] == 0.0 {
            continue;
        }
        let query = &queries[q * dim..(q + 1) * dim];
        let weights: Vec<f64> = result.distances.iter().map(|&d| 1.0 / f64::from(d).powi(2)).collect();
        let total: f64 = weights.iter().sum();
        let rate = 0.6;
        let expected: Vec<f64> = (0..dim)
            .map(|c| {
                let retrieved: f64 = result
                    .ids
                    .iter()
                    .zip(&weights)
                    .map(|(&id, w)| w / total * f64::from(index.vectors()[id as usize * dim + c]))
                    .sum();
                rate * retrieved + (1.0 - rate) * f64::from(query[c])
            })
            .collect();
        let mut frame = query.to_vec();
        retrieval.blend(&mut frame, rate as f32);
        let worst = frame.iter().zip(&expected).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
        assert!(worst <= 1e-5, "query {q}: max abs error {worst}");
        checked += 1;
    }
    assert!(checked > 0, "no query had between one and seven neighbours");
}

#[test]
fn protect_is_rvc_formula() {
    let reference = json("protect.json");
    let protect = reference["protect"].as_f64().unwrap() as f32;
    let mut feats = floats(&reference["feats"]);
    let (feats0, pitchf, expected) =
        (floats(&reference["feats0"]), floats(&reference["pitchf"]), floats(&reference["protected"]));
    assert_eq!(protect, ConversionControls::DEFAULT_PROTECT, "the reference uses the default");
    protect_unvoiced(&mut feats, &feats0, &pitchf, protect);
    let worst = feats.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-6, "max abs error {worst}");
    // At 0.5 RVC skips Protect altogether.
    let mut untouched = floats(&reference["feats"]);
    protect_unvoiced(&mut untouched, &feats0, &pitchf, 0.5);
    assert_eq!(untouched, floats(&reference["feats"]));
}

/// A deterministic real-architecture v2 voice (RVC's synthesizer, random weights) over a tone, with
/// `index` and `controls`: the output, the index's problem if any, and the failed blocks.
fn convert_with_index(index: Option<PathBuf>, controls: ConversionControls) -> (Vec<f32>, Option<IndexFileError>, u64) {
    convert_signal_with_index(index, controls, |n| {
        0.3 * (2.0 * std::f32::consts::PI * 160.0 * n as f32 / 48_000.0).sin()
    })
}

fn convert_signal_with_index(
    index: Option<PathBuf>,
    controls: ConversionControls,
    signal: impl Fn(usize) -> f32,
) -> (Vec<f32>, Option<IndexFileError>, u64) {
    let settings = StreamSettings { int8: false, ..StreamSettings::default() };
    let geometry = RvcProcessor::stream_geometry(&settings, 48_000.0, 512);
    let voice = VoiceSelection {
        synthesizer: Some(common::generated("rvc_v2_40k_tiny_wokada_det.onnx")),
        content_encoder: Some(common::generated("contentvec_tiny_units.onnx")),
        index: index.clone(),
        ..Default::default()
    };
    let stats = Arc::new(ConversionStats::default());
    let mut processor = RvcProcessor::load(&voice, &geometry, &settings, Arc::new(move || controls), stats.clone(), 1)
        .expect("the voice loads whatever its index");
    let problem = processor.index_problem().cloned();
    assert_eq!(processor.retrieval().is_some(), index.is_some() && problem.is_none());
    let input: Vec<f32> = (0..geometry.block * 6).map(signal).collect();
    let output = common::convert_blocks(&mut processor, &geometry, &input);
    (output, problem, stats.failed.load(Ordering::Relaxed))
}

#[test]
fn the_voice_index_changes_the_voice_by_its_rate() {
    let off = ConversionControls { index_rate: 0.0, ..ConversionControls::default() };
    let (plain, _, failed) = convert_with_index(None, ConversionControls::default());
    assert_eq!(failed, 0);
    let (at_zero, problem, _) = convert_with_index(Some(retrieval_index("ivf_flat_v2_sparse.index")), off);
    assert_eq!(problem, None);
    assert_eq!(at_zero, plain, "an Index Rate of 0 is the voice without its index");
    let (retrieved, _, failed) =
        convert_with_index(Some(retrieval_index("ivf_flat_v2_sparse.index")), ConversionControls::default());
    assert_eq!(failed, 0);
    assert!(retrieved.iter().all(|v| v.is_finite()));
    let difference = retrieved.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(difference > 1e-3, "retrieval left the voice as it was (max difference {difference})");
}

/// An index the voice cannot use is named and left out; the voice converts as it would without.
#[test]
fn an_unusable_index_leaves_the_voice_converting_without_it() {
    let (plain, _, _) = convert_with_index(None, ConversionControls::default());
    for (file, expected) in [
        (
            retrieval_index("ivf_flat_v1_full.index"),
            "256-wide features (RVC v1) but the voice takes 768-wide ones (RVC v2)",
        ),
        (retrieval_index("trained_ivf_flat.index"), "use the `added_…` one"),
        (retrieval_index("ivf_pq.index"), "IVF-PQ"),
        (PathBuf::from("/nonexistent/voices/alto.index"), "cannot be read"),
    ] {
        let (output, problem, failed) = convert_with_index(Some(file.clone()), ConversionControls::default());
        let file = file.display();
        let problem = problem.unwrap_or_else(|| panic!("{file} was taken"));
        assert!(problem.to_string().contains(expected), "{file}: {problem}");
        assert_eq!(failed, 0, "{file}");
        assert_eq!(output, plain, "{file}: the voice converts as without an index");
    }
}

/// Protect in the processor: over noise the pitch tracker hears no voicing, so at Protect 0 every
/// rendered frame goes back to the features before retrieval (the voice sounds as without an
/// index), and at 0.5 (off) the retrieval stays.
#[test]
fn protect_zero_takes_the_index_out_of_unvoiced_frames() {
    let noise = |n: usize| {
        let x = (n as u32).wrapping_mul(2_654_435_761).rotate_left(13).wrapping_mul(2_246_822_519);
        0.2 * (x as f32 / u32::MAX as f32 - 0.5)
    };
    let index = Some(retrieval_index("ivf_flat_v2_sparse.index"));
    let full = ConversionControls { index_rate: 1.0, ..ConversionControls::default() };
    let (plain, _, _) = convert_signal_with_index(None, full, noise);
    let (protected, _, failed) =
        convert_signal_with_index(index.clone(), ConversionControls { protect: 0.0, ..full }, noise);
    assert_eq!(failed, 0);
    let moved = protected.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(moved == 0.0, "unvoiced frames at Protect 0 keep the features before retrieval (moved by {moved})");
    let (unprotected, _, _) = convert_signal_with_index(index, ConversionControls { protect: 0.5, ..full }, noise);
    let difference = unprotected.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(difference > 1e-3, "Protect 0.5 is off: the retrieval must be heard (max difference {difference})");
}
