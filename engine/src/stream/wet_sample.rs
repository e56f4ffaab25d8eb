//! One output slot on its way from the inference thread to the audio thread.

/// The converted signal, already multiplied by `weight`, and how much of the slot it fills; the
/// rest is the dry input (see [`super::BlockProcessor`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WetSample {
    pub signal: f32,
    pub weight: f32,
}

impl WetSample {
    /// Converted silence: what the stream holds before its first block.
    pub const SILENCE: Self = Self { signal: 0.0, weight: 1.0 };
}
