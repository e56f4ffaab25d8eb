//! Content-feature framing against RVC's own code: `models/reference/content_framing.py` runs
//! RVC's `Pipeline.vc` (from `inferrvc`, the published MIT copy of RVC's pipeline) with a stub
//! HuBERT that marks every frame with its index and a stub synthesizer that records what it is
//! given, over a sweep of window lengths. RVC Live's `content_frames` must give the synthesizer the
//! same number of frames, taken from the same encoder frames.
//!
//! RVC's offline `vc` doubles the encoder frames and cuts `p_len = N // 160` down to what that
//! gives; RVC's real-time engine (`rtrvc.py`), which RVC Live follows, first appends a copy of the
//! last encoder frame, so it always has `N // 160` frames: where the offline code comes up short
//! (by one or two frames), ours has exactly that many more, each the last encoder frame again.

use std::sync::OnceLock;

use rvc_live_engine::content_frames::{encoder_frames, synth_frames, upsample};
use rvc_live_test_support::rvc_reference;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    n: usize,
    version: String,
    encoder_frames: usize,
    p_len: usize,
    feats_frames: usize,
    /// For each of RVC's `p_len` synthesizer frames, the encoder frame it came from.
    source: Vec<usize>,
    /// The pitch frames RVC passed alongside.
    pitch: Vec<usize>,
}

#[derive(Deserialize)]
struct OnnxFrames {
    n: usize,
    frames: usize,
}

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
    onnx: Vec<OnnxFrames>,
}

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| rvc_reference::run("content_framing.py", &[]))
}

/// Our synthesizer frames for `samples`, as the encoder frame each one repeats.
fn our_sources(samples: usize) -> Vec<usize> {
    // Two channels per frame, both carrying the frame index, so a row mixed from two frames shows.
    let width = 2;
    let frames = encoder_frames(samples);
    let encoder: Vec<f32> = (0..frames).flat_map(|t| [t as f32, t as f32 + 0.5]).collect();
    let mut out = vec![f32::NAN; (synth_frames(samples) + 1) * width];
    let written = upsample(&encoder, width, samples, &mut out);
    assert!(out[written * width..].iter().all(|v| v.is_nan()), "{samples} samples: wrote past {written} frames");
    out[..written * width]
        .chunks_exact(width)
        .map(|row| {
            assert_eq!(row[1], row[0] + 0.5, "{samples} samples: a frame mixes encoder frames");
            row[0] as usize
        })
        .collect()
}

#[test]
fn synthesizer_frames_come_from_the_same_encoder_frames_as_in_rvc() {
    let reference = reference();
    assert!(reference.cases.len() >= 10_000, "{} cases", reference.cases.len());
    // How many lengths RVC's offline code leaves 0, 1 or 2 frames short of `N // 160`.
    let mut short_by = [0usize; 3];
    for case in &reference.cases {
        let (n, label) = (case.n, format!("{} samples ({})", case.n, case.version));
        assert_eq!(encoder_frames(n), case.encoder_frames, "{label}: encoder frames");
        assert_eq!(case.feats_frames, 2 * case.encoder_frames, "{label}: RVC doubles the encoder frames");
        assert_eq!(synth_frames(n), n / 160, "{label}");

        let ours = our_sources(n);
        assert_eq!(ours.len(), n / 160, "{label}: our frame count");
        assert!(case.p_len <= ours.len(), "{label}: RVC gives {} frames, we {}", case.p_len, ours.len());
        // Alignment: every frame RVC gives the synthesizer comes from the same encoder frame in ours,
        // and the pitch RVC passes with frame i is pitch frame i, as ours is.
        assert_eq!(case.source.len(), case.p_len, "{label}");
        assert_eq!(&ours[..case.p_len], &case.source[..], "{label}: frame alignment");
        assert!(case.pitch.iter().copied().eq(0..case.p_len), "{label}: pitch frames {:?}", case.pitch);

        // Where RVC's offline code is short, ours has the real-time engine's extra frames: the
        // appended copy of the last encoder frame, doubled.
        let extra = &ours[case.p_len..];
        assert!(extra.len() <= 2, "{label}: RVC gives {} frames, we {}", case.p_len, ours.len());
        assert_eq!(extra.is_empty(), case.p_len == n / 160, "{label}");
        if !extra.is_empty() {
            assert_eq!(case.p_len, 2 * case.encoder_frames, "{label}: RVC cut p_len to its features");
        }
        assert!(extra.iter().all(|&s| s == case.encoder_frames - 1), "{label}: extra frames {extra:?}");
        short_by[extra.len()] += 1;
    }
    eprintln!(
        "{} lengths: RVC's p_len equals N // 160 in {}, is one short in {}, two short in {}",
        reference.cases.len(),
        short_by[0],
        short_by[1],
        short_by[2]
    );
    // The sweep reaches every case: exact, one short and two short.
    assert!(short_by.iter().all(|&count| count > 100), "{short_by:?}");
}

#[test]
fn encoder_frame_count_matches_the_onnx_content_encoder() {
    let onnx = &reference().onnx;
    assert!(onnx.len() >= 20);
    assert!(onnx.iter().any(|row| row.frames == 0), "the sweep includes audio shorter than one field");
    for row in onnx {
        assert_eq!(encoder_frames(row.n), row.frames, "{} samples", row.n);
    }
}
