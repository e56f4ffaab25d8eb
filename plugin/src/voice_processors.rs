//! Building the block processor for the chosen voice: the RVC conversion, or the dry processor
//! when no voice is chosen or it cannot load, with what happened told to the log and the editor.

use std::sync::Arc;

use nice_plug::prelude::*;
use rvc_live_engine::stream::{DryProcessor, ProcessorBox, StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};
use rvc_live_engine::{injected_panic, panic_guard};

use crate::params::RvcLiveParams;
use crate::voice_loader;
use crate::voice_status::{VoiceFacts, VoiceState, VoiceStatus};

/// ONNX Runtime threads per model: half the machine's cores, leaving the rest to the host and its
/// other plugins (on two cores, one thread, so the models never contend with the audio thread),
/// and at most four, beyond which a block's small tensors stop scaling.
fn model_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (cores / 2).clamp(1, 4)
}

/// Everything needed to build the block processor for the chosen voice, on the main thread at
/// activation or on the voice loader's thread later.
#[derive(Clone)]
pub struct VoiceProcessors {
    pub params: Arc<RvcLiveParams>,
    pub conversion: Arc<ConversionStats>,
    pub status: Arc<VoiceStatus>,
    pub geometry: StreamGeometry,
    pub settings: StreamSettings,
}

impl VoiceProcessors {
    /// Passes every channel through as it came in, with the conversion's timing.
    pub fn dry(&self) -> ProcessorBox {
        Box::new(DryProcessor::new(self.geometry.processor_delay(), self.geometry.crossfade))
    }

    /// Loading the voice panicked: say so, and play the input through.
    pub fn failed_with_panic(&self, why: &str) -> ProcessorBox {
        let message = format!("Could not load the voice after an internal error: {why}");
        nice_error!("RVC Live {message}");
        self.status.set(VoiceState::Failed, message);
        self.dry()
    }

    /// The processor for the chosen voice: the RVC conversion, or the dry processor (every
    /// channel passes through) when no voice model is chosen. `None` when the voice cannot be loaded: the reason goes to the log and
    /// the status, and whatever plays now should keep playing.
    pub fn load(&self) -> Option<ProcessorBox> {
        let voice = self.params.voice.get();
        let Some(synthesizer) = voice.synthesizer.clone() else {
            self.status.set(VoiceState::NoVoice, "No voice chosen: the input plays through");
            self.status.set_facts(None);
            return Some(self.dry());
        };
        self.status.set(VoiceState::Loading, format!("Loading {}", synthesizer.display()));
        let params = self.params.clone();
        let controls = Arc::new(move || ConversionControls {
            semitones: params.pitch.value(),
            formant: params.formant.value(),
            gate_db: params.gate.value(),
            envelope: params.envelope.value(),
            index_rate: params.index_rate.value(),
            protect: params.protect.value(),
        });
        match RvcProcessor::load(
            &voice,
            &self.geometry,
            &self.settings,
            controls,
            self.conversion.clone(),
            model_threads(),
        ) {
            Ok(processor) => {
                let synth = processor.synthesizer();
                let facts = VoiceFacts {
                    synthesizer: synthesizer.clone(),
                    format: *synth.format(),
                    sample_rate: synth.sample_rate(),
                    int8: processor.precision().synthesizer.is_int8(),
                    index_vectors: processor.retrieval().map(|r| r.index().len()),
                };
                let loaded = format!("Loaded {}: {}", synthesizer.display(), facts.summary());
                self.status.set_facts(Some(facts));
                match (processor.index_problem(), &voice.index) {
                    (Some(problem), Some(index)) => {
                        let message = format!("{loaded}. Without its index {}: {problem}", index.display());
                        nice_warn!("RVC Live {message}");
                        self.status.set(VoiceState::LoadedWithoutIndex, message);
                    }
                    _ => {
                        nice_log!("RVC Live {loaded}");
                        self.status.set(VoiceState::Loaded, loaded);
                    }
                }
                Some(Box::new(processor))
            }
            Err(e) => {
                let message = format!("Could not load the voice {}: {e}", synthesizer.display());
                nice_error!("RVC Live {message}");
                self.status.set(VoiceState::Failed, message);
                None
            }
        }
    }

    /// What the voice loader runs for each new selection. A panic while loading leaves what plays
    /// playing, like any voice that cannot load.
    pub fn loader(&self) -> voice_loader::LoadVoice {
        let source = self.clone();
        Box::new(move || {
            let loaded = panic_guard::catch(|| {
                injected_panic::at(injected_panic::Site::Loader);
                source.load()
            });
            loaded.unwrap_or_else(|why| {
                let message = format!("Could not load the voice after an internal error: {why}");
                nice_error!("RVC Live {message}");
                source.status.set(VoiceState::Failed, message);
                None
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use nice_plug::params::persist::PersistentField;

    use super::*;
    use crate::voice::VoiceSelection;

    fn source(params: Arc<RvcLiveParams>) -> VoiceProcessors {
        let settings = StreamSettings::default();
        VoiceProcessors {
            params,
            conversion: Arc::new(ConversionStats::default()),
            status: Arc::new(VoiceStatus::default()),
            geometry: RvcProcessor::stream_geometry(&settings, 48_000.0, 512),
            settings,
        }
    }

    /// A project restored after its voice file moved: the banner names the file and says why,
    /// nothing is swapped in (what plays keeps playing), and the chosen path stays as it was.
    #[test]
    fn a_missing_voice_file_is_reported_for_the_banner_and_kept() {
        let params = Arc::new(RvcLiveParams::default());
        let missing = std::path::PathBuf::from("/nonexistent/project/voices/alto.onnx");
        let selection = VoiceSelection {
            synthesizer: Some(missing.clone()),
            content_encoder: Some("/nonexistent/project/voices/contentvec.onnx".into()),
            ..Default::default()
        };
        params.voice.set(selection.clone());
        let voices = source(params.clone());
        assert!(voices.load().is_none(), "a voice that cannot load must not replace what plays");
        let (state, message) = (voices.status.state(), voices.status.message());
        assert_eq!(state, VoiceState::Failed);
        assert!(message.starts_with("Could not load the voice /nonexistent/project/voices/alto.onnx"), "{message}");
        assert!(message.contains("does not exist"), "{message}");
        assert_eq!(params.voice.get(), selection, "the user's choice is kept for when the file is back");
    }

    #[test]
    fn no_voice_plays_the_input_through_and_says_so() {
        let voices = source(Arc::new(RvcLiveParams::default()));
        let processor = voices.load().expect("the identity");
        assert_eq!(processor.delay(), voices.geometry.processor_delay());
        assert_eq!(voices.status.state(), VoiceState::NoVoice);
        assert!(voices.status.message().contains("input plays through"));
    }
}
