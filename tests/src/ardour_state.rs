//! RVC Live's state inside an Ardour 7 session file.
//!
//! Ardour saves a VST3 plugin's state in the session's XML (`NAME.ardour`) as
//! `<Processor ... type="vst3"><vst3 ...><Port .../>...<chunk>BASE64</chunk></vst3>`, where the
//! base64 holds the VST3 SDK's preset container (`VST3PI::save_state` in Ardour's
//! `libs/ardour/vst3_plugin.cc`):
//!
//! ```text
//! "VST3"  i32 version  [32 ASCII hex] class id  i64 offset of the chunk list
//! chunk data...
//! "List"  i32 count  { [4] id  i64 offset  i64 size } * count
//! ```
//!
//! with a `Comp` chunk (the component's `getState`: nice-plug's JSON, without the length prefix
//! its CLAP state has) and a `Cont` chunk (the edit controller's, empty for nice-plug).
//!
//! No GUI is available headless and the voice is not an automatable parameter, so a test chooses
//! the voice the way a project file carries it: by rewriting the `Comp` chunk of a saved session.

use std::path::Path;

use anyhow::{Context, bail, ensure};

use crate::state::NiceState;

/// The VST3 preset container Ardour stores in `<chunk>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vst3Preset {
    pub version: i32,
    pub class_id: [u8; 32],
    /// Every chunk in the container's order, with its four-character id.
    pub chunks: Vec<([u8; 4], Vec<u8>)>,
}

const COMPONENT: [u8; 4] = *b"Comp";

impl Vst3Preset {
    pub fn decode(blob: &[u8]) -> anyhow::Result<Self> {
        ensure!(blob.len() >= 48 && &blob[..4] == b"VST3", "not a VST3 preset container ({} bytes)", blob.len());
        let version = i32::from_le_bytes(blob[4..8].try_into()?);
        let class_id: [u8; 32] = blob[8..40].try_into()?;
        let list = usize::try_from(i64::from_le_bytes(blob[40..48].try_into()?))?;
        ensure!(blob.get(list..list + 8).is_some_and(|h| &h[..4] == b"List"), "no chunk list at offset {list}");
        let count = usize::try_from(i32::from_le_bytes(blob[list + 4..list + 8].try_into()?))?;
        let mut chunks = Vec::with_capacity(count);
        for k in 0..count {
            let entry = blob.get(list + 8 + 20 * k..list + 28 + 20 * k).context("the chunk list is cut short")?;
            let id: [u8; 4] = entry[..4].try_into()?;
            let offset = usize::try_from(i64::from_le_bytes(entry[4..12].try_into()?))?;
            let size = usize::try_from(i64::from_le_bytes(entry[12..20].try_into()?))?;
            let data = blob.get(offset..offset + size).context("a chunk lies outside the container")?;
            chunks.push((id, data.to_vec()));
        }
        Ok(Self { version, class_id, chunks })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = b"VST3".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend(self.class_id);
        out.extend(0i64.to_le_bytes());
        let mut entries = Vec::new();
        for (id, data) in &self.chunks {
            entries.push((id, out.len() as i64, data.len() as i64));
            out.extend(data);
        }
        let list = out.len() as i64;
        out[40..48].copy_from_slice(&list.to_le_bytes());
        out.extend(b"List");
        out.extend((entries.len() as i32).to_le_bytes());
        for (id, offset, size) in entries {
            out.extend(id);
            out.extend(offset.to_le_bytes());
            out.extend(size.to_le_bytes());
        }
        out
    }

    /// The plugin's own state: nice-plug's JSON from the component chunk.
    pub fn component(&self) -> anyhow::Result<NiceState> {
        let (_, data) = self.chunks.iter().find(|(id, _)| *id == COMPONENT).context("no component chunk")?;
        serde_json::from_slice(data).context("the component chunk is nice-plug's JSON state")
    }

    pub fn set_component(&mut self, state: &NiceState) {
        let json = serde_json::to_vec(state).expect("the state serialises");
        match self.chunks.iter_mut().find(|(id, _)| *id == COMPONENT) {
            Some((_, data)) => *data = json,
            None => self.chunks.insert(0, (COMPONENT, json)),
        }
    }
}

/// A saved Ardour session's XML, holding one RVC Live instance.
pub struct SessionXml {
    pub text: String,
}

impl SessionXml {
    /// `NAME.ardour` in the session folder `dir`, whose name is the session's.
    pub fn path(dir: &Path) -> std::path::PathBuf {
        let name = dir.file_name().expect("a session folder has a name").to_string_lossy();
        dir.join(format!("{name}.ardour"))
    }

    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = Self::path(dir);
        Ok(Self { text: std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))? })
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let path = Self::path(dir);
        std::fs::write(&path, &self.text).with_context(|| format!("writing {}", path.display()))
    }

    /// Where the base64 of the VST3 plugin's `<chunk>` lies in the text.
    fn chunk_range(&self) -> anyhow::Result<std::ops::Range<usize>> {
        const PROCESSOR: &str = r#"type="vst3""#;
        let plugin = self.text.find(PROCESSOR).context("the session holds no VST3 plugin")?;
        ensure!(
            !self.text[plugin + 1..].contains(PROCESSOR),
            "the session holds more than one VST3 plugin; these tests insert exactly one"
        );
        let start = plugin + self.text[plugin..].find("<chunk>").context("the VST3 plugin saved no state chunk")? + 7;
        let end = start + self.text[start..].find("</chunk>").context("unterminated <chunk>")?;
        Ok(start..end)
    }

    pub fn plugin_state(&self) -> anyhow::Result<Vst3Preset> {
        let range = self.chunk_range()?;
        Vst3Preset::decode(&base64_decode(self.text[range].trim())?)
    }

    pub fn set_plugin_state(&mut self, preset: &Vst3Preset) -> anyhow::Result<()> {
        let range = self.chunk_range()?;
        self.text.replace_range(range, &base64_encode(&preset.encode()));
        Ok(())
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as GLib's `g_base64_encode` writes it.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let bits = group.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for k in 0..4 {
            if k <= group.len() {
                out.push(char::from(BASE64[(bits >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let Some(value) = BASE64.iter().position(|&b| b == c) else { bail!("{:?} is not base64", char::from(c)) };
        bits = bits << 6 | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_padding() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7]] {
            assert_eq!(base64_decode(&base64_encode(data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn preset_container_round_trips() {
        let preset = Vst3Preset {
            version: 1,
            class_id: *b"0123456789ABCDEF0123456789ABCDEF",
            chunks: vec![(*b"Comp", br#"{"a":1}"#.to_vec()), (*b"Cont", Vec::new())],
        };
        let blob = preset.encode();
        assert_eq!(Vst3Preset::decode(&blob).unwrap(), preset);
    }
}
