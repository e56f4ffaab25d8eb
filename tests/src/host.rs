//! A headless CLAP host for one plugin instance: load, configure, activate, process planar `f32`
//! audio in any sequence of buffer sizes, optionally at the real audio rate, and drive parameters
//! and state the way a DAW does.
//!
//! Everything runs on the calling thread, which acts as both main and audio thread; the plugin's
//! own threads (its inference thread) run as they would in a DAW.

use std::ffi::CString;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, ensure};
use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_extensions::tail::{PluginTail, TailLength};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

use crate::handlers::{HostAudioThread, HostCalls, HostMainThread, HostShared, TestHost};
use crate::params::{ParamDescriptor, nice_plug_param_hash};

/// Sample rate and buffer-size bounds passed to `activate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioConfig {
    pub sample_rate: f64,
    pub min_frames: u32,
    pub max_frames: u32,
}

impl AudioConfig {
    /// Any buffer size from 1 up to `max_frames`, as hosts with variable buffers announce.
    pub fn new(sample_rate: f64, max_frames: u32) -> Self {
        Self { sample_rate, min_frames: 1, max_frames }
    }
}

/// Whether calls are made as fast as possible or at the rate audio arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As fast as the host can go: a bounce, or a test that does not care about time.
    Unpaced,
    /// Each call happens once its last input sample would have arrived from an audio interface,
    /// counting from the first paced call since activation.
    RealTime,
}

/// Extensions the plugin offers, queried once after instantiation.
#[derive(Clone, Copy)]
struct Extensions {
    latency: Option<PluginLatency>,
    params: Option<PluginParams>,
    state: Option<PluginState>,
    render: Option<PluginRender>,
    audio_ports: Option<PluginAudioPorts>,
    audio_ports_config: Option<PluginAudioPortsConfig>,
    tail: Option<PluginTail>,
}

/// What exists only while the plugin is active.
struct Active {
    /// Must be handed back through `deactivate` (also on drop): clack leaks the instance if the
    /// processor outlives it.
    processor: StartedPluginAudioProcessor<TestHost>,
    config: AudioConfig,
    /// clack borrows input channels mutably; copying into these keeps the caller's signal intact.
    inputs: Vec<Vec<f32>>,
    outputs: Vec<Vec<f32>>,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    events_in: EventBuffer,
    events_out: EventBuffer,
    steady_time: u64,
    clock: Option<(Instant, u64)>,
}

/// One loaded, instantiated plugin.
pub struct PluginHost {
    active: Option<Active>,
    instance: PluginInstance<TestHost>,
    ext: Extensions,
    /// Kept alive for as long as the instance: it owns the loaded library.
    _entry: PluginEntry,
    path: PathBuf,
    input_channels: usize,
    output_channels: usize,
    /// Parameter changes waiting for the next `process` call (CLAP sends them in-band while
    /// processing).
    pending: Vec<ParamValueEvent>,
    last_status: Option<ProcessStatus>,
    calls: u64,
    /// The longest single `process` call, to catch a plugin that blocks.
    longest_call: Duration,
    /// Every `process` call's duration, when a benchmark asks for them.
    call_times: Option<Vec<Duration>>,
}

/// Every bundle stays loaded until the process exits, as in a DAW: loading and unloading the library
/// for each of dozens of parallel tests only exercises the dynamic loader, and a crash while
/// unloading would hide which test ran.
fn loaded_entry(path: &Path) -> anyhow::Result<PluginEntry> {
    static ENTRIES: std::sync::Mutex<Vec<(std::path::PathBuf, PluginEntry)>> = std::sync::Mutex::new(Vec::new());
    let mut entries = ENTRIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, entry)) = entries.iter().find(|(p, _)| p == path) {
        return Ok(entry.clone());
    }
    // SAFETY: loading a library runs its initialisers; the plugin under test is ours, and this is
    // exactly what every CLAP host does.
    let entry = unsafe { PluginEntry::load(path) }.with_context(|| format!("loading {}", path.display()))?;
    entries.push((path.to_path_buf(), entry.clone()));
    Ok(entry)
}

impl PluginHost {
    /// Load the bundle at `path` and instantiate its first plugin.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let entry = loaded_entry(path)?;
        let factory = entry.get_plugin_factory().context("the bundle has no plugin factory")?;
        let descriptor = factory.plugin_descriptors().next().context("the bundle declares no plugin")?;
        let id = CString::from(descriptor.id().context("the first plugin has no id")?);
        let info = HostInfo::new("rvc_live_hosts", "RVC Live tests", "https://example.invalid", "0.1.0")?;
        let mut instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |shared| HostMainThread::new(shared),
            &entry,
            &id,
            &info,
        )
        .map_err(|e| anyhow!("instantiating {id:?}: {e}"))?;
        let handle = instance.plugin_handle();
        let ext = Extensions {
            latency: handle.get_extension(),
            params: handle.get_extension(),
            state: handle.get_extension(),
            render: handle.get_extension(),
            audio_ports: handle.get_extension(),
            audio_ports_config: handle.get_extension(),
            tail: handle.get_extension(),
        };
        let mut host = Self {
            active: None,
            instance,
            ext,
            _entry: entry,
            path: path.to_path_buf(),
            input_channels: 0,
            output_channels: 0,
            pending: Vec::new(),
            last_status: None,
            calls: 0,
            longest_call: Duration::ZERO,
            call_times: None,
        };
        host.read_port_channels()?;
        host.pump_main_thread();
        Ok(host)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn input_channels(&self) -> usize {
        self.input_channels
    }

    pub fn output_channels(&self) -> usize {
        self.output_channels
    }

    /// What the plugin has asked of the host so far.
    pub fn host_calls(&self) -> HostCalls {
        self.instance.access_shared_handler(|h| h.calls())
    }

    /// Run `on_main_thread` if the plugin asked for it, as a host's event loop would. nice-plug
    /// delivers latency changes and parameter rescans this way.
    pub fn pump_main_thread(&mut self) {
        while self.instance.access_shared_handler(|h| h.take_callback_request()) {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// The audio-ports configurations on offer, as `(id, input channels, output channels)`.
    pub fn layouts(&mut self) -> anyhow::Result<Vec<(ClapId, u32, u32)>> {
        let ext = self.ext.audio_ports_config.context("the plugin has no audio-ports-config extension")?;
        let handle = self.instance.plugin_handle();
        let mut buffer = AudioPortsConfigBuffer::new();
        let mut layouts = Vec::new();
        for index in 0..ext.count(&handle) {
            let config = ext.get(&handle, index, &mut buffer).context("reading an audio-ports config")?;
            let channels =
                |p: Option<clack_extensions::audio_ports_config::MainPortInfo>| p.map_or(0, |p| p.channel_count);
            layouts.push((config.id, channels(config.main_input), channels(config.main_output)));
        }
        Ok(layouts)
    }

    /// Select the layout with `channels` main input and output channels. Only while inactive.
    pub fn select_layout(&mut self, channels: u32) -> anyhow::Result<()> {
        ensure!(self.active.is_none(), "a layout can only be selected while the plugin is inactive");
        let layouts = self.layouts()?;
        let &(id, ..) = layouts
            .iter()
            .find(|&&(_, i, o)| i == channels && o == channels)
            .with_context(|| format!("no {channels}-in/{channels}-out layout among {layouts:?}"))?;
        let ext = self.ext.audio_ports_config.expect("checked by layouts()");
        ext.select(&self.instance.plugin_handle(), id).map_err(|e| anyhow!("selecting layout {id:?}: {e:?}"))?;
        self.read_port_channels()
    }

    fn read_port_channels(&mut self) -> anyhow::Result<()> {
        let ext = self.ext.audio_ports.context("the plugin has no audio-ports extension")?;
        let handle = self.instance.plugin_handle();
        let mut buffer = AudioPortInfoBuffer::new();
        let mut main_channels = |is_input: bool| -> anyhow::Result<usize> {
            ensure!(ext.count(&handle, is_input) == 1, "expected exactly one main port per direction");
            let info = ext.get(&handle, 0, is_input, &mut buffer).context("reading the main port")?;
            Ok(info.channel_count as usize)
        };
        self.input_channels = main_channels(true)?;
        self.output_channels = main_channels(false)?;
        Ok(())
    }

    /// Tell the plugin whether it renders in real time or offline. Only while inactive: nice-plug
    /// reads the mode in `activate`.
    pub fn set_render_mode(&mut self, mode: RenderMode) -> anyhow::Result<()> {
        let ext = self.ext.render.context("the plugin has no render extension")?;
        ext.set(&self.instance.plugin_handle(), mode).map_err(|e| anyhow!("setting render mode {mode:?}: {e}"))
    }

    /// Activate and start processing, as a host does before its first audio callback.
    pub fn activate(&mut self, config: AudioConfig) -> anyhow::Result<()> {
        ensure!(self.active.is_none(), "already active");
        let stopped = self
            .instance
            .activate(
                |shared, _| HostAudioThread::new(shared),
                PluginAudioConfiguration {
                    sample_rate: config.sample_rate,
                    min_frames_count: config.min_frames,
                    max_frames_count: config.max_frames,
                },
            )
            .map_err(|e| anyhow!("activate at {config:?}: {e}"))?;
        let processor = stopped.start_processing().map_err(|e| anyhow!("start_processing: {e}"))?;
        let max = config.max_frames as usize;
        self.active = Some(Active {
            processor,
            config,
            inputs: vec![vec![0.0; max]; self.input_channels],
            outputs: vec![vec![0.0; max]; self.output_channels],
            input_ports: AudioPorts::with_capacity(self.input_channels, 1),
            output_ports: AudioPorts::with_capacity(self.output_channels, 1),
            events_in: EventBuffer::with_capacity(64),
            events_out: EventBuffer::with_capacity(64),
            steady_time: 0,
            clock: None,
        });
        self.pump_main_thread();
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    pub fn config(&self) -> Option<AudioConfig> {
        self.active.as_ref().map(|a| a.config)
    }

    /// Stop processing and deactivate.
    pub fn deactivate(&mut self) -> anyhow::Result<()> {
        let active = self.active.take().context("not active")?;
        let stopped = active.processor.stop_processing();
        self.instance.deactivate(stopped);
        self.pump_main_thread();
        Ok(())
    }

    /// The latency the plugin reports through the CLAP latency extension.
    pub fn latency(&mut self) -> anyhow::Result<u32> {
        let ext = self.ext.latency.context("the plugin has no latency extension")?;
        Ok(ext.get(&self.instance.plugin_handle()))
    }

    /// The tail the plugin reports through the CLAP tail extension (audio thread, so only while
    /// active).
    pub fn tail(&mut self) -> anyhow::Result<TailLength> {
        let ext = self.ext.tail.context("the plugin has no tail extension")?;
        let active = self.active.as_mut().context("the tail is only queried while active")?;
        Ok(ext.get(&active.processor.plugin_handle()))
    }

    /// The status the last `process` call returned.
    pub fn last_status(&self) -> Option<ProcessStatus> {
        self.last_status
    }

    /// `process` calls made since loading.
    pub fn process_calls(&self) -> u64 {
        self.calls
    }

    /// The longest time a single `process` call took since loading.
    /// Start recording the duration of every `process` call.
    pub fn record_call_times(&mut self) {
        self.call_times = Some(Vec::new());
    }

    /// The durations recorded since [`Self::record_call_times`].
    pub fn call_times(&self) -> &[Duration] {
        self.call_times.as_deref().unwrap_or_default()
    }

    pub fn longest_process_call(&self) -> Duration {
        self.longest_call
    }

    /// A transport jump: `clap_plugin::reset` on the audio thread.
    pub fn reset(&mut self) -> anyhow::Result<()> {
        self.active.as_mut().context("reset needs an active plugin")?.processor.reset();
        Ok(())
    }

    // ---- parameters ----

    fn params_ext(&self) -> anyhow::Result<PluginParams> {
        self.ext.params.context("the plugin has no params extension")
    }

    pub fn params(&mut self) -> anyhow::Result<Vec<ParamDescriptor>> {
        let ext = self.params_ext()?;
        let handle = self.instance.plugin_handle();
        let mut buffer = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .map(|i| {
                let info = ext.get_info(&handle, i, &mut buffer).with_context(|| format!("param info {i}"))?;
                Ok(ParamDescriptor::from_info(&info))
            })
            .collect()
    }

    /// The parameter nice-plug declared as `#[id = "<nice_id>"]`.
    pub fn param(&mut self, nice_id: &str) -> anyhow::Result<ParamDescriptor> {
        let hash = nice_plug_param_hash(nice_id);
        self.params()?
            .into_iter()
            .find(|p| p.id.get() == hash)
            .with_context(|| format!("no parameter with nice-plug id {nice_id:?} (CLAP id {hash})"))
    }

    /// The current CLAP value of a parameter.
    pub fn param_value(&mut self, param: &ParamDescriptor) -> anyhow::Result<f64> {
        self.params_ext()?
            .get_value(&self.instance.plugin_handle(), param.id)
            .with_context(|| format!("reading {:?}", param.name))
    }

    /// The plugin's own text for a CLAP value, e.g. "-6.0 dB".
    pub fn param_value_to_text(&mut self, param: &ParamDescriptor, value: f64) -> anyhow::Result<String> {
        let mut buffer = [0u8; 256];
        let text = self
            .params_ext()?
            .value_to_text(&self.instance.plugin_handle(), param.id, value, &mut buffer)
            .map_err(|_| anyhow!("{:?} cannot show {value}", param.name))?;
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    /// The CLAP value the plugin parses from `text`, so tests can ask for "-6 dB" rather than
    /// knowing the parameter's skew.
    pub fn param_text_to_value(&mut self, param: &ParamDescriptor, text: &str) -> anyhow::Result<f64> {
        let text_c = CString::new(text)?;
        self.params_ext()?
            .text_to_value(&self.instance.plugin_handle(), param.id, &text_c)
            .with_context(|| format!("{:?} cannot parse {text:?}", param.name))
    }

    /// Change a parameter as a host automation lane would: in the next `process` call while
    /// active, through `flush` while inactive.
    pub fn set_param(&mut self, param: &ParamDescriptor, value: f64) -> anyhow::Result<()> {
        let event = ParamValueEvent::new(0, param.id, Pckn::match_all(), value);
        if self.active.is_some() {
            self.pending.push(event);
            return Ok(());
        }
        let ext = self.params_ext()?;
        let mut events_in = EventBuffer::new();
        events_in.push(&event);
        let mut events_out = EventBuffer::new();
        let mut handle = self.instance.inactive_plugin_handle().context("the plugin is inactive")?;
        ext.flush(&mut handle, &InputEvents::from_buffer(&events_in), &mut OutputEvents::from_buffer(&mut events_out));
        self.pump_main_thread();
        Ok(())
    }

    // ---- state ----

    pub fn save_state(&mut self) -> anyhow::Result<Vec<u8>> {
        let ext = self.ext.state.context("the plugin has no state extension")?;
        let mut blob = Vec::new();
        ext.save(&self.instance.plugin_handle(), &mut blob).map_err(|e| anyhow!("saving state: {e}"))?;
        Ok(blob)
    }

    /// Load a state blob; `Err` when the plugin refuses it.
    pub fn load_state(&mut self, blob: &[u8]) -> anyhow::Result<()> {
        let ext = self.ext.state.context("the plugin has no state extension")?;
        let result = ext.load(&self.instance.plugin_handle(), &mut Cursor::new(blob));
        self.pump_main_thread();
        result.map_err(|e| anyhow!("the plugin refused the state: {e}"))
    }

    // ---- audio ----

    /// One `process` call on `input` (one slice per input channel, all the same length, at most
    /// `max_frames`), writing into `output` (one slice per output channel).
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> anyhow::Result<ProcessStatus> {
        let active = self.active.as_mut().context("process needs an active plugin")?;
        let n = input.first().map_or(0, |c| c.len());
        ensure!(
            input.len() == self.input_channels,
            "{} input channels given, {} expected",
            input.len(),
            self.input_channels
        );
        ensure!(
            output.len() == self.output_channels,
            "{} output channels, {} expected",
            output.len(),
            self.output_channels
        );
        ensure!(input.iter().all(|c| c.len() == n) && output.iter().all(|c| c.len() == n), "ragged buffers");
        ensure!(
            n >= 1 && n <= active.config.max_frames as usize,
            "{n} frames is outside 1..={}",
            active.config.max_frames
        );

        for (scratch, channel) in active.inputs.iter_mut().zip(input) {
            scratch[..n].copy_from_slice(channel);
        }
        active.events_in.clear();
        for event in self.pending.drain(..) {
            active.events_in.push(&event);
        }
        active.events_out.clear();

        let audio_in = active.input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                active.inputs.iter_mut().map(|c| InputChannel::variable(&mut c[..n])),
            ),
        }]);
        let mut audio_out = active.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(active.outputs.iter_mut().map(|c| &mut c[..n])),
        }]);
        let started = Instant::now();
        let status = active
            .processor
            .process(
                &audio_in,
                &mut audio_out,
                &InputEvents::from_buffer(&active.events_in),
                &mut OutputEvents::from_buffer(&mut active.events_out),
                Some(active.steady_time),
                None,
            )
            .map_err(|e| anyhow!("process: {e}"))?;
        let took = started.elapsed();
        self.longest_call = self.longest_call.max(took);
        if let Some(times) = self.call_times.as_mut() {
            times.push(took);
        }
        active.steady_time += n as u64;
        for (channel, scratch) in output.iter_mut().zip(&active.outputs) {
            channel.copy_from_slice(&scratch[..n]);
        }
        self.last_status = Some(status);
        self.calls += 1;
        Ok(status)
    }

    /// Process a whole signal (one `Vec` per input channel), cutting it into calls of the sizes
    /// `blocks` yields (the last one shortened to fit), and return the output channels.
    pub fn process_signal(
        &mut self,
        input: &[Vec<f32>],
        blocks: &mut dyn Iterator<Item = usize>,
        pace: Pace,
    ) -> anyhow::Result<Vec<Vec<f32>>> {
        let len = input.first().map_or(0, Vec::len);
        let mut output = vec![vec![0.0; len]; self.output_channels];
        let mut start = 0;
        while start < len {
            let n = blocks.next().context("the block-size sequence ran out")?.min(len - start);
            if pace == Pace::RealTime {
                self.wait_for_real_time(n)?;
            }
            let ins: Vec<&[f32]> = input.iter().map(|c| &c[start..start + n]).collect();
            let mut outs: Vec<&mut [f32]> = output.iter_mut().map(|c| &mut c[start..start + n]).collect();
            self.process(&ins, &mut outs)?;
            start += n;
        }
        Ok(output)
    }

    /// Sleep until the next `n` samples would have arrived from an audio interface.
    fn wait_for_real_time(&mut self, n: usize) -> anyhow::Result<()> {
        let active = self.active.as_mut().context("pacing needs an active plugin")?;
        let rate = active.config.sample_rate;
        let (start, samples) = active.clock.get_or_insert_with(|| (Instant::now(), 0));
        *samples += n as u64;
        let due = *start + Duration::from_secs_f64(*samples as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        Ok(())
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        if self.active.is_some() {
            // Deactivating joins the plugin's inference thread; leaking it would let the thread
            // outlive the test that made it.
            let _ = self.deactivate();
        }
    }
}
