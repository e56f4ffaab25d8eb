//! ONNX Runtime from the official PyPI wheel: `ort` loads it at run time (`load-dynamic`), so the
//! plugin needs the shared library beside it or in `.cache/onnxruntime/lib`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
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

    let wheel = download_wheel("onnxruntime", &dir.join("wheel"))?;

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

/// The pinned `package` wheel for this machine's Python, downloaded from PyPI into `wheels`.
fn download_wheel(package: &str, wheels: &Path) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(wheels)?;
    command::run(
        Command::new(crate::python_env::wheel_fetcher())
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest"])
            .arg(wheels)
            .arg(format!("{package}=={VERSION}")),
    )?;
    // Wheel file names spell `onnxruntime-gpu` as `onnxruntime_gpu`.
    let prefix = format!("{}-{VERSION}-", package.replace('-', "_"));
    fs::read_dir(wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
        .with_context(|| format!("pip downloaded no {package} {VERSION} wheel"))
}

/// The CUDA build of ONNX Runtime (the `onnxruntime-gpu` wheel, same version) in
/// `.cache/onnxruntime-gpu/lib`: the runtime and the provider libraries the CUDA execution
/// provider loads from beside it. For a plugin built with `--features cuda`; hundreds of MB, so
/// never part of the default flow.
pub fn provision_gpu() -> anyhow::Result<PathBuf> {
    let (shared, cuda) = if cfg!(target_os = "linux") {
        ("libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so")
    } else if cfg!(target_os = "windows") {
        ("onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll")
    } else {
        anyhow::bail!("onnxruntime-gpu is built for Linux and Windows only; on macOS use the `coreml` feature");
    };
    let dir = paths::cache("onnxruntime-gpu");
    let lib = dir.join("lib");
    let version_file = lib.join("VERSION");
    let library = lib.join(LIBRARY_FILE);
    let wanted = [LIBRARY_FILE, shared, cuda];
    if wanted.iter().all(|f| lib.join(f).is_file())
        && fs::read_to_string(&version_file).is_ok_and(|v| v.trim() == VERSION)
    {
        return Ok(library);
    }

    eprintln!("Downloading onnxruntime-gpu {VERSION} from PyPI (about 250 MB)");
    let wheels = dir.join("wheel");
    let wheel = download_wheel("onnxruntime-gpu", &wheels)?;
    let mut archive = zip::ZipArchive::new(fs::File::open(&wheel)?).with_context(|| format!("{}", wheel.display()))?;
    fs::create_dir_all(&lib)?;
    let _ = fs::remove_file(&version_file);
    for (target, is_wanted) in [
        (LIBRARY_FILE, &is_runtime_library as &dyn Fn(&str) -> bool),
        (shared, &|name: &str| name == format!("onnxruntime/capi/{shared}")),
        (cuda, &|name: &str| name == format!("onnxruntime/capi/{cuda}")),
    ] {
        let entry_name = (0..archive.len())
            .filter_map(|i| archive.name_for_index(i).map(str::to_owned))
            .find(|name| is_wanted(name))
            .with_context(|| format!("{} holds no {target}", wheel.display()))?;
        let mut out = fs::File::create(lib.join(target))?;
        std::io::copy(&mut archive.by_name(&entry_name)?, &mut out)?;
    }
    fs::write(&version_file, VERSION)?;
    // The extracted libraries are all that is used; the wheel would only double the disk space.
    fs::remove_dir_all(&wheels)?;
    eprintln!(
        "ONNX Runtime {VERSION} with CUDA extracted to {}.\n\
         Build with `--features cuda`; a plugin built in this checkout finds it there, elsewhere copy \
         {LIBRARY_FILE}, {shared} and {cuda} beside the plugin (or set RVC_LIVE_ONNXRUNTIME to the folder).\n\
         The CUDA provider also needs an NVIDIA driver, the CUDA 13 runtime (cudart, cuBLAS, cuRAND) \
         and cuDNN 9 on the library path; without them the plugin runs on the CPU and logs why.",
        lib.display()
    );
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
