//! Input and output levels for the editor's meters, passed from the audio thread without locks.

use std::sync::atomic::{AtomicU32, Ordering};

/// A peak level as `f32` bits. The audio thread raises it; the editor takes it (resetting it to
/// zero) once per frame, so each reading is the peak since the last one.
#[derive(Default)]
pub struct PeakMeter(AtomicU32);

impl PeakMeter {
    /// Called by the audio thread with the peak of a buffer. Wait-free: a plain load and store,
    /// because only the audio thread raises the value and a reading lost to a race with `take`
    /// is replaced by the next buffer's a few milliseconds later.
    #[inline]
    pub fn raise(&self, peak: f32) {
        if peak > f32::from_bits(self.0.load(Ordering::Relaxed)) {
            self.0.store(peak.to_bits(), Ordering::Relaxed);
        }
    }

    /// Called by the editor: the peak since the last call.
    pub fn take(&self) -> f32 {
        f32::from_bits(self.0.swap(0, Ordering::Relaxed))
    }
}

/// Written by the audio thread, read by the editor.
#[derive(Default)]
pub struct LevelMeters {
    /// The mono mix going to the voice, after the input gain.
    pub input: PeakMeter,
    /// What the plugin outputs, after the mixer and output gain (loudest channel).
    pub output: PeakMeter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_the_peak_since_the_last_one() {
        let meter = PeakMeter::default();
        meter.raise(0.25);
        meter.raise(0.5);
        meter.raise(0.125);
        assert_eq!(meter.take(), 0.5);
        assert_eq!(meter.take(), 0.0);
        meter.raise(0.75);
        assert_eq!(meter.take(), 0.75);
    }
}
