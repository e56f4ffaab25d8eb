//! The RVC conversion pipeline's units. Each is allocation-free once built, so the inference
//! thread can run them per block.

pub mod calibration_voice;
pub mod content_encoder;
pub mod content_encoder_format;
pub mod content_frames;
pub mod denoiser;
pub mod f0;
pub mod int8;
pub mod mel;
pub mod model_error;
pub mod model_file;
pub mod model_output;
pub mod model_signature;
pub mod noise;
pub mod pitch_model;
pub mod pitch_tracker;
pub mod resampler;
pub mod rmvpe;
pub mod rvc_processor;
pub mod sola;
pub mod synthesizer;
pub mod synthesizer_format;
pub mod yin;
