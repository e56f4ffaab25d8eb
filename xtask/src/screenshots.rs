//! `cargo xtask screenshots`: refresh the editor's pictures in `docs/screenshots/`. The test
//! suite takes the same pictures into `target/screenshots/`, so a test run leaves the tracked
//! ones alone.

use crate::bundles::{self, BUNDLE_NAME};
use crate::models::{self, ModelSet};
use crate::{command, onnxruntime, system_packages};

pub fn run() -> anyhow::Result<()> {
    system_packages::ensure()?;
    onnxruntime::provision()?;
    // The imported voice pack is made from the tiny real-architecture voice.
    models::generate_set(ModelSet::Ci)?;
    let standalone = std::path::absolute(bundles::bundle_variant("standalone", &["--features", "standalone"])?)?;
    command::run(
        command::cargo()
            .args(["test", "-p", "rvc_live_hosts", "--test", "editor_screenshots"])
            .env("RVC_LIVE_STANDALONE", standalone.join(BUNDLE_NAME))
            .env("RVC_LIVE_SCREENSHOTS", std::path::absolute("docs/screenshots")?),
    )
}
