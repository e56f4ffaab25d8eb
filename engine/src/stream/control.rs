//! The handshake between the audio thread and the inference thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared by the audio thread (requests resets), the inference thread (acknowledges them) and the
/// main thread (stops the inference thread on deactivation).
#[derive(Default)]
pub struct StreamControl {
    /// Set by the main thread when the inference thread must exit.
    stop: AtomicBool,
    /// Bumped by the audio thread when both queues must be flushed (host reset, input overflow).
    /// The audio thread stops pushing until the inference thread has caught up with it.
    reset_requested: AtomicU64,
    /// The last reset the inference thread has carried out: it emptied its input queue, dropped its
    /// partial block and reset its processor, and will not push anything older afterwards.
    reset_done: AtomicU64,
    /// Set when the inference thread has ended, for whatever reason: nobody waits for it then.
    exited: AtomicBool,
}

impl StreamControl {
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub fn mark_exited(&self) {
        self.exited.store(true, Ordering::Release);
    }

    pub fn has_exited(&self) -> bool {
        self.exited.load(Ordering::Acquire)
    }

    /// Called by the audio thread after its last push of the old stream. Returns the new epoch.
    pub fn request_reset(&self) -> u64 {
        // Release: the inference thread that sees the new epoch also sees every sample pushed
        // before it, so it can drain them all.
        self.reset_requested.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub fn requested_reset(&self) -> u64 {
        self.reset_requested.load(Ordering::Acquire)
    }

    pub fn acknowledge_reset(&self, epoch: u64) {
        // Release: the audio thread that sees this also sees every converted sample pushed before
        // it, so draining its queue then removes all stale audio.
        self.reset_done.store(epoch, Ordering::Release);
    }

    pub fn reset_done(&self) -> u64 {
        self.reset_done.load(Ordering::Acquire)
    }
}
