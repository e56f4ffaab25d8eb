//! ONNX Runtime from the official PyPI wheel: `ort` loads it at run time (`load-dynamic`), so the
//! plugin needs the shared library beside it or in `.cache/onnxruntime/lib`.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use crate::command;
use crate::paths;

/// The pinned release. `ort` is built for API 22, so anything from 1.22 on loads.
pub const VERSION: &str = "1.31.1";

#[cfg(target_os = "linux")]
pub const LIBRARY_FILE: &str = "libonnxruntime.so";
#[cfg(target_os = "macos")]
pub const LIBRARY_FILE: &str = "libonnxruntime.dylib";
#[cfg(target_os = "windows")]
pub const LIBRARY_FILE: &str = "onnxruntime.dll";

/// The extracted library, fetched first if it is missing or another version.
pub fn provision() -> anyhow::Result<PathBuf> {
    let dir = paths::cache("onnxruntime");
    let library = dir.join("lib").join(LIBRARY_FILE);
    let version_file = dir.join("lib").join("VERSION");
    if library.is_file() && fs::read_to_string(&version_file).is_ok_and(|v| v.trim() == VERSION) {
        return Ok(library);
    }

    let wheels = dir.join("wheel");
    fs::create_dir_all(&wheels)?;
    command::run(
        Command::new(python())
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest"])
            .arg(&wheels)
            .arg(format!("onnxruntime=={VERSION}")),
    )?;
    let wheel = fs::read_dir(&wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("onnxruntime-{VERSION}-"))))
        .context("pip downloaded no onnxruntime wheel")?;

    let mut archive = zip::ZipArchive::new(fs::File::open(&wheel)?).with_context(|| format!("{}", wheel.display()))?;
    let entry_name = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i).map(str::to_owned))
        .find(|name| is_runtime_library(name))
        .with_context(|| format!("{} holds no ONNX Runtime shared library", wheel.display()))?;
    let mut bytes = Vec::new();
    archive.by_name(&entry_name)?.read_to_end(&mut bytes)?;

    fs::create_dir_all(library.parent().unwrap())?;
    fs::write(&library, bytes)?;
    fs::write(&version_file, VERSION)?;
    eprintln!("ONNX Runtime {VERSION} extracted to {}", library.display());
    Ok(library)
}

/// `onnxruntime/capi/libonnxruntime.so.1.31.1` and its macOS/Windows equivalents; not the Python
/// bindings or the provider plug-ins beside it.
fn is_runtime_library(name: &str) -> bool {
    let Some(file) = name.strip_prefix("onnxruntime/capi/") else { return false };
    if cfg!(target_os = "linux") {
        file.starts_with("libonnxruntime.so.")
    } else if cfg!(target_os = "macos") {
        file.starts_with("libonnxruntime.") && file.ends_with(".dylib")
    } else {
        file == "onnxruntime.dll"
    }
}

/// The Python that fetches wheels: the project's environment if it exists, else the system's.
fn python() -> PathBuf {
    let venv = crate::python_env::interpreter();
    if venv.is_file() { venv } else { PathBuf::from(system_python()) }
}

pub fn system_python() -> &'static str {
    if cfg!(windows) { "python" } else { "python3" }
}
