//! The RVC Live engine: real-time RVC voice conversion without a plugin framework. The plugin,
//! the command-line tool (`rvc-live`) and the benchmark runner (`rvc-live-bench`) all drive it.
//!
//! - [`stream`]: the queues between a real-time audio thread and the per-instance inference
//!   thread, the stream's geometry and the latency it adds up to.
//! - [`rvc_processor`]: the conversion pipeline the inference thread runs on each block, and the
//!   model runners and DSP units it is built from (one per module).
//! - [`onnx_runtime`] and [`execution_provider`]: loading ONNX Runtime and choosing where models
//!   run.
//!
//! It logs through `tracing`, the facade the plugin framework's logger listens to; a front end
//! without a subscriber logs nothing.

pub mod calibration_voice;
pub mod content_encoder;
pub mod content_encoder_format;
pub mod content_frames;
pub mod delay_line;
pub mod denoiser;
pub mod dry_wet_mixer;
pub mod execution_provider;
pub mod f0;
pub mod injected_panic;
pub mod int8;
pub mod mel;
pub mod model_error;
pub mod model_file;
pub mod model_output;
pub mod model_signature;
pub mod noise;
pub mod onnx_runtime;
pub mod panic_guard;
pub mod pitch_model;
pub mod pitch_tracker;
pub mod resampler;
pub mod rmvpe;
pub mod rvc_processor;
pub mod sola;
pub mod stream;
pub mod synthesizer;
pub mod synthesizer_format;
mod voice_selection;
pub mod yin;

pub use voice_selection::VoiceSelection;
