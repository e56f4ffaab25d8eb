//! `cargo xtask test`: provision, build every artefact the tests load, run every suite.

use std::process::Command;

use crate::bundles::{self, BUNDLE_NAME};
use crate::models::ModelSet;
use crate::{command, models, onnxruntime, python_env, system_packages};

pub fn run() -> anyhow::Result<()> {
    system_packages::ensure()?;
    onnxruntime::provision()?;
    let python = python_env::provision()?;
    models::generate_set(ModelSet::Ci)?;
    // Stage parity with RVC's reference code: the exports against the PyTorch modules.
    models::check(ModelSet::Ci)?;

    // A debug build that aborts on any allocation in `process`, the standalone app (it links ALSA
    // and JACK, which the plugin must not), and what users install. All three share one target
    // folder: a variant recompiles only the crates its features change.
    // One debug build for both test variants: the allocation-checking plugins and the standalone
    // app (also checked: its audio callback runs the plugin's `process` under the same assertion).
    // Each variant's features would otherwise rebuild nice-plug and what depends on it.
    let alloc_check = bundles::bundle_variant("alloc-check", &["--features", "assert_process_allocs,standalone"])?;
    let standalone = alloc_check.clone();
    let release = bundles::bundle(&["--release"])?;
    // Test binaries run from their own package's folder, so they get absolute paths.
    let (release, alloc_check, standalone) =
        (std::path::absolute(release)?, std::path::absolute(alloc_check)?, std::path::absolute(standalone)?);

    let clap = release.join(format!("{BUNDLE_NAME}.clap"));
    let vst3 = release.join(format!("{BUNDLE_NAME}.vst3"));
    command::run(
        command::cargo()
            .args(["test", "--workspace", "--no-fail-fast"])
            .env("RVC_LIVE_CLAP", &clap)
            .env("RVC_LIVE_CLAP_ALLOC_CHECK", alloc_check.join(format!("{BUNDLE_NAME}.clap")))
            // The VST3 bundle is also tested from cargo test, in Ardour (tests/tests/ardour_session.rs).
            .env("RVC_LIVE_VST3", &vst3)
            .env("RVC_LIVE_STANDALONE", standalone.join(BUNDLE_NAME)),
    )?;
    // The plugin's log goes to a file here: pedalboard unloads the plugin after pytest's summary,
    // and its closing log lines would otherwise follow the summary.
    let plugin_log = std::path::absolute("target/vst3-plugin.log")?;
    eprintln!("VST3 plugin log: {}", plugin_log.display());
    command::run(
        Command::new(python)
            .args(["-m", "pytest", "tests/vst3", "-q", "-p", "no:cacheprovider"])
            .env("NICE_LOG", &plugin_log)
            .env("RVC_LIVE_VST3", &vst3)
            .env("RVC_LIVE_VST3_ALLOC_CHECK", alloc_check.join(format!("{BUNDLE_NAME}.vst3"))),
    )
}
