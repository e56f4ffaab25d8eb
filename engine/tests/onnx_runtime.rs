//! The ONNX Runtime path end to end: find the library the xtask provisioned, start the shared
//! environment, open a generated model and run it.

mod common;

use ort::value::Tensor;
use rvc_live_engine::onnx_runtime;

#[test]
fn generated_model_runs_with_exact_output() {
    let mut session = onnx_runtime::open_session(&common::analytic("affine.onnx"), 1).expect("the model opens");
    // Several lengths: the model's input axis is dynamic, as the content encoder's will be.
    for len in [1usize, 7, 16_000] {
        let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
        let input = Tensor::from_array(([1usize, len], x.clone())).unwrap();
        let outputs = session.run(ort::inputs!["x" => input]).expect("the model runs");
        let (shape, y) = outputs["y"].try_extract_tensor::<f32>().unwrap();
        assert_eq!(shape.as_ref(), &[1, len as i64]);
        for (a, b) in x.iter().zip(y) {
            assert_eq!(*b, 0.5 * a + 0.25);
        }
    }
}

#[test]
fn every_instance_shares_one_environment() {
    let a = onnx_runtime::environment().expect("ONNX Runtime loads");
    let b = onnx_runtime::environment().expect("ONNX Runtime loads again");
    assert_eq!(ort::AsPointer::ptr(&a), ort::AsPointer::ptr(&b));
}

#[test]
fn a_broken_model_file_is_refused_with_its_path() {
    let dir = std::env::temp_dir().join(format!("rvc-live-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("truncated.onnx");
    let good = std::fs::read(common::analytic("affine.onnx")).unwrap();
    std::fs::write(&broken, &good[..good.len() / 2]).unwrap();
    let Err(err) = onnx_runtime::open_session(&broken, 1) else { panic!("a truncated model must not load") };
    assert!(err.to_string().contains("truncated.onnx"), "the error names the file: {err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The analytic synthesizer has the RVC WebUI export's interface (float features and noise, int64
/// lengths, coarse pitch and speaker) and sings a sine at `pitchf`: the tensor types and shapes a
/// real synthesizer takes, with an output known exactly.
#[test]
fn analytic_synthesizer_sings_at_the_given_pitch() {
    let mut session =
        onnx_runtime::open_session(&common::analytic("analytic_synth_v2_40k.onnx"), 1).expect("the model opens");
    let (frames, hop, rate) = (50usize, 400usize, 40_000.0f64);
    let mut pitchf = vec![220.0f32; frames];
    pitchf[10..15].fill(0.0);
    let outputs = session
        .run(ort::inputs![
            "phone" => Tensor::from_array(([1usize, frames, 768], vec![0.0f32; frames * 768])).unwrap(),
            "phone_lengths" => Tensor::from_array(([1usize], vec![frames as i64])).unwrap(),
            "pitch" => Tensor::from_array(([1usize, frames], vec![1i64; frames])).unwrap(),
            "pitchf" => Tensor::from_array(([1usize, frames], pitchf)).unwrap(),
            "ds" => Tensor::from_array(([1usize], vec![0i64])).unwrap(),
            "rnd" => Tensor::from_array(([1usize, 192, frames], vec![0.0f32; 192 * frames])).unwrap(),
        ])
        .expect("the model runs");
    let (shape, audio) = outputs["audio"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(shape.as_ref(), &[1, 1, (frames * hop) as i64]);
    for (n, &y) in audio[..10 * hop].iter().enumerate() {
        let expected = 0.5 * (2.0 * std::f64::consts::PI * 220.0 * (n + 1) as f64 / rate).sin();
        assert!((f64::from(y) - expected).abs() < 1e-6, "sample {n}: {y} vs {expected}");
    }
    assert!(audio[10 * hop..15 * hop].iter().all(|&y| y == 0.0), "unvoiced frames are silent");
}
