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

/// The target folder every build shares, so that a test variant compiles only the crates its
/// features change.
const TARGET: &str = "target";

/// Build the plugin with extra `cargo build` arguments and bundle it into `target/bundled`; returns
/// that folder.
pub fn bundle(args: &[&str]) -> anyhow::Result<PathBuf> {
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["--target-dir".to_owned(), TARGET.to_owned()]);
    nice_plug_xtask::build(&[PACKAGE.to_owned()], &args)?;
    nice_plug_xtask::bundle(Path::new(TARGET), PACKAGE, &args, false)?;
    let bundled = Path::new(TARGET).join("bundled");
    place_runtime(&bundled)?;
    Ok(bundled)
}

/// A test variant of the plugin (a debug build with extra features), bundled like the others and
/// then moved to `target/VARIANT/bundled`, where it cannot be taken for what users install.
/// It passes through `target/bundled`, so build the release bundles after the variants.
pub fn bundle_variant(variant: &str, args: &[&str]) -> anyhow::Result<PathBuf> {
    let staged = bundle(args)?;
    let destination = Path::new(TARGET).join(variant).join("bundled");
    if destination.exists() {
        fs::remove_dir_all(&destination)?;
    }
    fs::create_dir_all(&destination)?;
    // The CLAP and VST3 bundles, and the standalone app where the features build one.
    for name in [format!("{BUNDLE_NAME}.clap"), format!("{BUNDLE_NAME}.vst3"), BUNDLE_NAME.to_owned()] {
        let from = staged.join(&name);
        if from.exists() {
            fs::rename(&from, destination.join(&name))?;
        }
    }
    place_runtime(&destination)?;
    Ok(destination)
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
