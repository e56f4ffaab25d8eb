//! IPA to the ids a Piper voice takes: its config's `phoneme_id_map`, framed as Piper frames it.

use std::collections::HashMap;

use serde::Deserialize;

/// Start, pad and end symbols of Piper's framing.
const BOS: char = '^';
const PAD: char = '_';
const EOS: char = '$';

/// A voice's phoneme → ids map (each symbol maps to a list of ids).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "HashMap<String, Vec<i64>>")]
pub struct PhonemeIdMap {
    ids: HashMap<char, Vec<i64>>,
}

impl From<HashMap<String, Vec<i64>>> for PhonemeIdMap {
    /// Keys longer than one character are left out: the IPA is read one character at a time, so
    /// they would never match.
    fn from(map: HashMap<String, Vec<i64>>) -> Self {
        let mut ids = HashMap::new();
        for (key, value) in map {
            let mut chars = key.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                ids.insert(c, value);
            }
        }
        Self { ids }
    }
}

impl PhonemeIdMap {
    /// Whether the map has the framing symbols (`^`, `_`, `$`) every Piper voice has.
    pub fn has_framing(&self) -> bool {
        [BOS, PAD, EOS].iter().all(|c| self.ids.contains_key(c))
    }

    /// The ids of `ipa` as Piper frames them: `^ _`, then each character the map has followed by
    /// `_`, then `$`. Characters the voice does not know are skipped.
    pub fn ids(&self, ipa: &str) -> Vec<i64> {
        let get = |c: char| self.ids.get(&c).map_or(&[][..], Vec::as_slice);
        let mut ids = Vec::with_capacity(2 * ipa.len() + 3);
        ids.extend_from_slice(get(BOS));
        ids.extend_from_slice(get(PAD));
        for c in ipa.chars() {
            if let Some(symbol) = self.ids.get(&c) {
                ids.extend_from_slice(symbol);
                ids.extend_from_slice(get(PAD));
            }
        }
        ids.extend_from_slice(get(EOS));
        ids
    }

    /// How many ids [`ids`](Self::ids) gives for `ipa`, without building them.
    pub fn count(&self, ipa: &str) -> usize {
        let len = |c: char| self.ids.get(&c).map_or(0, Vec::len);
        len(BOS)
            + len(PAD)
            + len(EOS)
            + ipa.chars().filter_map(|c| self.ids.get(&c)).map(|s| s.len() + len(PAD)).sum::<usize>()
    }

    /// Whether `ipa` holds a sound, not only pauses and punctuation.
    pub fn is_speakable(&self, ipa: &str) -> bool {
        ipa.chars().any(|c| !c.is_whitespace() && !c.is_ascii_punctuation() && self.ids.contains_key(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[i64])]) -> PhonemeIdMap {
        PhonemeIdMap::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect::<HashMap<_, _>>())
    }

    #[test]
    fn ids_are_framed_and_padded_as_piper_frames_them() {
        let map =
            map(&[("_", &[0]), ("^", &[1]), ("$", &[2]), (" ", &[3]), ("a", &[14]), ("ˈ", &[120, 121]), ("ab", &[9])]);
        let ipa = "ˈa bx";
        assert_eq!(map.ids(ipa), [1, 0, 120, 121, 0, 14, 0, 3, 0, 2]);
        assert_eq!(map.count(ipa), map.ids(ipa).len());
        assert!(map.is_speakable("a") && !map.is_speakable(" x"));
        assert!(map.has_framing());
    }
}
