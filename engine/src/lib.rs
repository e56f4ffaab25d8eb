//! The RVC Live engine: real-time RVC voice conversion without a plugin framework. The plugin,
//! the command-line tool (`rvc-live`) and the benchmark runner (`rvc-live-bench`) all drive it.
//!
//! - [`stream`]: the queues between a real-time audio thread and the per-instance inference
//!   thread, the stream's geometry and the latency it adds up to.
//! - [`RvcProcessor`]: the conversion pipeline the inference thread runs on each block, built from
//!   model runners and DSP units (one per module, private behind the items re-exported here).
//! - [`onnx_runtime`] and [`execution_provider`]: loading ONNX Runtime and choosing where models
//!   run.
//! - [`text_to_speech`]: text spoken by a Piper voice, to feed the engine speech from text.
//!
//! It logs through `tracing`, the facade the plugin framework's logger listens to; a front end
//! without a subscriber logs nothing.

// The engine's parts, one concept per file. Front ends use the items re-exported below; the
// modules stay public only where their free functions and constants are the interface: the
// stream, ONNX Runtime and execution providers, panic handling, and the DSP steps the tests check
// against RVC's own code (framing, pitch post-processing, RMVPE, its log-mel, format detection).
pub mod built_model_cache;
mod calibration_voice;
mod content_encoder;
pub mod content_encoder_format;
pub mod content_frames;
mod delay_line;
mod denoiser;
mod dry_wet_mixer;
pub mod execution_provider;
pub mod f0;
pub mod formant;
pub mod graph_template;
mod graph_templates;
pub mod hubert_checkpoint;
pub mod injected_panic;
pub mod int8;
pub mod mel;
mod model_error;
mod model_file;
mod model_output;
mod model_signature;
mod noise;
pub mod onnx_runtime;
pub mod panic_guard;
mod pitch_model;
mod pitch_tracker;
pub mod remote;
mod resampler;
mod retrieval_index;
pub mod rmvpe;
pub mod rmvpe_checkpoint;
mod rvc_processor;
mod shared_models;
mod sola;
pub mod stream;
mod synthesizer;
pub mod synthesizer_format;
pub mod text_to_speech;
pub mod torch_checkpoint;
pub mod voice_checkpoint;
pub mod voice_graph;
pub mod voice_library;
pub mod voice_pack;
mod voice_selection;
mod yin;

pub use content_encoder_format::ContentEncoderFormat;
pub use denoiser::DenoiserError;
pub use dry_wet_mixer::{DryWetMixer, MixControls};
pub use int8::{Int8Error, return_to_system as return_freed_memory};
pub use model_error::{BadValues, ModelError, ModelRole};
pub use model_file::ModelFile;
pub use onnx_runtime::{RuntimeError, SessionError};
pub use pitch_model::{PitchDecoding, PitchModel};
pub use pitch_tracker::PitchTracker;
pub use resampler::{ResampleError, ResamplerSetupError};
pub use retrieval_index::{
    IndexFileError, IvfFlatIndex, NEIGHBOURS, Neighbours, PROTECT_OFF, Retrieval, SearchScratch, protect_unvoiced,
};
pub use rmvpe::{Rmvpe, RmvpeForm};
pub use rvc_processor::{
    ControlSource, ConversionControls, ConversionStats, ModelPrecision, Precision, RvcProcessor, Stage,
    UNCONVERTED_BLOCK,
};
pub use shared_models::SharedModels;
pub use sola::Sola;
pub use synthesizer::{DecodeRange, Synthesizer};
pub use synthesizer_format::{ExportConvention, ModelVersion, SynthesizerFormat};
pub use voice_selection::VoiceSelection;
pub use yin::Yin;
