//! A small headless CLAP host for testing RVC Live, and the measurements the tests make with it.
//!
//! [`host::PluginHost`] drives one plugin instance; [`scenarios`] are the runs that tests share
//! with the `rvc-live-host` binary, which executes them in a process of their own when a test needs
//! environment variables or must survive an abort.

pub mod analysis;
pub mod ardour;
pub mod ardour_state;
pub mod audio_thread_bench;
pub mod blocks;
pub mod faults;
pub mod fft;
pub mod fixtures;
pub mod handlers;
pub mod host;
pub mod latency;
pub mod params;
pub mod plugin_paths;
pub mod scenarios;
pub mod soak;
pub mod state;
pub mod subprocess;
pub mod voice_slots;
pub mod voice_swaps;
pub mod wav;

pub use clack_extensions::render::RenderMode;
pub use host::{AudioConfig, Pace, PluginHost};
pub use rvc_live_test_support::signals;
