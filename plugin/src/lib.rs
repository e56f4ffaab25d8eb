//! RVC Live: real-time RVC voice conversion as a CLAP and VST3 plugin.
//!
//! The audio thread only copies: host audio goes into a queue for the per-instance inference
//! thread, converted audio comes back out of another, and a latency-compensated mixer blends it
//! with the dry input. See [`rvc_live_engine::stream`] for the threading and the latency it adds up to.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

pub mod active_stream;
pub mod editor;
pub mod meters;
pub mod params;
pub mod shared_state;
pub mod voice;
pub mod voice_library;
pub mod voice_loader;
pub mod voice_status;

use params::RvcLiveParams;
use rvc_live_engine::dry_wet_mixer::{DryWetMixer, MixControls};
use rvc_live_engine::rvc_processor::{ConversionControls, ConversionStats, RvcProcessor};
use rvc_live_engine::stream::{DryProcessor, ProcessorBox, Stream, StreamGeometry, StreamSettings, WorkerStall};
use rvc_live_engine::{injected_panic, panic_guard};
use shared_state::SharedState;
use voice_loader::VoiceLoader;
use voice_status::{VoiceFacts, VoiceState, VoiceStatus};

/// Time for bypass to cross-fade between the processed and the delayed dry signal.
const BYPASS_FADE_SECONDS: f32 = 0.01;

#[derive(Default)]
pub struct RvcLive {
    /// What the audio, inference, loader, main and GUI threads share.
    shared: SharedState,
    /// Everything that exists only between `activate` and `deactivate`.
    active: Option<Active>,
}

/// The running stream and the audio thread's buffers, all sized in `activate`.
struct Active {
    /// Declared before the stream so it stops first: no voice is sent to a stopped stream.
    _loader: VoiceLoader,
    stream: Stream,
    geometry: StreamGeometry,
    mixer: DryWetMixer,
    mono: Vec<f32>,
    wet: Vec<f32>,
    wet_weight: Vec<f32>,
    /// 0 = active, 1 = bypassed; ramps so that toggling bypass does not click.
    bypass_mix: f32,
    bypass_step: f32,
    /// Set if `process` ever panicked: from then on only the latency-compensated dry signal plays.
    audio_fault: bool,
}

impl Plugin for RvcLive {
    const NAME: &'static str = "RVC Live";
    const VENDOR: &'static str = "RVC Live";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // Stereo first: several hosts only ever try the first layout.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = nice_plug_egui::EguiEditor<editor::RvcLiveEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.shared.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.shared.clone())
    }

    fn filter_state(state: &mut PluginState) {
        if let Err(why) = panic_guard::catch(|| params::sanitize_state(state)) {
            // Half-sanitised values must not be applied: the current settings stay.
            nice_error!("RVC Live refused a saved state after an internal error: {why}");
            state.params.clear();
            state.fields.clear();
        }
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        match panic_guard::catch(|| self.start(layout, config, context)) {
            Ok(started) => started,
            Err(why) => {
                nice_error!("RVC Live could not activate after an internal error: {why}");
                self.shared.voice_status.set(VoiceState::Failed, format!("RVC Live could not start: {why}"));
                self.active = None;
                false
            }
        }
    }

    fn reset(&mut self) {
        if let Some(active) = self.active.as_mut() {
            active.stream.audio.reset();
            active.mixer.reset();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(active) = self.active.as_mut() else {
            return ProcessStatus::Normal;
        };
        if !active.audio_fault {
            let (params, meters) = (&self.shared.params, &self.shared.meters);
            // Without a panic this neither allocates nor locks; with one, the buffer and the
            // stream are left as they were, and the next call starts the dry path.
            if panic_guard::catch(|| active.convert(buffer, params, meters)).is_err() {
                active.audio_fault = true;
            }
        }
        if active.audio_fault {
            active.play_dry(buffer);
        }
        // Converted audio is still queued for `latency` samples after the input goes quiet.
        ProcessStatus::Tail(active.geometry.latency() as u32)
    }

    fn deactivate(&mut self) {
        self.shared.active_stream.deactivated();
        if let Some(active) = self.active.take() {
            if active.audio_fault {
                nice_error!("RVC Live's audio processing panicked; the input played dry since");
            }
            self.log_stop(&active.geometry);
        }
    }
}

impl RvcLive {
    /// `activate`, with every panic caught by the caller.
    fn start(
        &mut self,
        layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // A host may activate twice in a row; the old inference thread is stopped first.
        self.active = None;

        let settings = *self.shared.params.stream.read();
        let geometry = RvcProcessor::stream_geometry(&settings, config.sample_rate, config.max_buffer_size);
        let voices = VoiceSource {
            params: self.shared.params.clone(),
            conversion: self.shared.conversion.clone(),
            status: self.shared.voice_status.clone(),
            geometry,
            settings,
        };
        // The saved voice loads before the first block, so an offline bounce converts from its
        // first sample; later selections load in the background.
        let generation = self.shared.params.voice.generation();
        let processor = match panic_guard::catch(|| {
            injected_panic::at(injected_panic::Site::Activate);
            voices.load()
        }) {
            Ok(loaded) => loaded.unwrap_or_else(|| voices.dry()),
            Err(why) => voices.failed_with_panic(&why),
        };
        let offline = config.process_mode == ProcessMode::Offline;
        let history = RvcProcessor::history_len(&geometry, &settings);
        // Tests slow the inference thread down through the environment (clap_realtime.rs).
        let processor = WorkerStall::wrap_from_env(processor);
        let started = Stream::start(geometry, processor, history, self.shared.stats.clone(), offline).and_then(
            |(stream, swap)| {
                let params = self.shared.params.clone();
                let loader =
                    VoiceLoader::spawn(swap, Arc::new(move || params.voice.generation()), generation, voices.loader())?;
                Ok((stream, loader))
            },
        );
        let (stream, loader) = match started {
            Ok(started) => started,
            Err(e) => {
                nice_error!("RVC Live could not start its threads: {e}");
                return false;
            }
        };

        let channels = layout.main_output_channels.map_or(1, NonZeroU32::get) as usize;
        let scratch = geometry.max_host_buffer;
        self.active = Some(Active {
            _loader: loader,
            stream,
            geometry,
            mixer: DryWetMixer::new(channels, geometry.latency()),
            mono: vec![0.0; scratch],
            wet: vec![0.0; scratch],
            wet_weight: vec![0.0; scratch],
            bypass_mix: if self.shared.params.bypass.value() { 1.0 } else { 0.0 },
            bypass_step: 1.0 / (BYPASS_FADE_SECONDS * config.sample_rate).max(1.0),
            audio_fault: false,
        });

        let latency = geometry.latency();
        context.set_latency_samples(latency as u32);
        self.shared.active_stream.activated(&geometry, config.max_buffer_size, settings);
        nice_log!(
            "RVC Live active at {} Hz ({:?}): block {} ({:.0} ms), latency {} samples ({:.1} ms)",
            geometry.sample_rate,
            config.process_mode,
            geometry.block,
            geometry.samples_to_ms(geometry.block),
            latency,
            geometry.samples_to_ms(latency)
        );
        true
    }

    fn log_stop(&self, geometry: &StreamGeometry) {
        use std::sync::atomic::Ordering::Relaxed;
        let block_ms = geometry.samples_to_ms(geometry.block);
        let stats = &self.shared.stats;
        let peak = stats.peak_load();
        // A percentile is a bucket's upper edge, which can lie above the worst block itself.
        let ms = |load: Option<f32>| f64::from(load.unwrap_or(0.0).min(peak)) * block_ms;
        nice_log!(
            "RVC Live stopped: {} blocks, block compute p50 {:.1} ms p99 {:.1} ms max {:.1} ms (budget {:.1} ms), {} underruns ({} samples from the fallback), {} overflows, {} failed conversions, {} gated, {} voice swaps",
            stats.blocks.load(Relaxed),
            ms(stats.loads.quantile(0.5)),
            ms(stats.loads.quantile(0.99)),
            ms(Some(peak)),
            geometry.samples_to_ms(geometry.worker_budget),
            stats.underruns.load(Relaxed),
            stats.fallback_samples.load(Relaxed),
            stats.overflows.load(Relaxed),
            self.shared.conversion.failed.swap(0, Relaxed),
            self.shared.conversion.gated.swap(0, Relaxed),
            stats.swaps.load(Relaxed)
        );
    }
}

impl Active {
    /// The audio thread's work: mono into the stream, converted audio out, mixed with each
    /// channel's latency-compensated dry input.
    fn convert(&mut self, buffer: &mut Buffer, params: &RvcLiveParams, meters: &meters::LevelMeters) {
        let channels = buffer.channels().max(1);
        let total = buffer.samples();
        let slices = buffer.as_slice();
        let bypass_target = if params.bypass.value() { 1.0 } else { 0.0 };

        let mut start = 0;
        while start < total {
            let n = (total - start).min(self.mono.len());
            for (i, mono) in self.mono[..n].iter_mut().enumerate() {
                let mut sum = 0.0;
                for channel in slices.iter_mut() {
                    let sample = &mut channel[start + i];
                    // Garbage from upstream must not reach the model or the host.
                    if !sample.is_finite() {
                        *sample = 0.0;
                    }
                    sum += *sample;
                }
                *mono = sum / channels as f32 * params.input_gain.smoothed.next();
            }

            meters.input.raise(self.mono[..n].iter().fold(0.0, |m, x| m.max(x.abs())));
            self.stream.audio.process(&self.mono[..n], &mut self.wet[..n], &mut self.wet_weight[..n]);

            for i in 0..n {
                self.bypass_mix += (bypass_target - self.bypass_mix).clamp(-self.bypass_step, self.bypass_step);
                let controls = MixControls {
                    dry_wet: params.dry_wet.smoothed.next(),
                    output_gain: params.output_gain.smoothed.next(),
                    bypass: self.bypass_mix,
                };
                self.mixer.process_frame(
                    slices.iter_mut().map(|channel| &mut channel[start + i]),
                    self.wet[i],
                    self.wet_weight[i],
                    controls,
                );
            }
            start += n;
        }
        for channel in slices.iter() {
            meters.output.raise(channel[..total].iter().fold(0.0, |m, x| m.max(x.abs())));
        }
    }

    /// After a panic on the audio thread: each channel's input, delayed by the latency the host
    /// compensates, and nothing else.
    fn play_dry(&mut self, buffer: &mut Buffer) {
        let total = buffer.samples();
        let slices = buffer.as_slice();
        let dry = MixControls { dry_wet: 0.0, output_gain: 1.0, bypass: 1.0 };
        for i in 0..total {
            for channel in slices.iter_mut() {
                if !channel[i].is_finite() {
                    channel[i] = 0.0;
                }
            }
            self.mixer.process_frame(slices.iter_mut().map(|channel| &mut channel[i]), 0.0, 0.0, dry);
        }
    }
}

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
struct VoiceSource {
    params: Arc<RvcLiveParams>,
    conversion: Arc<ConversionStats>,
    status: Arc<VoiceStatus>,
    geometry: StreamGeometry,
    settings: StreamSettings,
}

impl VoiceSource {
    /// Passes every channel through as it came in, with the conversion's timing.
    fn dry(&self) -> ProcessorBox {
        Box::new(DryProcessor::new(self.geometry.processor_delay(), self.geometry.crossfade))
    }

    /// Loading the voice panicked: say so, and play the input through.
    fn failed_with_panic(&self, why: &str) -> ProcessorBox {
        let message = format!("Could not load the voice after an internal error: {why}");
        nice_error!("RVC Live {message}");
        self.status.set(VoiceState::Failed, message);
        self.dry()
    }

    /// The processor for the chosen voice: the RVC conversion, or the dry processor (every
    /// channel passes through) when no voice model is chosen. `None` when the voice cannot be loaded: the reason goes to the log and
    /// the status, and whatever plays now should keep playing.
    fn load(&self) -> Option<ProcessorBox> {
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
            gate_db: params.gate.value(),
            envelope: params.envelope.value(),
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
                };
                let message = format!("Loaded {}: {}", synthesizer.display(), facts.summary());
                nice_log!("RVC Live {message}");
                self.status.set_facts(Some(facts));
                self.status.set(VoiceState::Loaded, message);
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
    fn loader(&self) -> voice_loader::LoadVoice {
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

    fn source(params: Arc<RvcLiveParams>) -> VoiceSource {
        let settings = StreamSettings::default();
        VoiceSource {
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

impl ClapPlugin for RvcLive {
    const CLAP_ID: &'static str = "org.rvc-live.voice-conversion";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Real-time RVC voice conversion");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::AudioEffect, ClapFeature::Stereo, ClapFeature::Mono, ClapFeature::PitchShifter];
}

impl Vst3Plugin for RvcLive {
    const VST3_CLASS_ID: [u8; 16] = *b"RvcLiveVoiceConv";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx, Vst3SubCategory::PitchShift];
}

nice_export_clap!(RvcLive);
nice_export_vst3!(RvcLive);
