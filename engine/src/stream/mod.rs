//! The stream between the audio thread and the per-instance inference thread.
//!
//! The audio thread pushes host audio into one `rtrb` queue and pops converted audio from another;
//! the inference thread converts whole blocks in between. [`StreamGeometry`] sizes both and adds up
//! the latency the plugin reports.

mod audio_end;
pub mod block_processor;
mod control;
pub mod geometry;
mod inference_thread;
mod input_history;
mod load_histogram;
pub mod settings;
mod stalling_processor;
pub mod stats;
mod voice_marks;
mod voice_swapper;
mod wet_sample;
pub mod worker_budget;

use std::sync::Arc;

pub use audio_end::AudioEnd;
pub use block_processor::{BlockProcessor, DryProcessor, IdentityProcessor};
pub use geometry::StreamGeometry;
pub use inference_thread::InferenceThread;
pub use input_history::InputHistory;
pub use settings::StreamSettings;
pub use stalling_processor::WorkerStall;
pub use stats::StreamStats;
pub use voice_swapper::{ProcessorBox, ProcessorSwap, SlotProcessor, VoiceSwapper};
pub use wet_sample::WetSample;

use control::StreamControl;

/// Both ends of a running stream. Built in `activate`, dropped in `deactivate` (which stops and
/// joins the inference thread off the audio thread).
pub struct Stream {
    pub audio: AudioEnd,
    /// Kept for its `Drop`, which stops the thread.
    _inference: InferenceThread,
}

impl Stream {
    /// Start the inference thread with `processor`, the stream's one voice slot. Returns the
    /// stream and the queues new voices go in through (and replaced ones come back out of), for
    /// the voice loader.
    pub fn start(
        geometry: StreamGeometry,
        processor: ProcessorBox,
        stats: Arc<StreamStats>,
        offline: bool,
    ) -> std::io::Result<(Self, ProcessorSwap)> {
        Self::start_with_slots(geometry, vec![processor], 0, stats, offline)
    }

    /// Start the inference thread with a processor in each voice slot, slot `active` converting;
    /// the audio end switches slots with [`AudioEnd::select_voice`]. Every processor must delay by
    /// the geometry's processor delay.
    pub fn start_with_slots(
        geometry: StreamGeometry,
        slots: Vec<ProcessorBox>,
        active: usize,
        stats: Arc<StreamStats>,
        offline: bool,
    ) -> std::io::Result<(Self, ProcessorSwap)> {
        if slots.is_empty() {
            return Err(std::io::Error::other("a stream needs at least one voice slot"));
        }
        if let Some(processor) = slots.iter().find(|p| p.delay() != geometry.processor_delay()) {
            return Err(std::io::Error::other(format!(
                "the processor delays by {} samples where the latency counts {}",
                processor.delay(),
                geometry.processor_delay()
            )));
        }
        let processor_delay = geometry.processor_delay();
        let (to_worker, worker_input) = rtrb::RingBuffer::new(geometry.input_queue_capacity());
        let (mut worker_output, from_worker) = rtrb::RingBuffer::new(geometry.output_queue_capacity());
        // The first output slots hold audio from before the stream started: silence. The processor
        // delays by its own holdback, so priming covers the rest of the latency.
        let priming = geometry.latency() - processor_delay;
        let chunk = worker_output
            .write_chunk_uninit(priming)
            .map_err(|_| std::io::Error::other("the output queue cannot hold the latency"))?;
        chunk.fill_from_iter(std::iter::repeat(WetSample::SILENCE));

        let control = Arc::new(StreamControl::default());
        stats.reset();
        let active = active.min(slots.len() - 1);
        let (marks_out, marks_in) = voice_marks::voice_marks(active);
        let (inference, swap) = InferenceThread::spawn(
            geometry,
            slots,
            active,
            worker_input,
            marks_in,
            worker_output,
            control.clone(),
            stats.clone(),
        )?;
        let stream = Self {
            audio: AudioEnd::new(geometry, to_worker, from_worker, marks_out, control, stats, offline),
            _inference: inference,
        };
        Ok((stream, swap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running stream with the real inference thread and the identity processor, in offline
    /// mode (the audio end waits for the thread), for host buffers of up to `max_buffer`.
    fn offline_identity_stream(max_buffer: u32) -> (Stream, ProcessorSwap, StreamGeometry) {
        let settings = StreamSettings {
            block_ms: 30.0,
            crossfade_ms: 10.0,
            sola_search_ms: 5.0,
            worker_budget: 0.5,
            ..Default::default()
        };
        let geometry = StreamGeometry::new(settings, 16_000.0, max_buffer);
        let processor = Box::new(IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade));
        let (stream, swap) = Stream::start(geometry, processor, Arc::new(StreamStats::default()), true).unwrap();
        (stream, swap, geometry)
    }

    /// Offline, the output is exactly the input delayed by the latency, whatever the host buffers.
    #[test]
    fn a_running_stream_delays_by_exactly_its_latency() {
        let (mut stream, _swap, geometry) = offline_identity_stream(100);
        let latency = geometry.latency();
        let total = 3 * latency;
        let input: Vec<f32> = (0..total).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 + 0.001).collect();
        let (mut wet, mut weight) = (vec![0.0; total], vec![0.0; total]);
        let mut start = 0;
        for size in [100, 83, 66, 1, 100].into_iter().cycle() {
            let end = (start + size).min(total);
            stream.audio.process(&input[start..end], &mut wet[start..end], &mut weight[start..end]);
            start = end;
            if start == total {
                break;
            }
        }
        assert!(weight.iter().all(|&g| g == 1.0));
        for slot in 0..total {
            let expected = if slot >= latency { input[slot - latency] } else { 0.0 };
            assert_eq!(wet[slot], expected, "slot {slot}");
        }
    }

    #[test]
    fn offline_reset_restarts_exactly_like_a_fresh_stream() {
        let (mut stream, _swap, geometry) = offline_identity_stream(64);
        let latency = geometry.latency();
        let total = 4 * latency;
        let input: Vec<f32> = (0..total).map(|i| i as f32 + 1.0).collect();
        let (mut wet, mut weight) = (vec![0.0; total], vec![0.0; total]);
        let reset_at = 64 * 20;
        for start in (0..total).step_by(64) {
            if start == reset_at {
                stream.audio.reset();
            }
            let end = (start + 64).min(total);
            stream.audio.process(&input[start..end], &mut wet[start..end], &mut weight[start..end]);
        }
        assert!(weight.iter().all(|&g| g == 1.0), "offline never needs the fallback");
        for slot in reset_at..total {
            let expected = if slot >= reset_at + latency { input[slot - latency] } else { 0.0 };
            assert_eq!(wet[slot], expected, "slot {slot}");
        }
    }

    /// A processor swapped in takes over the stream's timing exactly: swapping one identity for
    /// another is inaudible, and the replaced one comes back to be freed off the thread.
    #[test]
    fn a_swapped_in_processor_continues_the_stream_in_time() {
        let (mut stream, mut swap, geometry) = offline_identity_stream(100);
        let latency = geometry.latency();
        let total = 8 * latency;
        let input: Vec<f32> = (0..total).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 + 0.001).collect();
        let (mut wet, mut weight) = (vec![0.0; total], vec![0.0; total]);
        let mut retired = 0;
        for (k, start) in (0..total).step_by(100).enumerate() {
            if k % 7 == 3 {
                let next = IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade);
                assert!(swap.incoming.push(SlotProcessor { slot: 0, processor: Box::new(next) }).is_ok());
            }
            let end = (start + 100).min(total);
            stream.audio.process(&input[start..end], &mut wet[start..end], &mut weight[start..end]);
            while swap.retired.pop().is_ok() {
                retired += 1;
            }
        }
        assert!(retired >= 10, "only {retired} processors came back");
        for slot in 0..total {
            let expected = if slot >= latency { input[slot - latency] } else { 0.0 };
            assert!((wet[slot] - expected).abs() <= 1e-6, "slot {slot}: {} vs {expected}", wet[slot]);
        }
    }

    /// The identity at a gain of its own, so the output says which slot played it.
    struct ScaledIdentity {
        inner: IdentityProcessor,
        gain: f32,
    }

    impl BlockProcessor for ScaledIdentity {
        fn delay(&self) -> usize {
            self.inner.delay()
        }
        fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
            self.inner.process_block(input, output, weight);
            output.iter_mut().for_each(|y| *y *= self.gain);
        }
        fn reset(&mut self) {
            self.inner.reset();
        }
        fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
            self.inner.pending_output(input, out, weight);
            out.iter_mut().for_each(|y| *y *= self.gain);
        }
        fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
            // The identity fades from `pending` to its own output; scaling the result afterwards
            // would scale the predecessor too, so the pending output is unscaled first.
            let unscaled: Vec<f32> = pending.iter().map(|y| y / self.gain).collect();
            self.inner.take_over(input, &unscaled, pending_weight);
        }
    }

    /// Slots selected from the audio thread switch at the first block boundary at or after the
    /// sample they were selected at, however far the inference thread lags, with the take-over's
    /// crossfade and nothing else: every other output sample is the input delayed by the latency
    /// at the selected slot's gain.
    #[test]
    fn selected_slots_take_over_at_the_block_boundary_their_selection_reached() {
        let settings = StreamSettings { block_ms: 30.0, crossfade_ms: 10.0, sola_search_ms: 5.0, ..Default::default() };
        let geometry = StreamGeometry::new(settings, 16_000.0, 100);
        let slot = |gain: f32| -> ProcessorBox {
            Box::new(ScaledIdentity {
                inner: IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade),
                gain,
            })
        };
        let gains = [1.0, 2.0, 3.0, 4.0];
        let slots = gains.iter().map(|&g| slot(g)).collect();
        let stats = Arc::new(StreamStats::default());
        let (mut stream, _swap) = Stream::start_with_slots(geometry, slots, 1, stats.clone(), true).unwrap();
        let (latency, block, delay, crossfade) =
            (geometry.latency(), geometry.block, geometry.processor_delay(), geometry.crossfade);
        let total = 20 * block + latency;
        let input: Vec<f32> = (0..total).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 + 0.001).collect();
        let (mut wet, mut weight) = (vec![0.0; total], vec![0.0; total]);
        // (input sample, slot): selections in the middle of blocks and on a boundary.
        let selections = [(730, 3), (1450, 0), (2 * 480, 2), (3100, 2), (3333, 1)];
        let mut selected = vec![(0usize, 1usize)];
        for start in (0..total).step_by(100) {
            for &(at, slot) in &selections {
                if (start..start + 100).contains(&at) {
                    stream.audio.select_voice(slot);
                    selected.push((start, slot));
                }
            }
            let end = (start + 100).min(total);
            stream.audio.process(&input[start..end], &mut wet[start..end], &mut weight[start..end]);
        }
        // The slot each block boundary switches to: the last selected before it (two selections
        // within one block leave only the second).
        let mut boundaries: Vec<(usize, usize)> = Vec::new();
        for &(at, slot) in &selected {
            let boundary = at.div_ceil(block) * block;
            match boundaries.last_mut() {
                Some(last) if last.0 == boundary => last.1 = slot,
                _ => boundaries.push((boundary, slot)),
            }
        }
        // Where each switch takes over, in input samples: its block's output starts `delay` before
        // the boundary.
        let mut changes: Vec<(usize, f32)> = Vec::new();
        for (boundary, slot) in boundaries {
            if changes.last().is_none_or(|&(_, g)| g != gains[slot]) {
                changes.push((boundary.saturating_sub(delay), gains[slot]));
            }
        }
        assert_eq!(changes.len(), 4, "the plan switches three times: {changes:?}");
        assert_eq!(stats.swaps.load(std::sync::atomic::Ordering::Relaxed), changes.len() as u64 - 1);
        for (n, &wet) in wet.iter().enumerate().skip(latency) {
            let i = n - latency;
            let k = changes.iter().rposition(|&(from, _)| from <= i).unwrap_or(0);
            let (from, gain) = changes[k];
            let expected = if k > 0 && i < from + crossfade {
                let w = block_processor::fade_in(i - from, crossfade);
                input[i] * (gain * w + changes[k - 1].1 * (1.0 - w))
            } else {
                input[i] * gain
            };
            assert!((wet - expected).abs() < 1e-5, "output {n} (input {i}): {wet} vs {expected}");
        }
    }

    /// Converts like the identity, then panics at its `panic_at`-th block.
    struct PanickingProcessor {
        inner: IdentityProcessor,
        blocks: usize,
        panic_at: usize,
    }

    impl BlockProcessor for PanickingProcessor {
        fn delay(&self) -> usize {
            self.inner.delay()
        }
        fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
            self.blocks += 1;
            assert!(self.blocks != self.panic_at, "the model runner broke");
            self.inner.process_block(input, output, weight);
        }
        fn reset(&mut self) {
            self.inner.reset();
        }
        fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
            self.inner.pending_output(input, out, weight);
        }
        fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
            self.inner.take_over(input, pending, pending_weight);
        }
    }

    /// A panic on the inference thread stops the conversion, not the stream: every slot after it
    /// plays the dry input (weight 0) in time, the thread goes on, and the reason is published.
    #[test]
    fn a_panicking_processor_leaves_the_stream_playing_dry() {
        let settings = StreamSettings { block_ms: 30.0, crossfade_ms: 10.0, sola_search_ms: 5.0, ..Default::default() };
        let geometry = StreamGeometry::new(settings, 16_000.0, 100);
        let inner = IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade);
        let processor = Box::new(PanickingProcessor { inner, blocks: 0, panic_at: 4 });
        let stats = Arc::new(StreamStats::default());
        let (mut stream, _swap) = Stream::start(geometry, processor, stats.clone(), true).unwrap();
        let total = 12 * geometry.block + geometry.latency();
        let input: Vec<f32> = (0..total).map(|i| (i % 97) as f32 / 97.0 + 0.01).collect();
        let (mut wet, mut weight) = (vec![0.0; total], vec![0.0; total]);
        let started = std::time::Instant::now();
        for start in (0..total).step_by(100) {
            let end = (start + 100).min(total);
            stream.audio.process(&input[start..end], &mut wet[start..end], &mut weight[start..end]);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the offline stream waited for a dead thread");
        let fault = stats.fault().expect("the fault is published");
        assert!(fault.contains("the model runner broke"), "{fault}");
        // Blocks 1-3 converted (after the priming), block 4 on: dry.
        let broken_from = geometry.latency() - geometry.processor_delay() + 3 * geometry.block;
        assert!(weight[geometry.latency()..broken_from].iter().all(|&g| g == 1.0));
        assert!(weight[broken_from..].iter().all(|&g| g == 0.0) && wet[broken_from..].iter().all(|&w| w == 0.0));
        assert!(stats.blocks.load(std::sync::atomic::Ordering::Relaxed) >= 12, "the thread went on");
    }

    #[test]
    fn offline_reset_before_the_first_buffer_does_not_stall() {
        let geometry = StreamGeometry::new(StreamSettings::default(), 48_000.0, 512);
        let processor = Box::new(IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade));
        let (mut stream, _swap) = Stream::start(geometry, processor, Arc::new(StreamStats::default()), true).unwrap();
        stream.audio.reset();
        let input = vec![0.25f32; 512];
        let (mut wet, mut weight) = (vec![0.0; 512], vec![0.0; 512]);
        let started = std::time::Instant::now();
        for _ in 0..200 {
            stream.audio.process(&input, &mut wet, &mut weight);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    }
}
