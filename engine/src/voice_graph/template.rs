//! One voice graph template: RVC's partial-decoding graph for one configuration (see
//! `models/rvc/voice_template.py`), and the configuration it fits.

use crate::graph_template::GraphTemplate;
use crate::synthesizer_format::ModelVersion;

/// Entries of RVC's `config` list the graph does not depend on (spec_channels, segment_size:
/// training only; spk_embed_dim: the checkpoint's speaker embedding decides it). The generator
/// writes them as null.
const UNUSED_CONFIG: [usize; 3] = [0, 1, 15];

/// What a checkpoint must be for a template to fit it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fits {
    pub version: ModelVersion,
    pub f0: bool,
    /// RVC's `config` list with the unused entries null.
    pub config: Vec<serde_json::Value>,
}

impl Fits {
    /// The sample rate: the config's last value.
    pub fn sample_rate(&self) -> u32 {
        self.config.last().and_then(serde_json::Value::as_u64).map_or(0, |sr| sr as u32)
    }

    /// Whether a checkpoint's own `config` list describes this configuration.
    pub fn matches_config(&self, config: &[serde_json::Value]) -> bool {
        config.len() == self.config.len()
            && config.iter().zip(&self.config).enumerate().all(|(i, (a, b))| UNUSED_CONFIG.contains(&i) || a == b)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {} kHz {}",
            self.version.name(),
            self.sample_rate() / 1000,
            if self.f0 { "with pitch" } else { "without pitch" }
        )
    }
}

pub struct VoiceTemplate {
    pub graph: GraphTemplate,
    pub fits: Fits,
}

impl VoiceTemplate {
    /// A graph template that fits voices, or why it is not one.
    pub fn new(graph: GraphTemplate) -> Result<Self, String> {
        let name = &graph.name;
        let version = match graph.fits["version"].as_str() {
            Some("v1") => ModelVersion::V1,
            Some("v2") => ModelVersion::V2,
            other => return Err(format!("{name}: not a voice template (version {other:?})")),
        };
        let f0 = graph.fits["f0"].as_bool().ok_or_else(|| format!("{name}: no f0"))?;
        let config = graph.fits["config"].as_array().cloned().ok_or_else(|| format!("{name}: no config"))?;
        Ok(Self { graph, fits: Fits { version, f0, config } })
    }

    /// Parse an uncompressed voice template (the tests' det ones).
    pub fn parse_onnx(name: &str, bytes: &[u8]) -> Result<Self, String> {
        Self::new(GraphTemplate::parse_onnx(name, bytes)?)
    }
}
