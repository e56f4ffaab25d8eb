//! What a voice checkpoint says about itself, read from the keys RVC WebUI and Applio save beside
//! the weights.

use std::fmt;

use pytorch_reader::PickleValue;

use crate::synthesizer_format::ModelVersion;

/// Which program saved the voice, told by its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointLayout {
    /// RVC WebUI's small model: `weight` (fp16), `config`, string `sr`, int `f0`, `version`, `info`.
    RvcWebUi,
    /// Applio's: RVC's keys with an int `sr`, a bool `f0` and its own (`epoch`, `vocoder`, …).
    Applio,
    /// A trainer's `G_*.pth`: the whole fp32 state dict under `model`, no configuration.
    Training,
}

impl CheckpointLayout {
    pub fn name(self) -> &'static str {
        match self {
            Self::RvcWebUi => "RVC WebUI",
            Self::Applio => "Applio",
            Self::Training => "training checkpoint",
        }
    }
}

/// Applio's name for RVC's own decoder, the only one RVC Live runs.
pub const HIFI_GAN: &str = "HiFi-GAN";

#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointFacts {
    pub layout: CheckpointLayout,
    /// `version`; a saved voice without one is v1, a training checkpoint says nothing.
    pub version: Option<ModelVersion>,
    /// `sr` ("40k" or 40000), or the config's last value.
    pub sample_rate: Option<u32>,
    /// `f0` (1/0 or a bool).
    pub f0: Option<bool>,
    /// RVC's 18-value `config` list, as JSON values.
    pub config: Option<Vec<serde_json::Value>>,
    /// `info` (RVC writes "300epoch") or Applio's `epoch`.
    pub epochs: Option<u32>,
    /// Applio's `vocoder`; absent means RVC's HiFi-GAN.
    pub vocoder: Option<String>,
}

impl CheckpointFacts {
    pub fn read(root: &std::collections::HashMap<String, PickleValue>) -> Self {
        let layout = if root.contains_key("weight") {
            if root.contains_key("vocoder") || root.contains_key("model_hash") || root.contains_key("epoch") {
                CheckpointLayout::Applio
            } else {
                CheckpointLayout::RvcWebUi
            }
        } else {
            CheckpointLayout::Training
        };
        let config = match root.get("config") {
            Some(PickleValue::List(items)) => Some(items.iter().map(json).collect::<Vec<_>>()),
            _ => None,
        };
        let sample_rate = match root.get("sr") {
            Some(PickleValue::Int(sr)) => u32::try_from(*sr).ok(),
            Some(PickleValue::String(sr)) => sr.trim_end_matches(['k', 'K']).parse::<u32>().ok().map(|k| k * 1000),
            _ => None,
        }
        .or_else(|| config.as_ref()?.last()?.as_u64().and_then(|sr| u32::try_from(sr).ok()));
        let f0 = match root.get("f0") {
            Some(PickleValue::Int(f0)) => Some(*f0 != 0),
            Some(PickleValue::Bool(f0)) => Some(*f0),
            _ => None,
        };
        let version = match root.get("version") {
            Some(PickleValue::String(v)) if v == "v2" => Some(ModelVersion::V2),
            Some(PickleValue::String(v)) if v == "v1" => Some(ModelVersion::V1),
            None if layout != CheckpointLayout::Training => Some(ModelVersion::V1),
            _ => None,
        };
        let epochs = match (root.get("epoch"), root.get("info")) {
            (Some(PickleValue::Int(e)), _) => u32::try_from(*e).ok(),
            (_, Some(PickleValue::String(info))) => info.strip_suffix("epoch").and_then(|n| n.trim().parse().ok()),
            _ => None,
        };
        let vocoder = match root.get("vocoder") {
            Some(PickleValue::String(v)) => Some(v.clone()),
            _ => None,
        };
        Self { layout, version, sample_rate, f0, config, epochs, vocoder }
    }

    /// The vocoder when it is one RVC Live cannot run.
    pub fn foreign_vocoder(&self) -> Option<&str> {
        self.vocoder.as_deref().filter(|v| *v != HIFI_GAN)
    }
}

impl fmt::Display for CheckpointFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.layout.name())?;
        if let Some(version) = self.version {
            write!(f, ", {}", version.name())?;
        }
        if let Some(sr) = self.sample_rate {
            write!(f, ", {} kHz", sr / 1000)?;
        }
        match self.f0 {
            Some(true) => write!(f, ", with pitch")?,
            Some(false) => write!(f, ", without pitch")?,
            None => {}
        }
        if let Some(epochs) = self.epochs {
            write!(f, ", {epochs} epochs")?;
        }
        if let Some(vocoder) = &self.vocoder {
            write!(f, ", {vocoder} vocoder")?;
        }
        Ok(())
    }
}

fn json(value: &PickleValue) -> serde_json::Value {
    use serde_json::Value;
    match value {
        PickleValue::None => Value::Null,
        PickleValue::Bool(b) => Value::Bool(*b),
        PickleValue::Int(i) => Value::from(*i),
        PickleValue::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        PickleValue::String(s) => Value::String(s.clone()),
        PickleValue::List(items) => Value::Array(items.iter().map(json).collect()),
        PickleValue::Dict(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
        PickleValue::Bytes(_) | PickleValue::Unsupported(_) => Value::Null,
    }
}
