//! Sizes of everything the stream holds, derived once per activation, and the latency they add up
//! to. The audio thread's output is the converted input delayed by exactly
//! [`StreamGeometry::latency`] samples, which is what the plugin reports to the host.

use super::settings::StreamSettings;

/// Length of the crossfade between the converted signal and the dry fallback when the inference
/// thread is late or catches up again.
pub const FALLBACK_FADE_SECONDS: f64 = 0.005;

/// Every length is in samples at the host's sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamGeometry {
    pub sample_rate: u32,
    /// Samples the inference thread converts per call.
    pub block: usize,
    /// Crossfade joining consecutive converted blocks.
    pub crossfade: usize,
    /// SOLA search range.
    pub sola_search: usize,
    /// Time reserved for the inference thread to convert one block.
    pub worker_budget: usize,
    /// The largest host buffer. A block is only complete once the host call carrying its last
    /// sample returns, and its result is needed by the first call that plays it: one buffer of
    /// adaptation.
    pub max_host_buffer: usize,
    /// Crossfade to and from the dry fallback. The latency keeps this many converted samples
    /// queued beyond the current host buffer, so a late block is noticed while there is still
    /// converted audio left to fade out of.
    pub fallback_fade: usize,
    /// Delay the block processor adds: the tail it holds back for SOLA's search and crossfade,
    /// plus whatever runs before the conversion (input denoise). Set from the processor.
    processor_delay: usize,
    /// Input the processor converts each block from, context included. Set from the processor.
    processor_window: usize,
}

impl StreamGeometry {
    /// Blocks are whole frames of this length: the content encoder, pitch trackers and
    /// synthesizer all step at 100 frames per second.
    pub const FRAME_MS: f32 = 10.0;

    pub fn new(settings: StreamSettings, sample_rate: f32, max_host_buffer: u32) -> Self {
        let settings = settings.clamped();
        let sr = f64::from(sample_rate.max(1.0));
        let ms = |v: f32| (f64::from(v) * sr / 1000.0).round() as usize;
        let frames = (settings.block_ms / Self::FRAME_MS).round().max(1.0);
        let block = ms(frames * Self::FRAME_MS).max(1);
        let (crossfade, sola_search) = (ms(settings.crossfade_ms), ms(settings.sola_search_ms));
        Self {
            sample_rate: sr.round() as u32,
            block,
            crossfade,
            sola_search,
            processor_delay: crossfade + sola_search,
            processor_window: block,
            worker_budget: ((block as f64) * f64::from(settings.worker_budget)).ceil() as usize,
            max_host_buffer: max_host_buffer.max(1) as usize,
            fallback_fade: ((FALLBACK_FADE_SECONDS * sr).round() as usize).max(1),
        }
    }

    /// Delay added by the block processor itself. By default the tail a converting processor
    /// holds back for the next block's SOLA search and crossfade.
    pub fn processor_delay(&self) -> usize {
        self.processor_delay
    }

    /// The same geometry for a processor that delays by `delay` (it must be at least the SOLA
    /// holdback, which every converting processor has).
    pub fn with_processor_delay(self, delay: usize) -> Self {
        Self { processor_delay: delay, ..self }
    }

    /// The same geometry with `samples` reserved for each block's conversion instead of the
    /// settings' fraction of a block: a remote engine's measured network budget.
    pub fn with_worker_budget(self, samples: usize) -> Self {
        Self { worker_budget: samples, ..self }
    }

    /// The same geometry for a processor that converts each block from `window` samples of input.
    pub fn with_processor_window(self, window: usize) -> Self {
        Self { processor_window: window, ..self }
    }

    /// Samples of input the stream keeps (see [`super::InputHistory`]): the processor's window,
    /// and at least a block and the processor's delay, which a processor that only delays reads.
    pub fn history(&self) -> usize {
        self.processor_window.max(self.block + self.processor_delay)
    }

    /// The plugin's total latency in samples.
    ///
    /// A host call covering samples `[t, t + n)` happens once they have all arrived. The block
    /// holding input sample `s` is complete after at most `block - 1` more samples, reaches the
    /// inference thread at the end of the host call carrying that last sample (at most
    /// `max_host_buffer` later), and is converted within `worker_budget`. Output slot `s + latency`
    /// is played by a call that starts at or after it, and that call also wants `fallback_fade`
    /// converted samples beyond its own end. Adding up: `block + max_host_buffer + worker_budget +
    /// fallback_fade` suffices (two samples to spare), plus what the processor holds back.
    pub fn latency(&self) -> usize {
        self.block + self.max_host_buffer + self.worker_budget + self.fallback_fade + self.processor_delay()
    }

    /// Capacity of the queue carrying host audio to the inference thread. Several blocks of slack
    /// let a stalled thread recover without the audio thread dropping input.
    pub fn input_queue_capacity(&self) -> usize {
        4 * (self.block + self.max_host_buffer)
    }

    /// Capacity of the queue carrying converted audio back. It holds up to the whole latency
    /// (primed with silence at activation) plus a block that lands early.
    pub fn output_queue_capacity(&self) -> usize {
        2 * (self.latency() + self.block + self.max_host_buffer)
    }

    pub fn samples_to_ms(&self, samples: usize) -> f64 {
        samples as f64 * 1000.0 / f64::from(self.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_rounded_to_whole_ten_millisecond_frames() {
        let s = StreamSettings { block_ms: 204.0, ..Default::default() };
        assert_eq!(StreamGeometry::new(s, 48_000.0, 512).block, 9600);
        assert_eq!(StreamGeometry::new(s, 44_100.0, 512).block, 8820);
        let tiny = StreamSettings { block_ms: 1.0, ..Default::default() };
        assert_eq!(StreamGeometry::new(tiny, 48_000.0, 512).block, 960, "clamped to 20 ms");
    }

    #[test]
    fn latency_adds_every_term() {
        let s = StreamSettings {
            block_ms: 100.0,
            crossfade_ms: 20.0,
            sola_search_ms: 10.0,
            worker_budget: 0.5,
            ..Default::default()
        };
        let g = StreamGeometry::new(s, 48_000.0, 256);
        assert_eq!(g.block, 4800);
        assert_eq!(g.worker_budget, 2400);
        assert_eq!(g.processor_delay(), 960 + 480);
        assert_eq!(g.fallback_fade, 240);
        assert_eq!(g.latency(), 4800 + 256 + 2400 + 240 + 1440);
    }

    #[test]
    fn odd_sample_rates_give_usable_geometry() {
        for sr in [8_000.0, 11_025.0, 22_050.0, 192_000.0] {
            let g = StreamGeometry::new(StreamSettings::default(), sr, 1);
            assert!(g.block > 0 && g.fallback_fade > 0);
            assert!(g.output_queue_capacity() > g.latency());
        }
    }
}
