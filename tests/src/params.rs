//! Finding nice-plug parameters through the CLAP params extension.
//!
//! nice-plug exposes each parameter under a CLAP id that hashes the Rust-side string id
//! (`#[id = "dry_wet"]`), and exposes values normalised to 0..=1 (times the step count for stepped
//! parameters), not plain values.

use clack_extensions::params::ParamInfo;
use clack_host::prelude::ClapId;

/// A parameter as the host sees it, copied out of the plugin's `clap_param_info`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDescriptor {
    pub id: ClapId,
    pub name: String,
    pub module: String,
    /// CLAP-side range and default: `0..=1` for continuous parameters, `0..=steps` for stepped.
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub stepped: bool,
    pub bypass: bool,
    pub automatable: bool,
}

impl ParamDescriptor {
    pub fn from_info(info: &ParamInfo<'_>) -> Self {
        use clack_extensions::params::ParamInfoFlags as F;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim_end_matches('\0').to_string();
        Self {
            id: info.id,
            name: text(info.name),
            module: text(info.module),
            min: info.min_value,
            max: info.max_value,
            default: info.default_value,
            stepped: info.flags.contains(F::IS_STEPPED),
            bypass: info.flags.contains(F::IS_BYPASS),
            automatable: info.flags.contains(F::IS_AUTOMATABLE),
        }
    }
}

/// The CLAP id nice-plug derives from a parameter's string id (`hash_param_id` in nice-plug's
/// `wrapper/util.rs`): a Java-style string hash with the top bit cleared for VST3's sake.
pub fn nice_plug_param_hash(id: &str) -> u32 {
    let hash = id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    hash & !(1 << 31)
}

/// The parameters RVC Live declares, by nice-plug id and display name.
pub mod ids {
    pub const INPUT_GAIN: (&str, &str) = ("input_gain", "Input Gain");
    pub const OUTPUT_GAIN: (&str, &str) = ("output_gain", "Output Gain");
    pub const DRY_WET: (&str, &str) = ("dry_wet", "Dry/Wet");
    pub const PITCH: (&str, &str) = ("pitch", "Pitch");
    pub const FORMANT: (&str, &str) = ("formant", "Formant");
    pub const GATE: (&str, &str) = ("gate", "Silence Gate");
    pub const ENVELOPE: (&str, &str) = ("envelope", "Voice Envelope");
    pub const INDEX_RATE: (&str, &str) = ("index_rate", "Index Rate");
    pub const PROTECT: (&str, &str) = ("protect", "Protect");
    pub const BYPASS: (&str, &str) = ("bypass", "Bypass");
    pub const VOICE_SLOT: (&str, &str) = ("voice_slot", "Voice");
    pub const ALL: [(&str, &str); 11] =
        [INPUT_GAIN, OUTPUT_GAIN, DRY_WET, PITCH, FORMANT, GATE, ENVELOPE, INDEX_RATE, PROTECT, BYPASS, VOICE_SLOT];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_nice_plug_for_a_known_id() {
        // "a" = 97; "ab" = 97 * 31 + 98.
        assert_eq!(nice_plug_param_hash("a"), 97);
        assert_eq!(nice_plug_param_hash("ab"), 97 * 31 + 98);
        assert_eq!(nice_plug_param_hash("a_long_parameter_identifier") >> 31, 0);
    }
}
