//! The plugin's parameters and the settings it persists with the host's project.

use std::path::PathBuf;
use std::sync::Arc;

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use parking_lot::RwLock;

use crate::remote_engine::RemoteEngineSettings;
use crate::voice::{FirstSlotVoice, OtherSlotVoices, PersistedVoice, VOICE_SLOTS, VoiceSlots};
use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{ControlSource, formant};
use rvc_live_engine::{ConversionControls, PROTECT_OFF};

const GAIN_RANGE_DB: f32 = 24.0;
/// The Voice parameter's id and the persisted key of slots 2 and on, as the attributes below
/// name them.
const VOICE_SLOT_ID: &str = "voice_slot";
const OTHER_VOICES_KEY: &str = "voice-slots";

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
    /// Formant shift in semitones, RVC's way: the voice's formants move, its pitch stays. Only
    /// voices whose export takes a formant length (every `.pth` voice, partial-decoding exports)
    /// can; others ignore it.
    #[id = "formant"]
    pub formant: FloatParam,
    /// Below this input level (dBFS RMS over the block) the voice model is not run and the
    /// converted voice is silent: no CPU spent on silence, no hiss from the model.
    #[id = "gate"]
    pub gate: FloatParam,
    /// How much the converted voice keeps its own loudness contour (1) rather than taking the
    /// input's (0): RVC's `rms_mix_rate`.
    #[id = "envelope"]
    pub envelope: FloatParam,
    /// How far the voice's content features move toward what they retrieve from its `.index`
    /// (RVC's `index_rate`). Does nothing for a voice without an index.
    #[id = "index_rate"]
    pub index_rate: FloatParam,
    /// How much of the retrieval unvoiced sounds (consonants, breaths) keep: RVC's `protect`;
    /// 0.5 keeps all of it, lower values keep them closer to the speaker's own.
    #[id = "protect"]
    pub protect: FloatParam,
    /// Plays the input delayed by the reported latency, so toggling it never shifts the timing.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// Which voice slot converts (0-based; hosts show the slot's number and voice). Every slot's
    /// voice stays loaded, so switching is as fast as a block.
    #[id = "voice_slot"]
    pub voice_slot: IntParam,

    /// The voice of each slot. Written by the main thread (state loads) and the GUI thread, read
    /// by the main and loader threads and by the host's main thread through the Voice parameter's
    /// names. The audio thread never touches it.
    pub voices: Arc<VoiceSlots>,
    /// Slot 1's voice, under the key projects saved before there were slots.
    #[persist = "voice"]
    pub first_voice: FirstSlotVoice,
    /// The voices of slots 2 and on.
    #[persist = "voice-slots"]
    pub other_voices: OtherSlotVoices,
    /// Block, crossfade and budget; applied at the next activation because they set the latency.
    /// Written by the main thread, read by the main thread in `activate`.
    #[persist = "stream"]
    pub stream: RwLock<StreamSettings>,
    /// Whether to convert on a server, where, and with which server voice per slot; applied at
    /// the next activation because the latency counts the network. Written by the main thread
    /// (state loads) and the GUI thread, read by the main thread in `activate`. The server's token
    /// is not here, nor the user's leave to stream to it: both live in the user's config folder
    /// (`remote_servers`).
    #[persist = "remote-engine"]
    pub remote: RwLock<RemoteEngineSettings>,
    /// The folder the editor lists voices from. Written and read by the GUI thread.
    #[persist = "voice-library"]
    pub voice_library: RwLock<Option<PathBuf>>,
    /// The Piper voice (`.onnx`, beside its `.onnx.json`) the editor's Say box speaks with.
    /// Written and read by the GUI thread.
    #[persist = "tts-voice"]
    pub tts_voice: RwLock<Option<PathBuf>>,
    /// The editor window's size. nice-plug-egui cannot persist it; hosts remember window sizes
    /// themselves. Written by the GUI thread, read by the host's main thread.
    pub editor_state: Arc<EguiEditorState>,
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

/// The Voice parameter: a slot, shown as its number and its voice's name.
fn voice_slot_param(voices: &Arc<VoiceSlots>) -> IntParam {
    let (names, parse) = (voices.clone(), voices.clone());
    IntParam::new("Voice", 0, IntRange::Linear { min: 0, max: VOICE_SLOTS as i32 - 1 })
        .with_value_to_string(Arc::new(move |slot| names.label(slot.max(0) as usize)))
        .with_string_to_value(Arc::new(move |text| parse.parse(text).map(|slot| slot as i32)))
}

impl RvcLiveParams {
    /// The slot the Voice parameter selects now.
    pub fn active_slot(&self) -> usize {
        (self.voice_slot.value().max(0) as usize).min(VOICE_SLOTS - 1)
    }

    /// The voice of the selected slot: what the editor shows and edits.
    pub fn active_voice(&self) -> &PersistedVoice {
        self.voices.slot(self.active_slot())
    }
}

impl Default for RvcLiveParams {
    fn default() -> Self {
        let voices = Arc::new(VoiceSlots::default());
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
            formant: FloatParam::new(
                "Formant",
                0.0,
                FloatRange::Linear { min: *formant::RANGE.start(), max: *formant::RANGE.end() },
            )
            .with_step_size(0.05)
            .with_unit(" st"),
            gate: FloatParam::new("Silence Gate", -70.0, FloatRange::Linear { min: -100.0, max: -20.0 })
                .with_step_size(0.5)
                .with_unit(" dB"),
            envelope: FloatParam::new("Voice Envelope", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            index_rate: FloatParam::new(
                "Index Rate",
                ConversionControls::DEFAULT_INDEX_RATE,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit(" %")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            protect: FloatParam::new(
                "Protect",
                ConversionControls::DEFAULT_PROTECT,
                FloatRange::Linear { min: 0.0, max: PROTECT_OFF },
            )
            .with_step_size(0.01)
            .with_value_to_string(formatters::v2s_f32_rounded(2)),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            voice_slot: voice_slot_param(&voices),
            first_voice: FirstSlotVoice(voices.clone()),
            other_voices: OtherSlotVoices(voices.clone()),
            voices,
            stream: RwLock::new(StreamSettings::default()),
            voice_library: RwLock::new(None),
            tts_voice: RwLock::new(None),
            remote: RwLock::new(RemoteEngineSettings::default()),
            editor_state: crate::editor_window::default_state(),
        }
    }
}

/// Force every float parameter in a state about to be loaded into its range. nice-plug restores
/// saved plain values as they are, so a hand-edited or corrupted project could otherwise set, say,
/// a dry/wet of 700 % or a gain of +60 dB. Non-finite values fall back to the default.
pub fn sanitize_state(state: &mut PluginState) {
    // A project saved before there were voice slots has neither the slot nor slots 2 and on;
    // nice-plug leaves what a state does not mention as it was, which would keep voices the
    // project never had. It had one voice, in slot 1.
    state.params.entry(VOICE_SLOT_ID.to_owned()).or_insert(ParamValue::I32(0));
    state.fields.entry(OTHER_VOICES_KEY.to_owned()).or_insert_with(|| "[]".to_owned());
    let reference = RvcLiveParams::default();
    for (id, param, _) in reference.param_map() {
        if let Some(ParamValue::I32(value)) = state.params.get_mut(&id) {
            // SAFETY: as below. The Voice slot of a hand-edited project may name no slot.
            *value = unsafe { param.preview_plain(param.preview_normalized(*value as f32)).round() as i32 };
        }
        if let Some(ParamValue::F32(value)) = state.params.get_mut(&id) {
            // SAFETY: `param` points into `reference`, which outlives this loop.
            *value = unsafe {
                if value.is_finite() {
                    // The round trip through the normalised value clamps; for values already in
                    // range it only adds rounding noise, which must not change a saved project.
                    let clamped = param.preview_plain(param.preview_normalized(*value));
                    if (clamped - *value).abs() <= 1e-5 * value.abs().max(1.0) { *value } else { clamped }
                } else {
                    param.default_plain_value()
                }
            };
        }
    }
}

/// The conversion's controls as the parameters hold them, read by a voice's processor (here or
/// on a server) at every block.
pub fn controls_source(params: Arc<RvcLiveParams>) -> ControlSource {
    Arc::new(move || ConversionControls {
        semitones: params.pitch.value(),
        formant: params.formant.value(),
        gate_db: params.gate.value(),
        envelope: params.envelope.value(),
        index_rate: params.index_rate.value(),
        protect: params.protect.value(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_values_are_forced_into_range() {
        let mut state = PluginState {
            version: String::new(),
            params: [
                ("dry_wet".to_owned(), ParamValue::F32(7.0)),
                ("output_gain".to_owned(), ParamValue::F32(1000.0)),
                ("pitch".to_owned(), ParamValue::F32(f32::NAN)),
                ("input_gain".to_owned(), ParamValue::F32(0.5)),
                ("voice_slot".to_owned(), ParamValue::I32(40)),
            ]
            .into_iter()
            .collect(),
            fields: Default::default(),
        };
        sanitize_state(&mut state);
        let value = |id: &str| match state.params[id] {
            ParamValue::F32(v) => v,
            _ => unreachable!(),
        };
        assert_eq!(value("dry_wet"), 1.0);
        assert!((util::gain_to_db(value("output_gain")) - GAIN_RANGE_DB).abs() < 1e-3);
        assert_eq!(value("pitch"), 0.0);
        assert_eq!(value("input_gain"), 0.5, "in-range values are kept exactly");
        assert!(
            matches!(state.params["voice_slot"], ParamValue::I32(7)),
            "the last slot: {:?}",
            state.params["voice_slot"]
        );
    }
}
