//! Finding ONNX Runtime and starting it once per process.
//!
//! `ort` is built with `load-dynamic`, so the plugin carries no copy of the runtime: it opens the
//! shared library at run time. A DAW loads every instance (CLAP and VST3 alike) into one process
//! and ONNX Runtime allows one environment per process, so all instances share it.

use std::path::{Path, PathBuf};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::SessionBuilder;
use parking_lot::Mutex;

use crate::execution_provider::{self, ProviderChoice};

/// Environment variable naming the ONNX Runtime library (a file, or a folder holding it).
pub const LIBRARY_ENV: &str = "RVC_LIVE_ONNXRUNTIME";
/// Where `cargo xtask onnxruntime` puts the library in a checkout of the project.
const PROJECT_LIBRARY_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/onnxruntime/lib");
/// Where `cargo xtask onnxruntime --gpu` puts the CUDA build; a `cuda` build tries it first.
#[cfg(feature = "cuda")]
const PROJECT_GPU_LIBRARY_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/onnxruntime-gpu/lib");

#[cfg(target_os = "linux")]
pub const LIBRARY_FILE: &str = "libonnxruntime.so";
#[cfg(target_os = "macos")]
pub const LIBRARY_FILE: &str = "libonnxruntime.dylib";
#[cfg(target_os = "windows")]
pub const LIBRARY_FILE: &str = "onnxruntime.dll";

/// Why ONNX Runtime could not be started: every place looked at, and what went wrong there.
#[derive(Debug, Clone)]
pub struct RuntimeError {
    pub attempts: Vec<(PathBuf, String)>,
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ONNX Runtime could not be loaded. Put {LIBRARY_FILE} beside the plugin, or set {LIBRARY_ENV} to its path \
             (in a checkout of RVC Live, `cargo xtask onnxruntime` fetches it)."
        )?;
        for (path, why) in &self.attempts {
            write!(f, "\n  {}: {why}", path.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for RuntimeError {}

/// Why a model could not be opened: ONNX Runtime is missing, or it refused the model.
#[derive(Debug, Clone)]
pub enum SessionError {
    /// ONNX Runtime itself could not be started, so no model opens; with the file that was to
    /// open.
    Runtime { model: Option<PathBuf>, why: RuntimeError },
    /// The model's file is not there.
    Missing(PathBuf),
    /// ONNX Runtime's reason, with the file when the model came from one.
    Refused { model: Option<PathBuf>, why: String },
}

impl SessionError {
    fn refused(model: Option<&Path>, why: impl std::fmt::Display) -> Self {
        Self::Refused { model: model.map(Path::to_path_buf), why: why.to_string() }
    }
}

impl PartialEq for SessionError {
    /// Errors compare by what they say: ONNX Runtime's own errors are not comparable.
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Runtime { model: Some(model), why } => write!(f, "{}: {why}", model.display()),
            Self::Runtime { model: None, why } => why.fmt(f),
            Self::Missing(path) => write!(f, "{} does not exist", path.display()),
            Self::Refused { model: Some(model), why } => write!(f, "{}: {why}", model.display()),
            Self::Refused { model: None, why } => f.write_str(why),
        }
    }
}

impl std::error::Error for SessionError {}

/// Written once by whichever thread first needs ONNX Runtime (a model loader, never the audio
/// thread), then only read. A failed start is not remembered, so a library installed later is
/// picked up by the next attempt.
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// The process's ONNX Runtime environment, started on first use from the first library that loads.
pub fn environment() -> Result<Environment, RuntimeError> {
    environment_from(library_candidates())
}

/// Like [`environment`], trying only `candidates`. Once a library has loaded, the process keeps it
/// and later calls return the same environment whatever they name.
pub fn environment_from(candidates: impl IntoIterator<Item = PathBuf>) -> Result<Environment, RuntimeError> {
    let mut slot = ENVIRONMENT.lock();
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    let mut attempts = Vec::new();
    for path in candidates {
        if !path.is_file() {
            attempts.push((path, "no such file".to_owned()));
            continue;
        }
        match ort::init_from(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| b.with_name("rvc-live").build().map_err(|e| e.to_string()))
        {
            Ok(env) => {
                tracing::info!("ONNX Runtime loaded from {}", path.display());
                *slot = Some(env.clone());
                return Ok(env);
            }
            Err(why) => attempts.push((path, why)),
        }
    }
    Err(RuntimeError { attempts })
}

/// Open a model with the settings every RVC Live session uses. The error says which file failed
/// and why, ready for the log and the editor.
pub fn open_session(model: &Path, threads: usize) -> Result<Session, SessionError> {
    open_session_on_provider(model, threads).map(|(session, _)| session)
}

/// [`open_session`], also saying which execution provider the session runs on: the first of the
/// compiled-in hardware providers that starts, else the CPU with the reasons the others did not
/// (see [`crate::execution_provider`]).
pub fn open_session_on_provider(model: &Path, threads: usize) -> Result<(Session, ProviderChoice), SessionError> {
    let mut builder = builder(threads, Some(model))?;
    execution_provider::commit(&mut builder, model).map_err(|e| SessionError::refused(Some(model), e))
}

/// A CPU session, with the usual settings, over a model made in memory (an int8 copy or its
/// calibration probe): these exist for the CPU alone.
pub fn open_cpu_session_from_memory(model: &[u8], threads: usize) -> Result<Session, SessionError> {
    builder(threads, None)?.commit_from_memory(model).map_err(|e| SessionError::refused(None, e))
}

fn builder(threads: usize, model: Option<&Path>) -> Result<SessionBuilder, SessionError> {
    let env = environment().map_err(|why| SessionError::Runtime { model: model.map(Path::to_path_buf), why })?;
    let configure = || -> ort::Result<SessionBuilder> {
        let builder = Session::builder(&env)?.with_intra_threads(threads.max(1))?;
        // Idle sessions spinning on a busy core steal time from the one running; on two cores
        // that costs more than the wake-up latency it saves.
        Ok(builder.with_config_entry("session.intra_op.allow_spinning", "0")?)
    };
    configure().map_err(|e| SessionError::refused(model, e))
}

/// Where to look for the library, in order: the environment variables, beside the plugin binary
/// (inside a `.vst3` bundle that is `Contents/<arch>/`), then the checkout the plugin was built in
/// (its CUDA build first when the `cuda` feature is on).
pub fn library_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    for var in [LIBRARY_ENV, "ORT_DYLIB_PATH"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(value);
            candidates.push(if path.is_dir() { path.join(LIBRARY_FILE) } else { path });
        }
    }
    if let Some(dir) = plugin_binary_path().as_deref().and_then(Path::parent) {
        candidates.push(dir.join(LIBRARY_FILE));
    }
    #[cfg(feature = "cuda")]
    candidates.push(Path::new(PROJECT_GPU_LIBRARY_DIR).join(LIBRARY_FILE));
    candidates.push(Path::new(PROJECT_LIBRARY_DIR).join(LIBRARY_FILE));
    candidates
}

/// The shared library (or executable) this code was loaded from. Relative paths would resolve
/// against the host's executable, which says nothing about where the plugin lives.
#[cfg(unix)]
fn plugin_binary_path() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;

    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the address to find the object containing it, and fills `info`.
    let found = unsafe { libc::dladdr(plugin_binary_path as *const libc::c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a NUL-terminated path owned by the dynamic loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    path.canonicalize().ok().or(Some(path))
}

#[cfg(not(unix))]
fn plugin_binary_path() -> Option<PathBuf> {
    None
}
