//! Execution providers: with a hardware provider compiled in (`--features cuda`) and the CPU build
//! of ONNX Runtime loaded, a model still opens, on the CPU, the fallback is reported naming the
//! provider, and the output is exact. Without the features every session is a plain CPU session.

mod common;

use ort::value::Tensor;
use rvc_live_engine::execution_provider::{self, Provider, ProviderChoice};
use rvc_live_engine::onnx_runtime;

/// affine.onnx computes y = 0.5 x + 0.25.
fn assert_affine(session: &mut ort::session::Session) {
    let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
    let input = Tensor::from_array(([1usize, x.len()], x.clone())).unwrap();
    let outputs = session.run(ort::inputs!["x" => input]).expect("the model runs");
    let (shape, y) = outputs["y"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(shape.as_ref(), &[1, x.len() as i64]);
    for (a, b) in x.iter().zip(y) {
        assert_eq!(*b, 0.5 * a + 0.25);
    }
}

/// Where a machine with a working GPU provider expects its sessions: `RVC_LIVE_EXPECT_PROVIDER=CUDA`
/// there. Unset (CI, and any machine without a GPU) the CPU is expected.
fn expected_provider() -> Option<Provider> {
    let name = std::env::var("RVC_LIVE_EXPECT_PROVIDER").ok()?;
    let provider = [Provider::Cuda, Provider::DirectMl, Provider::CoreMl]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(&name))
        .unwrap_or_else(|| panic!("RVC_LIVE_EXPECT_PROVIDER={name} names no hardware provider"));
    assert!(execution_provider::COMPILED.contains(&provider), "{provider} is not compiled in: build with its feature");
    Some(provider)
}

/// On a machine that has one, the first compiled-in provider runs the model, exactly.
#[test]
fn the_expected_hardware_provider_runs_the_model() {
    let Some(expected) = expected_provider() else { return };
    let (mut session, choice) =
        onnx_runtime::open_session_on_provider(&common::analytic("affine.onnx"), 1).expect("the model opens");
    assert_eq!(choice.provider, expected, "{}", choice.summary());
    assert_eq!(choice.summary(), expected.name());
    assert_affine(&mut session);
}

/// Without a usable hardware provider (the CPU build of ONNX Runtime that `cargo xtask onnxruntime`
/// fetches has none; the CUDA build needs a GPU and the CUDA libraries), each compiled-in one must
/// fail and be reported, and the session must be the CPU's.
#[test]
fn a_model_opens_on_the_cpu_and_says_why() {
    if expected_provider().is_some() {
        return;
    }
    let (mut session, choice) =
        onnx_runtime::open_session_on_provider(&common::analytic("affine.onnx"), 1).expect("the model opens");
    assert_eq!(choice.provider, Provider::Cpu, "{choice:?}");
    let tried: Vec<Provider> = choice.fallbacks.iter().map(|(p, _)| *p).collect();
    assert_eq!(tried, execution_provider::COMPILED, "every compiled-in provider was tried and failed");
    for (provider, why) in &choice.fallbacks {
        assert!(!why.trim().is_empty(), "{provider} failed without a reason");
    }
    let summary = choice.summary();
    if execution_provider::COMPILED.is_empty() {
        assert_eq!(summary, "CPU");
    } else {
        assert!(summary.starts_with("CPU ("), "{summary}");
    }
    #[cfg(feature = "cuda")]
    {
        assert_eq!(execution_provider::COMPILED[0], Provider::Cuda, "CUDA is tried first");
        assert!(summary.contains("CUDA unavailable: "), "the fallback names CUDA: {summary}");
        eprintln!("reported: {summary}");
    }
    assert_affine(&mut session);
    assert_eq!(execution_provider::active_provider().map(|c| c.provider), Some(Provider::Cpu));
}

/// `open_session`, which the engine uses, goes through the same choice and still returns a session
/// computing the exact output.
#[test]
fn open_session_keeps_working() {
    let mut session = onnx_runtime::open_session(&common::analytic("affine.onnx"), 2).expect("the model opens");
    assert_affine(&mut session);
    let choice = execution_provider::active_provider().expect("the choice is recorded");
    assert_eq!(choice.provider, expected_provider().unwrap_or(Provider::Cpu));
    if choice.provider == Provider::Cpu {
        assert_eq!(choice.fallbacks.len(), execution_provider::COMPILED.len());
    }
}

/// A broken model is a model error, not a provider failure: the error names the file, whatever
/// providers are compiled in.
#[test]
fn a_broken_model_is_refused_not_blamed_on_the_provider() {
    let dir = std::env::temp_dir().join(format!("rvc-live-ep-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("truncated.onnx");
    let good = std::fs::read(common::analytic("affine.onnx")).unwrap();
    std::fs::write(&broken, &good[..good.len() / 2]).unwrap();
    let result = onnx_runtime::open_session_on_provider(&broken, 1);
    std::fs::remove_dir_all(&dir).unwrap();
    let Err(err) = result else { panic!("a truncated model must not load") };
    assert!(err.to_string().contains("truncated.onnx"), "the error names the file: {err}");
}

#[test]
fn summaries_read_as_the_editor_shows_them() {
    let cpu = ProviderChoice { provider: Provider::Cpu, fallbacks: Vec::new() };
    assert_eq!(cpu.summary(), "CPU");
    let fell_back =
        ProviderChoice { provider: Provider::Cpu, fallbacks: vec![(Provider::Cuda, "no CUDA device".to_owned())] };
    assert_eq!(fell_back.summary(), "CPU (CUDA unavailable: no CUDA device)");
    let cuda = ProviderChoice { provider: Provider::Cuda, fallbacks: Vec::new() };
    assert_eq!(cuda.summary(), "CUDA");
}
