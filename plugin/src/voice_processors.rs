//! Building the block processor for a voice slot: the RVC conversion of its voice, or the dry
//! processor when the slot has no voice or it cannot load, with what happened told to the log and
//! the editor.

use std::sync::Arc;

use nice_plug::prelude::*;
use rvc_live_engine::stream::{DryProcessor, ProcessorBox, StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionStats, RvcProcessor, SharedModels, UNCONVERTED_BLOCK};
use rvc_live_engine::{injected_panic, panic_guard};

use crate::measured_budget::{MeasuredBudgets, Timing};
use crate::params::{RvcLiveParams, controls_source};
use crate::voice_loader;
use crate::voice_status::{VoiceFacts, VoiceState, VoiceStatus, VoiceStatuses};

/// ONNX Runtime threads per model: half the machine's cores, leaving the rest to the host and its
/// other plugins (on two cores, one thread, so the models never contend with the audio thread),
/// and at most four, beyond which a block's small tensors stop scaling.
fn model_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (cores / 2).clamp(1, 4)
}

/// Everything needed to build the block processor for a slot's voice, on the main thread at
/// activation or on the voice loader's thread later.
#[derive(Clone)]
pub struct VoiceProcessors {
    pub params: Arc<RvcLiveParams>,
    pub conversion: Arc<ConversionStats>,
    pub statuses: Arc<VoiceStatuses>,
    pub geometry: StreamGeometry,
    pub settings: StreamSettings,
    /// The content encoder and pitch model the stream's voices share.
    pub shared_models: Arc<SharedModels>,
    /// Where each voice's block, timed as it loads, goes when the stream's worker budget is
    /// measured; `None` when it is not (nothing is timed then).
    pub budgets: Option<Arc<MeasuredBudgets>>,
    /// Loading beside a stream that converts (the voice loader), not alone in `activate`.
    pub beside_a_stream: bool,
}

/// The process's resident memory in bytes, where the system says.
fn resident_memory() -> Option<u64> {
    memory_stats::memory_stats().map(|stats| stats.physical_mem as u64)
}

impl VoiceProcessors {
    /// Passes every channel through as it came in, with the conversion's timing.
    pub fn dry(&self) -> ProcessorBox {
        Box::new(DryProcessor::new(self.geometry.processor_delay(), self.geometry.crossfade))
    }

    fn status(&self, slot: usize) -> &VoiceStatus {
        self.statuses.slot(slot)
    }

    /// Loading slot `slot`'s voice panicked: say so, and play the input through.
    pub fn failed_with_panic(&self, slot: usize, why: &str) -> ProcessorBox {
        let message = format!("Could not load the voice after an internal error: {why}");
        nice_error!("RVC Live (voice slot {}) {message}", slot + 1);
        self.params.voices.slot(slot).set_failed(true);
        self.status(slot).set(VoiceState::Failed, message);
        self.dry()
    }

    /// The processor for slot `slot`'s voice: the RVC conversion, or the dry processor (every
    /// channel passes through) when the slot has no voice model. `None` when the voice cannot be
    /// loaded: the reason goes to the log and the slot's status, and whatever the slot holds now
    /// should stay.
    pub fn load(&self, slot: usize) -> Option<ProcessorBox> {
        let persisted = self.params.voices.slot(slot);
        let voice = persisted.get();
        let status = self.status(slot);
        let Some(synthesizer) = voice.synthesizer.clone() else {
            persisted.set_failed(false);
            status.set(VoiceState::NoVoice, "No voice chosen: the input plays through");
            status.set_facts(None);
            return Some(self.dry());
        };
        status.set(VoiceState::Loading, format!("Loading {}", synthesizer.display()));
        let controls = controls_source(self.params.clone());
        let memory_before = resident_memory();
        match RvcProcessor::load_sharing(
            &voice,
            &self.geometry,
            &self.settings,
            controls,
            self.conversion.clone(),
            model_threads(),
            &self.shared_models,
        ) {
            Ok(mut processor) => {
                persisted.set_failed(false);
                // Timed once per voice and settings (again, alone, if first timed beside a
                // stream), after the memory is counted: the blocks' buffers are the processor's.
                let block_compute =
                    self.budgets.as_ref().map(|budgets| match budgets.timed(&self.settings, &self.geometry, &voice) {
                        Some(timed) if !timed.provisional || self.beside_a_stream => timed.compute,
                        _ => {
                            let compute = processor.time_block(&self.geometry).unwrap_or(UNCONVERTED_BLOCK);
                            let timing = Timing { compute, provisional: self.beside_a_stream };
                            budgets.record(&self.settings, &self.geometry, &voice, timing);
                            compute
                        }
                    });
                let added_memory =
                    memory_before.zip(resident_memory()).map(|(before, after)| after.saturating_sub(before));
                let synth = processor.synthesizer();
                let facts = VoiceFacts {
                    synthesizer: synthesizer.clone(),
                    format: *synth.format(),
                    sample_rate: synth.sample_rate(),
                    int8: processor.precision().synthesizer.is_int8(),
                    index_vectors: processor.retrieval().map(|r| r.index().len()),
                    added_memory,
                    block_compute,
                };
                let loaded = format!("Loaded {}: {}", synthesizer.display(), facts.summary());
                status.set_facts(Some(facts));
                match (processor.index_problem(), &voice.index) {
                    (Some(problem), Some(index)) => {
                        let message = format!("{loaded}. Without its index {}: {problem}", index.display());
                        nice_warn!("RVC Live (voice slot {}) {message}", slot + 1);
                        status.set(VoiceState::LoadedWithoutIndex, message);
                    }
                    _ => {
                        nice_log!("RVC Live (voice slot {}) {loaded}", slot + 1);
                        status.set(VoiceState::Loaded, loaded);
                    }
                }
                Some(Box::new(processor))
            }
            Err(e) => {
                let message = format!("Could not load the voice {}: {e}", synthesizer.display());
                nice_error!("RVC Live (voice slot {}) {message}", slot + 1);
                persisted.set_failed(true);
                status.set(VoiceState::Failed, message);
                None
            }
        }
    }

    /// What the voice loader runs for each new selection. A panic while loading leaves what the
    /// slot holds, like any voice that cannot load.
    pub fn loader(&self) -> voice_loader::LoadVoice {
        let source = Self { beside_a_stream: true, ..self.clone() };
        Box::new(move |slot| {
            let loaded = panic_guard::catch(|| {
                injected_panic::at(injected_panic::Site::Loader);
                source.load(slot)
            });
            loaded.unwrap_or_else(|why| {
                let message = format!("Could not load the voice after an internal error: {why}");
                nice_error!("RVC Live (voice slot {}) {message}", slot + 1);
                source.params.voices.slot(slot).set_failed(true);
                source.status(slot).set(VoiceState::Failed, message);
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
            statuses: Arc::new(VoiceStatuses::default()),
            geometry: RvcProcessor::stream_geometry(&settings, 48_000.0, 512),
            settings,
            shared_models: Arc::new(SharedModels::default()),
            budgets: None,
            beside_a_stream: false,
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
        params.voices.slot(2).set(selection.clone());
        let voices = source(params.clone());
        assert!(voices.load(2).is_none(), "a voice that cannot load must not replace what plays");
        let (state, message) = (voices.status(2).state(), voices.status(2).message());
        assert_eq!(state, VoiceState::Failed);
        assert!(message.starts_with("Could not load the voice /nonexistent/project/voices/alto.onnx"), "{message}");
        assert!(message.contains("does not exist"), "{message}");
        assert_eq!(params.voices.slot(2).get(), selection, "the user's choice is kept for when the file is back");
        assert_eq!(voices.status(0).state(), VoiceState::NoVoice, "the other slots are untouched");
    }

    #[test]
    fn no_voice_plays_the_input_through_and_says_so() {
        let voices = source(Arc::new(RvcLiveParams::default()));
        let processor = voices.load(0).expect("the identity");
        assert_eq!(processor.delay(), voices.geometry.processor_delay());
        assert_eq!(voices.status(0).state(), VoiceState::NoVoice);
        assert!(voices.status(0).message().contains("input plays through"));
    }
}
