//! A `.pth` voice made into the ONNX model the engine runs, without Python: RVC's
//! partial-decoding graph for the checkpoint's configuration (a committed template, see
//! [`crate::graph_templates`]) with its weights filled from the checkpoint.
//!
//! The template is chosen by the checkpoint's own `config` where it has one, and every weight's
//! shape is checked against the checkpoint either way; a trainer's checkpoint, which has no
//! configuration, is matched on shapes alone.

mod template;

use std::fmt;
use std::path::PathBuf;

pub use template::{Fits, VoiceTemplate};

use crate::graph_template::GraphTemplate;
use crate::graph_templates::TEMPLATES;

use crate::torch_checkpoint::CheckpointError;
use crate::voice_checkpoint::{CheckpointFacts, SPEAKER_EMBEDDING, VoiceCheckpoint, weights};

#[derive(Debug, Clone, PartialEq)]
pub enum VoiceBuildError {
    Checkpoint(CheckpointError),
    /// Applio's other vocoders have other decoder graphs.
    Vocoder {
        path: PathBuf,
        vocoder: String,
    },
    /// No RVC configuration has this checkpoint's weights.
    NoArchitecture {
        path: PathBuf,
        facts: String,
        closest: Option<String>,
    },
}

impl From<CheckpointError> for VoiceBuildError {
    fn from(e: CheckpointError) -> Self {
        Self::Checkpoint(e)
    }
}

impl fmt::Display for VoiceBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Checkpoint(e) => e.fmt(f),
            Self::Vocoder { path, vocoder } => write!(
                f,
                "{} uses Applio's {vocoder} vocoder; RVC Live runs voices trained with RVC's HiFi-GAN (NSF) vocoder only",
                path.display()
            ),
            Self::NoArchitecture { path, facts, closest } => {
                write!(f, "{} ({facts}) has weights no RVC voice has", path.display())?;
                if let Some(closest) = closest {
                    write!(f, ": {closest}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for VoiceBuildError {}

/// A checkpoint made into an ONNX model.
pub struct BuiltVoice {
    pub onnx: Vec<u8>,
    /// The template it was built from, which names its configuration.
    pub template: String,
    pub fits: Fits,
}

/// Build the voice model of `checkpoint` from the first of `templates` that fits it (the committed
/// ones: [`embedded_templates`]).
pub fn build(checkpoint: &VoiceCheckpoint, templates: Vec<VoiceTemplate>) -> Result<BuiltVoice, VoiceBuildError> {
    let path = checkpoint.weights.path().to_path_buf();
    if let Some(vocoder) = checkpoint.facts.foreign_vocoder() {
        return Err(VoiceBuildError::Vocoder { path, vocoder: vocoder.to_owned() });
    }
    let mut closest = None;
    for template in templates {
        if !described_by(&checkpoint.facts, &template.fits) {
            continue;
        }
        match shape_mismatch(checkpoint, &template) {
            None => {
                let (name, fits) = (template.graph.name.clone(), template.fits.clone());
                let onnx = template.graph.fill(|name| {
                    let weight = weights::read(&checkpoint.weights, name)?.ok_or_else(|| CheckpointError::Missing {
                        path: path.clone(),
                        what: format!("tensor `{name}`"),
                    })?;
                    Ok::<_, VoiceBuildError>((weight.shape, weight.values))
                })?;
                return Ok(BuiltVoice { onnx, template: name, fits });
            }
            Some(mismatch) => {
                closest.get_or_insert_with(|| format!("as RVC's {}, {mismatch}", template.fits.describe()));
            }
        }
    }
    Err(VoiceBuildError::NoArchitecture { path, facts: checkpoint.facts.to_string(), closest })
}

/// The committed voice templates, parsed.
pub fn embedded_templates() -> Vec<VoiceTemplate> {
    TEMPLATES
        .iter()
        .filter(|(name, _)| name.starts_with(VOICE_TEMPLATE_PREFIX))
        .map(|(name, gz)| {
            VoiceTemplate::new(GraphTemplate::parse(name, gz).expect("a committed template parses"))
                .expect("a committed voice template fits voices")
        })
        .collect()
}

/// The committed voice templates' names start with this (RMVPE's do not).
const VOICE_TEMPLATE_PREFIX: &str = "rvc_";

/// Whether what the checkpoint says of itself allows this configuration (facts it does not give
/// allow any).
fn described_by(facts: &CheckpointFacts, fits: &Fits) -> bool {
    facts.version.is_none_or(|v| v == fits.version)
        && facts.f0.is_none_or(|f0| f0 == fits.f0)
        && facts.config.as_ref().is_none_or(|config| fits.matches_config(config))
}

/// The first weight of `template` the checkpoint lacks or has in another shape.
fn shape_mismatch(checkpoint: &VoiceCheckpoint, template: &VoiceTemplate) -> Option<String> {
    for (name, expected) in template.graph.weights() {
        match weights::shape_of(&checkpoint.weights, name) {
            None => return Some(format!("`{name}` is missing")),
            Some(shape) if name == SPEAKER_EMBEDDING => {
                if shape.len() != 2 || shape[1] != expected[1] || shape[0] == 0 {
                    return Some(format!("`{name}` is {shape:?}, not [speakers, {}]", expected[1]));
                }
            }
            Some(shape) if shape != expected => {
                return Some(format!("`{name}` is {shape:?}, not {expected:?}"));
            }
            Some(_) => {}
        }
    }
    None
}
