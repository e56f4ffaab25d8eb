//! Persistent state through the CLAP state extension: its format, round trips into fresh
//! instances, when loaded stream settings take effect, and what garbage does (nothing).

use std::path::PathBuf;

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use rvc_live_engine::ConversionControls;
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::params::ids;
use rvc_live_hosts::scenarios::{left_only, with_noise_right};
use rvc_live_hosts::state::{NiceState, StreamSettings, VoiceSelection};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

fn fresh() -> PluginHost {
    PluginHost::load(&release_bundle()).unwrap()
}

fn state_of(host: &mut PluginHost) -> NiceState {
    NiceState::decode(&host.save_state().unwrap()).unwrap()
}

/// Every parameter moved away from its default, through the host's parameter interface.
fn set_non_default_params(host: &mut PluginHost) {
    for (param, text) in [
        (ids::DRY_WET, "25"),
        (ids::OUTPUT_GAIN, "-3"),
        (ids::INPUT_GAIN, "4.5"),
        (ids::PITCH, "-7.5"),
        (ids::INDEX_RATE, "40"),
        (ids::PROTECT, "0.25"),
        (ids::BYPASS, "On"),
        (ids::VOICE_SLOT, "5"),
    ] {
        let p = host.param(param.0).unwrap();
        let value = host.param_text_to_value(&p, text).unwrap();
        host.set_param(&p, value).unwrap();
    }
}

/// Every parameter's CLAP value, by nice-plug id.
fn param_values(host: &mut PluginHost) -> Vec<(&'static str, f64)> {
    ids::ALL
        .iter()
        .map(|&(id, _)| {
            let p = host.param(id).unwrap();
            (id, host.param_value(&p).unwrap())
        })
        .collect()
}

fn crafted_voice() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(PathBuf::from("/home/josé/voices/alto \"studio\"/model.onnx")),
        content_encoder: Some(PathBuf::from("/models/contentvec-768.onnx")),
        pitch_model: Some(PathBuf::from("/models/rmvpe.onnx")),
        index: Some(PathBuf::from("/home/josé/voices/alto \"studio\"/added.index")),
        speaker_id: 3,
    }
}

fn crafted_stream() -> StreamSettings {
    StreamSettings {
        block_ms: 120.0,
        crossfade_ms: 25.0,
        sola_search_ms: 8.0,
        worker_budget: 0.6,
        measured_budget: false,
    }
}

/// A state blob with the given voice and stream settings and every parameter at its default.
fn crafted_state(voice: &VoiceSelection, stream: &StreamSettings) -> Vec<u8> {
    let mut state = state_of(&mut fresh());
    state.set_voice(voice);
    state.set_stream(stream);
    state.encode()
}

#[test]
fn state_blob_is_a_length_prefixed_nice_plug_json_object_with_defaults() {
    let blob = fresh().save_state().unwrap();
    let declared = u64::from_le_bytes(blob[..8].try_into().unwrap());
    assert_eq!(declared as usize, blob.len() - 8, "little-endian length prefix");
    let state = NiceState::decode(&blob).unwrap();
    assert!(!state.version.is_empty());
    assert_eq!(
        state.params.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "bypass",
            "dry_wet",
            "envelope",
            "formant",
            "gate",
            "index_rate",
            "input_gain",
            "output_gain",
            "pitch",
            "protect",
            "voice_slot"
        ]
    );
    assert_eq!(state.f32_param("gate"), Some(-70.0));
    assert_eq!(state.f32_param("envelope"), Some(1.0));
    assert_eq!(state.f32_param("dry_wet"), Some(1.0));
    assert_eq!(state.f32_param("input_gain"), Some(1.0));
    assert_eq!(state.f32_param("output_gain"), Some(1.0));
    assert_eq!(state.f32_param("pitch"), Some(0.0));
    assert_eq!(state.f32_param("formant"), Some(0.0));
    assert_eq!(state.f32_param("index_rate"), Some(ConversionControls::DEFAULT_INDEX_RATE));
    assert_eq!(state.f32_param("protect"), Some(ConversionControls::DEFAULT_PROTECT));
    assert_eq!(state.bool_param("bypass"), Some(false));
    assert_eq!(state.i32_param("voice_slot"), Some(0), "slot 1");
    assert_eq!(
        state.fields.keys().map(String::as_str).collect::<Vec<_>>(),
        ["remote-engine", "stream", "tts-voice", "voice", "voice-library", "voice-slots"]
    );
    assert_eq!(state.voice().unwrap(), VoiceSelection::default());
    assert_eq!(state.other_voice_slots().unwrap(), vec![VoiceSelection::default(); 7], "slots 2 to 8, empty");
    assert_eq!(state.stream().unwrap(), StreamSettings::default());
}

#[test]
fn parameters_survive_save_then_load_into_a_fresh_instance() {
    let mut original = fresh();
    set_non_default_params(&mut original);
    let saved = state_of(&mut original);
    assert_eq!(saved.f32_param("dry_wet"), Some(0.25));
    assert_eq!(saved.f32_param("pitch"), Some(-7.5));
    assert_eq!(saved.f32_param("index_rate"), Some(0.4));
    assert_eq!(saved.f32_param("protect"), Some(0.25));
    assert_eq!(saved.bool_param("bypass"), Some(true));
    assert_eq!(saved.i32_param("voice_slot"), Some(4), "slot 5");

    let mut copy = fresh();
    copy.load_state(&saved.encode()).unwrap();
    assert_eq!(state_of(&mut copy), saved, "save -> load -> save");
    assert_eq!(param_values(&mut copy), param_values(&mut original), "what the host reads back");
}

#[test]
fn voice_paths_and_stream_settings_survive_save_then_load_into_a_fresh_instance() {
    let mut first = fresh();
    first.load_state(&crafted_state(&crafted_voice(), &crafted_stream())).unwrap();
    let saved = state_of(&mut first);
    assert_eq!(saved.voice().unwrap(), crafted_voice());
    assert_eq!(saved.stream().unwrap(), crafted_stream());

    let mut second = fresh();
    second.load_state(&saved.encode()).unwrap();
    assert_eq!(state_of(&mut second), saved);
}

/// A performer's set: a voice in each slot, and the slot that was playing, come back with the
/// project; the host names the Voice parameter's values after the slots' voices.
#[test]
fn voice_slots_survive_save_then_load_and_name_the_voice_parameter() {
    let voices: Vec<VoiceSelection> = (1..=8)
        .map(|n| VoiceSelection {
            synthesizer: (n != 4).then(|| PathBuf::from(format!("/home/me/voices/character {n}.onnx"))),
            ..crafted_voice()
        })
        .collect();
    let mut first = fresh();
    let mut state = state_of(&mut first);
    state.set_voice_slots(&voices);
    state.set_i32_param("voice_slot", 6);
    first.load_state(&state.encode()).unwrap();
    let saved = state_of(&mut first);
    assert_eq!(saved.voice().unwrap(), voices[0]);
    assert_eq!(saved.other_voice_slots().unwrap(), voices[1..]);
    assert_eq!(saved.i32_param("voice_slot"), Some(6));

    let mut second = fresh();
    second.load_state(&saved.encode()).unwrap();
    assert_eq!(state_of(&mut second), saved);
    let voice = second.param(ids::VOICE_SLOT.0).unwrap();
    // CLAP carries a stepped value as a float, through nice-plug's normalised one.
    assert_eq!(second.param_value(&voice).unwrap().round(), 6.0);
    assert_eq!(second.param_value_to_text(&voice, 2.0).unwrap(), "3 · character 3");
    assert_eq!(second.param_value_to_text(&voice, 3.0).unwrap(), "4 · empty");
    assert_eq!(second.param_text_to_value(&voice, "character 8").unwrap().round(), 7.0);
}

/// A project saved before there were slots (one voice, no Voice parameter) loaded into an instance
/// whose slots hold voices: the project's voice goes into slot 1, which plays, and the other slots
/// are emptied rather than keeping voices the project never had.
#[test]
fn a_project_from_before_slots_empties_the_other_slots_and_selects_slot_1() {
    let mut host = fresh();
    let mut state = state_of(&mut host);
    let voices: Vec<VoiceSelection> = (1..=8)
        .map(|n| VoiceSelection { synthesizer: Some(PathBuf::from(format!("/voices/v{n}.onnx"))), ..crafted_voice() })
        .collect();
    state.set_voice_slots(&voices);
    state.set_i32_param("voice_slot", 5);
    host.load_state(&state.encode()).unwrap();

    let mut old = state_of(&mut fresh());
    old.params.remove("voice_slot");
    old.fields.remove("voice-slots");
    old.set_voice(&crafted_voice());
    host.load_state(&old.encode()).unwrap();
    let loaded = state_of(&mut host);
    assert_eq!(loaded.voice().unwrap(), crafted_voice());
    assert_eq!(loaded.other_voice_slots().unwrap(), vec![VoiceSelection::default(); 7]);
    assert_eq!(loaded.i32_param("voice_slot"), Some(0));
}

#[test]
fn loading_a_state_asks_the_host_to_rescan_parameter_values() {
    let mut host = fresh();
    let before = host.host_calls().param_rescans;
    let mut other = fresh();
    set_non_default_params(&mut other);
    host.load_state(&other.save_state().unwrap()).unwrap();
    assert_eq!(host.host_calls().param_rescans, before + 1);
}

/// The stream settings set the latency, so a state loaded into a running instance keeps the old
/// latency (nice-plug does not re-activate on load) and the new one arrives with the next
/// activation, where the audio must follow it exactly.
#[test]
fn loaded_stream_settings_take_effect_at_the_next_activation() {
    let config = AudioConfig::new(48_000.0, 1024);
    let mut host = fresh();
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(config).unwrap();
    let old = host.latency().unwrap() as usize;
    assert_eq!(old, ExpectedLatency::defaults(48_000.0, 1024).total());

    host.load_state(&crafted_state(&VoiceSelection::default(), &crafted_stream())).unwrap();
    assert_eq!(host.latency().unwrap() as usize, old, "no change while still active");

    host.deactivate().unwrap();
    host.activate(config).unwrap();
    let new = host.latency().unwrap() as usize;
    let expected = ExpectedLatency::new(crafted_stream(), 48_000.0, 1024);
    assert_eq!(new, expected.total(), "terms: {expected:?}");
    assert_ne!(new, old);

    // No voice: each channel plays its own input, delayed by exactly the new latency.
    let x: Vec<f32> = signals::noise(48_000, 31, 0.5).into_iter().chain(std::iter::repeat_n(0.0, new)).collect();
    let input = with_noise_right(x, 131);
    let output = host.process_signal(&input, &mut RandomBlocks::new(31, 1024), Pace::Unpaced).unwrap();
    for ((channel, input), name) in output.iter().zip(&input).zip(["left", "right"]) {
        let expected_audio = signals::shifted(input, new, input.len());
        assert_audio_eq(channel, &expected_audio, EXACT, &format!("{name} with the loaded settings"));
    }
}

/// A hand-edited project can hold any numbers; the plugin clamps them into their ranges.
#[test]
fn out_of_range_stream_settings_are_clamped_into_a_usable_latency() {
    let wild = StreamSettings {
        block_ms: 5.0,
        crossfade_ms: 1e6,
        sola_search_ms: -3.0,
        worker_budget: 7.0,
        measured_budget: false,
    };
    let mut host = fresh();
    host.load_state(&crafted_state(&VoiceSelection::default(), &wild)).unwrap();
    host.activate(AudioConfig::new(48_000.0, 256)).unwrap();
    let clamped = StreamSettings {
        block_ms: 20.0,
        crossfade_ms: 150.0,
        sola_search_ms: 0.0,
        worker_budget: 1.0,
        measured_budget: false,
    };
    assert_eq!(host.latency().unwrap() as usize, ExpectedLatency::new(clamped, 48_000.0, 256).total());
}

/// Load `blob` into an instance with non-default parameters and voice; whether the plugin refuses
/// it or ignores it, nothing it had may change. Returns whether it was refused.
fn assert_garbage_changes_nothing(host: &mut PluginHost, blob: &[u8], what: &str) -> bool {
    let before = state_of(host);
    let refused = host.load_state(blob).is_err();
    assert_eq!(state_of(host), before, "{what} changed the state");
    refused
}

fn instance_with_settings() -> PluginHost {
    let mut host = fresh();
    host.load_state(&crafted_state(&crafted_voice(), &crafted_stream())).unwrap();
    set_non_default_params(&mut host);
    host
}

#[test]
fn an_empty_state_blob_is_refused_and_changes_nothing() {
    let mut host = instance_with_settings();
    assert!(assert_garbage_changes_nothing(&mut host, &[], "an empty blob"), "an empty blob was accepted");
}

#[test]
fn random_state_blobs_are_refused_and_change_nothing() {
    let mut host = instance_with_settings();
    let valid = host.save_state().unwrap();
    let mut refused = 0;
    let mut tried = 0;
    for seed in 0..6u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        for len in [1usize, 7, 8, 9, 64, 1000, 65_536] {
            let mut bytes = vec![0u8; len];
            rng.fill_bytes(&mut bytes);
            // Raw noise: the length prefix itself is garbage.
            refused += usize::from(assert_garbage_changes_nothing(&mut host, &bytes, "random bytes"));
            // A truthful length prefix, so the JSON parser gets to see the noise.
            let mut prefixed = (len as u64).to_le_bytes().to_vec();
            prefixed.extend(&bytes);
            refused += usize::from(assert_garbage_changes_nothing(&mut host, &prefixed, "length-prefixed noise"));
            tried += 2;
        }
        // A real state cut short, with its original and with a corrected length prefix.
        let cut = rng.random_range(9..valid.len() - 1);
        let mut truncated = valid[..cut].to_vec();
        refused += usize::from(assert_garbage_changes_nothing(&mut host, &truncated, "a truncated state"));
        truncated[..8].copy_from_slice(&((cut - 8) as u64).to_le_bytes());
        refused += usize::from(assert_garbage_changes_nothing(&mut host, &truncated, "truncated JSON"));
        tried += 2;
    }
    assert_eq!(refused, tried, "every malformed blob must be refused, not half-applied");

    // And the instance still works.
    host.activate(AudioConfig::new(48_000.0, 512)).unwrap();
    let out =
        host.process_signal(&left_only(signals::noise(4800, 1, 0.5)), &mut RandomBlocks::new(1, 512), Pace::Unpaced);
    assert!(out.is_ok());
}

/// Well-formed JSON with entries of the wrong shape: each bad entry is skipped on its own and the
/// parameters and fields it names keep their values; the good entries apply.
#[test]
fn state_entries_of_the_wrong_type_are_skipped_one_by_one() {
    let mut host = instance_with_settings();
    let before = state_of(&mut host);
    let mut odd = before.clone();
    odd.params.insert("dry_wet".into(), serde_json::json!({ "bool": true }));
    odd.params.insert("no_such_param".into(), serde_json::json!({ "f32": 1.0 }));
    odd.set_f32_param("pitch", 5.0);
    odd.fields.insert("voice".into(), "this is not JSON".into());
    odd.fields.insert("stream".into(), r#"{"block_ms": "fast"}"#.into());
    host.load_state(&odd.encode()).unwrap();

    let after = state_of(&mut host);
    assert_eq!(after.f32_param("pitch"), Some(5.0), "the well-formed entry applied");
    assert_eq!(after.f32_param("dry_wet"), before.f32_param("dry_wet"));
    assert_eq!(after.voice().unwrap(), crafted_voice());
    assert_eq!(after.stream().unwrap(), crafted_stream());
    assert!(!after.params.contains_key("no_such_param"));
}

#[test]
fn out_of_range_parameter_values_in_a_state_are_forced_into_range() {
    let mut state = state_of(&mut fresh());
    state.set_f32_param("dry_wet", 7.0);
    state.set_f32_param("output_gain", 1000.0);
    state.set_f32_param("pitch", -1e9);
    let mut host = fresh();
    host.load_state(&state.encode()).unwrap();

    let restored = state_of(&mut host);
    assert_eq!(restored.f32_param("dry_wet"), Some(1.0));
    let max_gain = 10f32.powf(24.0 / 20.0);
    assert!((restored.f32_param("output_gain").unwrap() - max_gain).abs() < 1e-3 * max_gain);
    assert_eq!(restored.f32_param("pitch"), Some(-24.0));

    // And the audio obeys the clamped values, not the saved ones.
    host.activate(AudioConfig::new(48_000.0, 512)).unwrap();
    let x = signals::sine(48_000, 48_000.0, 220.0, 0.5);
    let out = host.process_signal(&[x.clone(), x], &mut rvc_live_hosts::blocks::fixed(512), Pace::Unpaced).unwrap();
    let peak = out.iter().flatten().fold(0f32, |m, v| m.max(v.abs()));
    assert!(peak <= 0.5 * max_gain * 1.01, "peak {peak}");
}
