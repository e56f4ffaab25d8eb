//! Hardware execution providers, chosen when a model loads.
//!
//! Each provider is a cargo feature (`cuda`, `directml`, `coreml`). Every session tries the
//! compiled-in ones in that order and runs on the first that starts; when none does (the loaded
//! ONNX Runtime was built without it, there is no device, the CUDA libraries are missing) it runs
//! on the CPU, and the log says once per process which provider failed and ONNX Runtime's reason.
//! Without any of the features every session is a plain CPU session, as before.

use std::path::Path;

use ort::session::Session;
use ort::session::builder::SessionBuilder;
use parking_lot::Mutex;

/// Where a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Cpu,
    Cuda,
    DirectMl,
    CoreMl,
}

impl Provider {
    /// The name the log and the editor show.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Cpu => "CPU",
            Provider::Cuda => "CUDA",
            Provider::DirectMl => "DirectML",
            Provider::CoreMl => "CoreML",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The hardware providers this build tries, in order of preference. Empty without the features.
pub const COMPILED: &[Provider] = &[
    #[cfg(feature = "cuda")]
    Provider::Cuda,
    #[cfg(feature = "directml")]
    Provider::DirectMl,
    #[cfg(feature = "coreml")]
    Provider::CoreMl,
];

/// The provider a session runs on, and why each one preferred to it did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub provider: Provider,
    /// The providers that were tried first and failed, each with ONNX Runtime's error.
    pub fallbacks: Vec<(Provider, String)>,
}

impl ProviderChoice {
    /// For the editor: `CUDA`, `CPU`, or `CPU (CUDA unavailable: …)`.
    pub fn summary(&self) -> String {
        let mut text = self.provider.name().to_owned();
        if !self.fallbacks.is_empty() {
            let reasons: Vec<String> =
                self.fallbacks.iter().map(|(provider, why)| format!("{provider} unavailable: {why}")).collect();
            text.push_str(&format!(" ({})", reasons.join("; ")));
        }
        text
    }
}

/// The choice of the session opened last, for the editor's status line.
static LAST_CHOICE: Mutex<Option<ProviderChoice>> = Mutex::new(None);
/// Providers whose failure (or start) the log has already told, so it says so once per process.
static REPORTED: Mutex<Vec<(Provider, bool)>> = Mutex::new(Vec::new());

/// The provider the most recently opened session runs on; `None` before any session opened.
pub fn active_provider() -> Option<ProviderChoice> {
    LAST_CHOICE.lock().clone()
}

/// Commit `builder` (threads and options already set) with the first compiled-in provider that
/// both registers and opens the model, else on the CPU. A model the CPU cannot open either is a
/// model error: that error is returned, and no provider fallback is reported.
pub(crate) fn commit(builder: &mut SessionBuilder, model: &Path) -> ort::Result<(Session, ProviderChoice)> {
    let mut fallbacks = Vec::new();
    for &provider in COMPILED {
        // A fresh copy of the options each time, so a half-registered provider leaves no trace.
        let mut candidate = builder.clone();
        match register(provider, &mut candidate).and_then(|()| candidate.commit_from_file(model)) {
            Ok(session) => return Ok((session, record(ProviderChoice { provider, fallbacks }))),
            Err(e) => fallbacks.push((provider, tidy(&e.to_string()))),
        }
    }
    let session = builder.commit_from_file(model)?;
    Ok((session, record(ProviderChoice { provider: Provider::Cpu, fallbacks })))
}

/// Register one provider on the session options, failing (rather than ORT's silent fallback) when
/// the loaded library or the machine cannot run it.
#[cfg_attr(not(any(feature = "cuda", feature = "directml", feature = "coreml")), allow(unused_variables))]
fn register(provider: Provider, builder: &mut SessionBuilder) -> ort::Result<()> {
    #[allow(unused_imports)]
    use ort::ep::ExecutionProvider;
    match provider {
        Provider::Cpu => Ok(()),
        #[cfg(feature = "cuda")]
        Provider::Cuda => ort::ep::CUDA::default().register(builder),
        #[cfg(feature = "directml")]
        Provider::DirectMl => ort::ep::DirectML::default().register(builder),
        #[cfg(feature = "coreml")]
        Provider::CoreMl => ort::ep::CoreML::default().register(builder),
        #[allow(unreachable_patterns)]
        other => Err(ort::Error::new(format!("{other} support is not compiled into this build of RVC Live"))),
    }
}

/// Remember the choice for [`active_provider`] and log each provider's failure, or the hardware
/// provider in use, the first time it happens in this process.
fn record(choice: ProviderChoice) -> ProviderChoice {
    let mut reported = REPORTED.lock();
    for (provider, why) in &choice.fallbacks {
        if !reported.contains(&(*provider, false)) {
            reported.push((*provider, false));
            tracing::warn!(
                "{provider} execution provider unavailable, running on the {} instead: {why}{}",
                choice.provider,
                hint(*provider)
            );
        }
    }
    if choice.provider != Provider::Cpu && !reported.contains(&(choice.provider, true)) {
        reported.push((choice.provider, true));
        tracing::info!("Running models on the {} execution provider", choice.provider);
    }
    drop(reported);
    *LAST_CHOICE.lock() = Some(choice.clone());
    choice
}

/// What a user can do about a provider that did not start, for the log.
fn hint(provider: Provider) -> &'static str {
    match provider {
        Provider::Cuda => {
            " (CUDA needs ONNX Runtime's CUDA build, which `cargo xtask onnxruntime --gpu` fetches, an NVIDIA driver, \
             and the CUDA 13 runtime and cuDNN 9 libraries on the library path)"
        }
        Provider::DirectMl => " (DirectML needs ONNX Runtime's DirectML build, `onnxruntime-directml`, on Windows)",
        Provider::CoreMl => " (CoreML needs ONNX Runtime's macOS build on a Mac)",
        Provider::Cpu => "",
    }
}

/// ONNX Runtime's error without the source location and status code it starts with:
/// `/onnxruntime_src/….cc:2043 … [ONNXRuntimeError] : 1 : FAIL : Failed to load library …` becomes
/// `Failed to load library …`.
fn tidy(why: &str) -> String {
    const MARK: &str = "[ONNXRuntimeError] : ";
    let message = match why.find(MARK) {
        Some(at) => why[at + MARK.len()..].splitn(3, " : ").nth(2).unwrap_or(why),
        None => why,
    };
    message.trim().trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_the_source_location_and_status() {
        let raw = "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& \
                   onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library \
                   /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file\n";
        assert_eq!(
            tidy(raw),
            "Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open \
             shared object file"
        );
        assert_eq!(
            tidy("CUDA execution provider is not enabled in this build.\n"),
            "CUDA execution provider is not enabled in this build"
        );
    }
}
