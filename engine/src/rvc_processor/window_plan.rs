//! How a conversion window is laid out in 10 ms frames.

use crate::stream::{StreamGeometry, StreamSettings};

/// How many 10 ms frames a conversion window holds, and what they are for.
pub(super) struct WindowPlan {
    pub block_frames: usize,
    /// Left context: converted for its influence on the newest frames, not played.
    pub context_frames: usize,
    /// The SOLA margin and the block: the frames the synthesizer renders.
    pub render_frames: usize,
    pub window_frames: usize,
    /// The window's length at the host rate.
    pub window_host: usize,
}

impl WindowPlan {
    pub fn new(geometry: &StreamGeometry, settings: &StreamSettings) -> Self {
        let frame_host = f64::from(geometry.sample_rate) / 100.0;
        let block_frames = (geometry.block as f64 / frame_host).round().max(1.0) as usize;
        // Enough frames to cover the crossfade and search; one more where they are not whole
        // frames at the host rate, so rounding can never leave the SOLA short of samples.
        let margin = crossfade_and_search(geometry) as f64 / frame_host;
        let whole_frames = frame_host.fract() == 0.0 && margin.fract() == 0.0;
        let margin_frames = margin.ceil() as usize + usize::from(!whole_frames);
        let context_frames = (f64::from(settings.clamped().context_ms) / 10.0).round() as usize;
        let render_frames = margin_frames + block_frames;
        let window_frames = context_frames + render_frames;
        let window_host = (window_frames as f64 * frame_host).round() as usize;
        Self { block_frames, context_frames, render_frames, window_frames, window_host }
    }
}

/// Samples SOLA holds back: its crossfade and its search range.
pub(super) fn crossfade_and_search(geometry: &StreamGeometry) -> usize {
    geometry.crossfade + geometry.sola_search
}
