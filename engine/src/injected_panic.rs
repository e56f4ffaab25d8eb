//! Panics on purpose, for the tests that prove no panic crosses into the host: set
//! `RVC_LIVE_TEST_PANIC` to `inference:N` (the inference thread, while converting its N-th block
//! after an activation), `loader` (the voice loader thread, loading a voice chosen while the
//! plugin runs) or `activate` (loading the voice inside `activate`). Each fires once per process,
//! so the tests can show that the next activation works again. Unset, it costs one load of a
//! cached value.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

pub const ENV: &str = "RVC_LIVE_TEST_PANIC";

/// Where a panic can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The inference thread, at its `n`-th block since the stream started (counting from 0).
    Inference {
        block: u64,
    },
    Loader,
    Activate,
}

impl Site {
    pub fn parse(spec: &str) -> Option<Self> {
        match spec.trim().split_once(':') {
            Some(("inference", n)) => n.trim().parse().ok().map(|block| Self::Inference { block }),
            None if spec.trim() == "loader" => Some(Self::Loader),
            None if spec.trim() == "activate" => Some(Self::Activate),
            _ => None,
        }
    }
}

fn configured() -> Option<Site> {
    static SITE: OnceLock<Option<Site>> = OnceLock::new();
    *SITE.get_or_init(|| std::env::var(ENV).ok().and_then(|spec| Site::parse(&spec)))
}

/// Panic if the test hook is set for `site` and has not fired yet.
pub fn at(site: Site) {
    static FIRED: AtomicBool = AtomicBool::new(false);
    if configured() == Some(site) && !FIRED.swap(true, Ordering::Relaxed) {
        panic!("RVC Live test panic: {site:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(Site::parse("inference:12"), Some(Site::Inference { block: 12 }));
        assert_eq!(Site::parse("loader"), Some(Site::Loader));
        assert_eq!(Site::parse("activate"), Some(Site::Activate));
        assert_eq!(Site::parse("inference"), None);
        assert_eq!(Site::parse("elsewhere"), None);
    }
}
