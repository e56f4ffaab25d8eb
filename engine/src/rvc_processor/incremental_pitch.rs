//! Pitch tracked block by block: each window is the previous one moved on by a block, so only
//! its newest frames are tracked again.

use crate::content_frames::SYNTH_HOP_16K;
use crate::model_error::ModelError;
use crate::pitch_tracker::PitchTracker;

/// Frames before a block whose f0 is tracked again with the block: their right-hand context was
/// cut off by the window's end last time.
const REFRESH_FRAMES: usize = 2;
/// Frames of context the tracker gets before those it tracks again, and whose f0 it discards.
const LEAD_FRAMES: usize = 4;

/// The voice's pitch tracker and the window's f0, kept from block to block.
///
/// Every frame but the newest was tracked the block before: those keep their f0 (moved along),
/// and only the block's frames plus [`REFRESH_FRAMES`] before them (whose right-hand context was
/// still missing) are tracked again, from [`LEAD_FRAMES`] further back for context. RVC's
/// real-time engine caches pitch the same way; with a pitch model this costs a fraction of
/// tracking the whole window.
pub(super) struct IncrementalPitch {
    tracker: Box<dyn PitchTracker>,
    /// The f0 of every frame of the window.
    f0: Vec<f32>,
    /// Scratch for the frames tracked this block.
    fresh: Vec<f32>,
    /// Whether `f0` holds the previous window's f0, one block behind this one.
    valid: bool,
    /// Off: track the whole window every block (the reference the cache is tested against).
    enabled: bool,
    block_frames: usize,
    /// Whether a block is a whole number of 10 ms frames at the host rate, so the window moves
    /// by whole frames and the kept f0 stays aligned.
    whole_frame_blocks: bool,
}

impl IncrementalPitch {
    pub fn new(
        tracker: Box<dyn PitchTracker>,
        window_frames: usize,
        block_frames: usize,
        whole_frame_blocks: bool,
    ) -> Self {
        Self {
            tracker,
            f0: vec![0.0; window_frames],
            fresh: vec![0.0; window_frames],
            valid: false,
            enabled: true,
            block_frames,
            whole_frame_blocks,
        }
    }

    /// The f0 of the window `audio` (16 kHz) holds, one per frame for its first `frames` frames.
    pub fn track(&mut self, audio: &[f32], frames: usize) -> Result<&[f32], ModelError> {
        let audio = &audio[..frames * SYNTH_HOP_16K];
        let fresh = self.block_frames + REFRESH_FRAMES;
        let span = fresh + LEAD_FRAMES;
        let cached = std::mem::replace(&mut self.valid, false);
        // The cache covers whole windows only: a short one (the warm-up) is tracked whole.
        let whole_window = frames == self.f0.len();
        if self.enabled && cached && whole_window && self.whole_frame_blocks && span < frames {
            self.f0.copy_within(self.block_frames..frames, 0);
            let start = (frames - span) * SYNTH_HOP_16K;
            self.tracker.track(&audio[start..], &mut self.fresh[..span])?;
            self.f0[frames - fresh..frames].copy_from_slice(&self.fresh[span - fresh..span]);
        } else {
            self.tracker.track(audio, &mut self.f0[..frames])?;
        }
        self.valid = true;
        Ok(&self.f0[..frames])
    }

    /// Track `audio` as a whole into `f0`, leaving the kept f0 alone: offline conversion.
    pub fn track_whole(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        self.tracker.track(audio, f0)
    }

    /// The window moved on without tracking (a gated block, a reset): the kept f0 is out of step.
    pub fn invalidate(&mut self) {
        self.valid = false;
    }

    /// Off: track the whole window every block.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        self.valid = false;
    }
}
