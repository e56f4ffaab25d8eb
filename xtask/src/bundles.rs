//! Bundling through nice-plug-xtask, with ONNX Runtime copied beside the plugin binaries: that is
//! the first place the plugin looks for it after the environment variables.

use std::fs;
use std::path::{Path, PathBuf};

use crate::onnxruntime;

pub const PACKAGE: &str = "rvc_live";
pub const BUNDLE_NAME: &str = "RVC Live";

/// `cargo xtask bundle …`: exactly nice-plug-xtask's command, then the runtime beside the bundles.
pub fn bundle_with_runtime(args: &[String]) -> anyhow::Result<()> {
    nice_plug_xtask::main_with_args("cargo xtask", std::iter::once("bundle".to_owned()).chain(args.iter().cloned()))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    place_runtime(&target.join("bundled"))
}

/// Build and bundle the plugin into `target_dir` with extra `cargo build` arguments, and return the
/// folder holding the bundles.
pub fn bundle_into(target_dir: &Path, args: &[&str]) -> anyhow::Result<PathBuf> {
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["--target-dir".to_owned(), target_dir.display().to_string()]);
    nice_plug_xtask::build(&[PACKAGE.to_owned()], &args)?;
    nice_plug_xtask::bundle(target_dir, PACKAGE, &args, false)?;
    let bundled = target_dir.join("bundled");
    place_runtime(&bundled)?;
    Ok(bundled)
}

/// Copy the ONNX Runtime library beside the `.clap` and into each `.vst3` bundle's binary folder.
fn place_runtime(bundled: &Path) -> anyhow::Result<()> {
    let library = onnxruntime::provision()?;
    let mut destinations = vec![bundled.to_path_buf()];
    for entry in fs::read_dir(bundled)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "vst3") {
            for arch in fs::read_dir(path.join("Contents"))? {
                let arch = arch?.path();
                if arch.is_dir() && arch.file_name().is_some_and(|n| n != "Resources") {
                    destinations.push(arch);
                }
            }
        }
    }
    for dir in destinations {
        fs::copy(&library, dir.join(onnxruntime::LIBRARY_FILE))?;
    }
    Ok(())
}
