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
mod editor_window;
mod measured_budget;
pub mod meters;
pub mod params;
pub mod shared_state;
pub mod voice;
pub use rvc_live_engine::voice_library;
pub mod remote_engine;
pub mod remote_servers;
mod remote_slots;
pub mod voice_loader;
mod voice_processors;
pub mod voice_status;

use params::RvcLiveParams;
use rvc_live_engine::stream::{Stream, StreamGeometry, WorkerStall};
use rvc_live_engine::text_to_speech::{SpeechPlayback, SpeechThread};
use rvc_live_engine::{DryWetMixer, MixControls};
use rvc_live_engine::{RvcProcessor, SharedModels};
use rvc_live_engine::{injected_panic, panic_guard};
use shared_state::SharedState;
use voice::VOICE_SLOTS;
use voice_loader::{SlotWatch, VoiceLoader};
use voice_processors::VoiceProcessors;
use voice_status::VoiceState;

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
    /// Speaks the editor's Say box into the input; `None` if its thread could not start.
    _speaker: Option<SpeechThread>,
    speech: Option<SpeechPlayback>,
    geometry: StreamGeometry,
    mixer: DryWetMixer,
    mono: Vec<f32>,
    /// Speech for the current stretch of the host's buffer.
    spoken: Vec<f32>,
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
                let status = self.shared.voice_status.slot(self.shared.params.active_slot());
                status.set(VoiceState::Failed, format!("RVC Live could not start: {why}"));
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
        let local = RvcProcessor::stream_geometry(&settings, config.sample_rate, config.max_buffer_size);
        let offline = config.process_mode == ProcessMode::Offline;
        let active_slot = self.shared.params.active_slot();
        let remote = Some(self.shared.params.remote.read().clone()).filter(|r| r.enabled);
        let remote_start = remote.as_ref().map(|remote| {
            let params = self.shared.params.clone();
            remote_slots::start(remote, &settings, local, active_slot, offline, params, &self.shared.voice_status)
        });
        let geometry = remote_start.as_ref().map_or(local, |r| r.geometry);
        let voices = VoiceProcessors {
            params: self.shared.params.clone(),
            conversion: self.shared.conversion.clone(),
            statuses: self.shared.voice_status.clone(),
            geometry,
            settings,
            shared_models: Arc::new(SharedModels::default()),
            budgets: (settings.measured_budget && remote_start.is_none()).then(|| self.shared.budgets.clone()),
            beside_a_stream: false,
        };
        let (slots, loaded, load) = match remote_start {
            Some(start) => {
                let budget_us = start.budget.as_micros().min(u128::from(u32::MAX)) as u32;
                self.shared.remote.started(remote.clone(), start.links, budget_us);
                // The server's voices are named in the remote settings, which apply at the next
                // activation: the loader has nothing to load meanwhile.
                let current = (0..VOICE_SLOTS).map(|slot| Some(self.shared.params.voices.slot(slot).generation()));
                let nothing: voice_loader::LoadVoice = Box::new(|_| None);
                (start.slots, current.collect(), nothing)
            }
            None => {
                self.shared.remote.started(None, Vec::new(), 0);
                let (slots, loaded) = self.load_local_slots(&voices, active_slot, offline);
                (slots, loaded, voices.loader())
            }
        };
        // The voices loaded above were timed: a measured budget reserves what they need.
        let (geometry, budget_measured) = match &voices.budgets {
            Some(budgets) => budgets.reserve(&settings, geometry, !offline),
            None => {
                self.shared.budgets.reserve_fixed();
                (geometry, false)
            }
        };
        let started = Stream::start_with_slots(geometry, slots, active_slot, self.shared.stats.clone(), offline)
            .and_then(|(stream, swap)| {
                let params = self.shared.params.clone();
                let active = params.clone();
                let watch = SlotWatch {
                    generation: Arc::new(move |slot| params.voices.slot(slot).generation()),
                    active: Arc::new(move || active.active_slot()),
                };
                let loader = VoiceLoader::spawn(swap, watch, loaded, load)?;
                Ok((stream, loader))
            });
        let (stream, loader) = match started {
            Ok(started) => started,
            Err(e) => {
                nice_error!("RVC Live could not start its threads: {e}");
                return false;
            }
        };

        let (speaker, speech) = match SpeechThread::spawn(self.shared.speech.clone(), geometry.sample_rate) {
            Ok((speaker, speech)) => (Some(speaker), Some(speech)),
            Err(e) => {
                nice_warn!("RVC Live cannot speak text in this session: its thread did not start: {e}");
                (None, None)
            }
        };

        let channels = layout.main_output_channels.map_or(1, NonZeroU32::get) as usize;
        let scratch = geometry.max_host_buffer;
        self.active = Some(Active {
            _loader: loader,
            stream,
            _speaker: speaker,
            speech,
            geometry,
            mixer: DryWetMixer::new(channels, geometry.latency()),
            mono: vec![0.0; scratch],
            spoken: vec![0.0; scratch],
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
            "RVC Live active at {} Hz ({:?}): block {} ({:.0} ms), worker budget {} ({:.1} ms{}), latency {} samples ({:.1} ms)",
            geometry.sample_rate,
            config.process_mode,
            geometry.block,
            geometry.samples_to_ms(geometry.block),
            geometry.worker_budget,
            geometry.samples_to_ms(geometry.worker_budget),
            match (&remote, &voices.budgets, budget_measured) {
                (Some(_), _, _) => ", network",
                (None, Some(_), true) => ", measured",
                (None, Some(_), false) => ", the cap: no voice timed",
                (None, None, _) => "",
            },
            latency,
            geometry.samples_to_ms(latency)
        );
        true
    }

    /// Converting here: the selected slot's voice loads before the first block, so the stream
    /// converts from its first sample; offline, every slot's does, so that automation switching
    /// slots during a bounce finds each voice ready. The others load in the background. Returns
    /// the slots' processors and, per slot, the voice generation loaded (`None`: still to load).
    fn load_local_slots(
        &self,
        voices: &VoiceProcessors,
        active_slot: usize,
        offline: bool,
    ) -> (Vec<rvc_live_engine::stream::ProcessorBox>, Vec<Option<u64>>) {
        let mut slots = Vec::with_capacity(VOICE_SLOTS);
        let mut loaded = vec![None; VOICE_SLOTS];
        for (slot, loaded) in loaded.iter_mut().enumerate() {
            if slot != active_slot && !offline {
                slots.push(voices.dry());
                continue;
            }
            *loaded = Some(self.shared.params.voices.slot(slot).generation());
            let processor = match panic_guard::catch(|| {
                injected_panic::at(injected_panic::Site::Activate);
                voices.load(slot)
            }) {
                Ok(processor) => processor.unwrap_or_else(|| voices.dry()),
                Err(why) => voices.failed_with_panic(slot, &why),
            };
            // Tests slow the inference thread down through the environment (clap_realtime.rs).
            slots.push(WorkerStall::wrap_from_env(processor));
        }
        (slots, loaded)
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
        // The slot switches at the first block boundary from here on (see the engine's stream).
        self.stream.audio.select_voice(params.active_slot());

        let mut start = 0;
        while start < total {
            let n = (total - start).min(self.mono.len());
            // Text from the Say box joins the input on every channel: converted like the
            // microphone, and heard as it is where nothing converts.
            match self.speech.as_mut() {
                Some(speech) => {
                    speech.take(&mut self.spoken[..n]);
                }
                None => self.spoken[..n].fill(0.0),
            }
            for (i, mono) in self.mono[..n].iter_mut().enumerate() {
                let mut sum = 0.0;
                for channel in slices.iter_mut() {
                    let sample = &mut channel[start + i];
                    // Garbage from upstream must not reach the model or the host.
                    if !sample.is_finite() {
                        *sample = 0.0;
                    }
                    *sample += self.spoken[i];
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
