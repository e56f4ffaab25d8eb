//! nice-plug's CLAP state blob: a little-endian `u64` length, then JSON
//! `{"version": .., "params": {id: {"f32": v} | {"bool": b} ..}, "fields": {key: "<json>"}}`,
//! where every persisted field's value is itself serde_json text. And RVC Live's fields.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};

/// The decoded state. Parameter values stay as JSON: their shape is nice-plug's business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NiceState {
    pub version: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub fields: BTreeMap<String, String>,
}

impl NiceState {
    pub fn decode(blob: &[u8]) -> anyhow::Result<Self> {
        ensure!(blob.len() >= 8, "a state blob starts with an 8-byte length, got {} bytes", blob.len());
        let (len, json) = blob.split_at(8);
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        ensure!(len == json.len() as u64, "the length prefix says {len} bytes, {} follow", json.len());
        serde_json::from_slice(json).context("the state is nice-plug's JSON object")
    }

    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).expect("the state serialises");
        let mut blob = (json.len() as u64).to_le_bytes().to_vec();
        blob.extend(json);
        blob
    }

    /// A float parameter's plain value, as nice-plug stores it (`{"f32": v}`).
    pub fn f32_param(&self, id: &str) -> Option<f32> {
        self.params.get(id)?.get("f32")?.as_f64().map(|v| v as f32)
    }

    pub fn bool_param(&self, id: &str) -> Option<bool> {
        self.params.get(id)?.get("bool")?.as_bool()
    }

    pub fn set_f32_param(&mut self, id: &str, value: f32) {
        self.params.insert(id.to_string(), serde_json::json!({ "f32": value }));
    }

    pub fn voice(&self) -> anyhow::Result<VoiceSelection> {
        self.field("voice")
    }

    pub fn stream(&self) -> anyhow::Result<StreamSettings> {
        self.field("stream")
    }

    pub fn set_voice(&mut self, voice: &VoiceSelection) {
        self.fields.insert("voice".into(), serde_json::to_string(voice).expect("serialises"));
    }

    /// Every voice slot's voice: slot 1 under `voice` (the key projects saved before there were
    /// slots), the others as a list under `voice-slots`.
    pub fn set_voice_slots(&mut self, voices: &[VoiceSelection]) {
        let (first, others) = voices.split_first().expect("at least slot 1");
        self.set_voice(first);
        self.fields.insert("voice-slots".into(), serde_json::to_string(others).expect("serialises"));
    }

    /// Slots 2 and on, as the state holds them.
    pub fn other_voice_slots(&self) -> anyhow::Result<Vec<VoiceSelection>> {
        self.field("voice-slots")
    }

    /// An integer parameter's plain value, as nice-plug stores it (`{"i32": v}`).
    pub fn i32_param(&self, id: &str) -> Option<i32> {
        self.params.get(id)?.get("i32")?.as_i64().map(|v| v as i32)
    }

    pub fn set_i32_param(&mut self, id: &str, value: i32) {
        self.params.insert(id.to_string(), serde_json::json!({ "i32": value }));
    }

    /// The engine choice (`remote-engine`): convert on the server at `address`, slot `i` with
    /// the server voice `voices[i]`.
    pub fn set_remote_engine(&mut self, remote: &RemoteEngine) {
        self.fields.insert("remote-engine".into(), serde_json::to_string(remote).expect("serialises"));
    }

    pub fn remote_engine(&self) -> anyhow::Result<RemoteEngine> {
        self.field("remote-engine")
    }

    pub fn set_stream(&mut self, stream: &StreamSettings) {
        self.fields.insert("stream".into(), serde_json::to_string(stream).expect("serialises"));
    }

    fn field<T: for<'de> Deserialize<'de>>(&self, key: &str) -> anyhow::Result<T> {
        let text = self.fields.get(key).with_context(|| format!("the state has no field {key:?}"))?;
        serde_json::from_str(text).with_context(|| format!("field {key:?} = {text}"))
    }
}

/// Mirror of the plugin's persisted `voice` field. Kept separate from the plugin crate on purpose:
/// these tests check the format a project file holds, not the plugin's own types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceSelection {
    pub synthesizer: Option<PathBuf>,
    pub content_encoder: Option<PathBuf>,
    pub pitch_model: Option<PathBuf>,
    pub index: Option<PathBuf>,
    pub speaker_id: u32,
}

/// Mirror of the plugin's persisted `remote-engine` field. No token: that lives in the user's
/// config folder, never in a project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteEngine {
    pub enabled: bool,
    pub address: String,
    pub voices: Vec<String>,
}

/// Mirror of the plugin's persisted `stream` field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StreamSettings {
    pub block_ms: f32,
    pub crossfade_ms: f32,
    pub sola_search_ms: f32,
    pub worker_budget: f32,
    pub measured_budget: bool,
}

impl Default for StreamSettings {
    /// The plugin's defaults, read from the engine that defines them.
    fn default() -> Self {
        let engine = rvc_live_engine::stream::StreamSettings::default();
        Self {
            block_ms: engine.block_ms,
            crossfade_ms: engine.crossfade_ms,
            sola_search_ms: engine.sola_search_ms,
            worker_budget: engine.worker_budget,
            measured_budget: engine.measured_budget,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_is_identity() {
        let mut state = NiceState { version: "0.1.0".into(), params: BTreeMap::new(), fields: BTreeMap::new() };
        state.set_f32_param("dry_wet", 0.25);
        state.set_stream(&StreamSettings::default());
        let decoded = NiceState::decode(&state.encode()).unwrap();
        assert_eq!(decoded, state);
        assert_eq!(decoded.f32_param("dry_wet"), Some(0.25));
        assert_eq!(decoded.stream().unwrap(), StreamSettings::default());
    }

    #[test]
    fn a_wrong_length_prefix_is_an_error() {
        let mut blob = NiceState { version: "x".into(), params: BTreeMap::new(), fields: BTreeMap::new() }.encode();
        blob[0] ^= 1;
        assert!(NiceState::decode(&blob).is_err());
    }
}
