//! The plugin's parameters and the settings it persists with the host's project.

use nice_plug::prelude::*;
use parking_lot::RwLock;

use crate::stream::StreamSettings;
use crate::voice::PersistedVoice;

const GAIN_RANGE_DB: f32 = 24.0;

#[derive(Params)]
pub struct RvcLiveParams {
    /// Gain on the signal sent to the voice model, to bring a quiet microphone to the level
    /// models expect. The dry path is not affected.
    #[id = "input_gain"]
    pub input_gain: FloatParam,
    /// Gain on the plugin's output.
    #[id = "output_gain"]
    pub output_gain: FloatParam,
    /// Mix of the converted voice against the latency-compensated dry input.
    #[id = "dry_wet"]
    pub dry_wet: FloatParam,
    /// Pitch shift applied to the tracked pitch before synthesis, in semitones (fractions are
    /// cents).
    #[id = "pitch"]
    pub pitch: FloatParam,
    /// Plays the input delayed by the reported latency, so toggling it never shifts the timing.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// The chosen voice's model files.
    #[persist = "voice"]
    pub voice: PersistedVoice,
    /// Block, crossfade and budget; applied at the next activation because they set the latency.
    /// Written by the main thread, read by the main thread in `activate`.
    #[persist = "stream"]
    pub stream: RwLock<StreamSettings>,
}

fn gain_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        util::db_to_gain(0.0),
        FloatRange::Skewed {
            min: util::db_to_gain(-GAIN_RANGE_DB),
            max: util::db_to_gain(GAIN_RANGE_DB),
            factor: FloatRange::gain_skew_factor(-GAIN_RANGE_DB, GAIN_RANGE_DB),
        },
    )
    .with_smoother(SmoothingStyle::Logarithmic(50.0))
    .with_unit(" dB")
    .with_value_to_string(formatters::v2s_f32_gain_to_db(1))
    .with_string_to_value(formatters::s2v_f32_gain_to_db())
}

impl Default for RvcLiveParams {
    fn default() -> Self {
        Self {
            input_gain: gain_param("Input Gain"),
            output_gain: gain_param("Output Gain"),
            dry_wet: FloatParam::new("Dry/Wet", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_smoother(SmoothingStyle::Linear(20.0))
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            pitch: FloatParam::new("Pitch", 0.0, FloatRange::Linear { min: -24.0, max: 24.0 })
                .with_step_size(0.01)
                .with_unit(" st"),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            voice: PersistedVoice::default(),
            stream: RwLock::new(StreamSettings::default()),
        }
    }
}
