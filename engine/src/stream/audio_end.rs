//! The audio thread's end of the stream: it hands host audio to the inference thread and takes
//! converted audio back, exactly `latency` samples later, without ever waiting in real time.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use super::control::StreamControl;
use super::geometry::StreamGeometry;
use super::stats::StreamStats;
use super::voice_marks::VoiceMarksOut;
use super::wet_sample::WetSample;

/// How long an offline render waits for a block before it gives up and plays the dry fallback.
const OFFLINE_WAIT_FLOOR: Duration = Duration::from_secs(2);

/// Every output slot consumes exactly one converted sample: the one made from the input `latency`
/// slots earlier. When that sample is late the slot plays the dry fallback instead and the sample
/// is owed, to be discarded when it arrives; that keeps the stream aligned however late the
/// inference thread is.
pub struct AudioEnd {
    to_worker: Producer<f32>,
    from_worker: Consumer<WetSample>,
    /// The voice slot the host selects, marked on the input it goes with.
    voice_marks: VoiceMarksOut,
    control: Arc<StreamControl>,
    stats: Arc<StreamStats>,
    geometry: StreamGeometry,
    /// Offline rendering (the host's render mode) may wait for the inference thread.
    offline: bool,
    /// Converted samples that were replaced by the fallback and must be discarded on arrival.
    owed: usize,
    /// After a host reset: slots that belong to before the restart. Both the converted signal and
    /// the (cleared) dry delay are silent there, so they play silence at full converted weight,
    /// exactly like the start of a fresh activation.
    lead_silent: usize,
    /// Slots whose input never reached the inference thread (pushed before a restart, or while
    /// waiting for it): they play the dry fallback. Consumed after `lead_silent`.
    lead_fallback: usize,
    /// A restart is under way: nothing is pushed until the inference thread acknowledges `epoch`.
    resync_pending: bool,
    epoch: u64,
    /// Weight of the converted signal against the fallback, ramped over `fallback_fade`.
    wet_weight: f32,
    fade_step: f32,
    /// Whether the previous buffer had all the converted audio it needed, for counting underruns
    /// once each rather than once per buffer.
    was_on_time: bool,
}

impl AudioEnd {
    /// `from_worker` must already hold the silence that, with the processor's own delay, makes up
    /// the latency (see [`super::Stream`]).
    pub fn new(
        geometry: StreamGeometry,
        to_worker: Producer<f32>,
        from_worker: Consumer<WetSample>,
        voice_marks: VoiceMarksOut,
        control: Arc<StreamControl>,
        stats: Arc<StreamStats>,
        offline: bool,
    ) -> Self {
        Self {
            to_worker,
            from_worker,
            voice_marks,
            epoch: control.reset_done(),
            control,
            stats,
            geometry,
            offline,
            owed: 0,
            lead_silent: 0,
            lead_fallback: 0,
            resync_pending: false,
            wet_weight: 1.0,
            fade_step: 1.0 / geometry.fallback_fade as f32,
            was_on_time: true,
        }
    }

    /// Restart the stream from silence, as after a transport jump; the caller clears the dry delay
    /// at the same time. Real-time safe.
    pub fn reset(&mut self) {
        self.begin_resync();
        self.lead_silent = self.geometry.latency();
        self.wet_weight = 1.0;
        self.was_on_time = true;
    }

    /// Play voice slot `slot` from the next pushed sample on (see [`super::voice_marks`]). A
    /// stream started with one processor has one slot. Real-time safe.
    pub fn select_voice(&mut self, slot: usize) {
        self.voice_marks.select(slot);
    }

    /// Push `input` (mono, already gained) and fill `wet` with the converted signal for the same
    /// slots, already multiplied by `weight`, and `weight` with how much of each slot it fills;
    /// `1 - weight` is to come from the dry input delayed by the latency (when the conversion is
    /// late, or the processor passes the input through). All three slices have the same length, at
    /// most the host's maximum buffer size.
    pub fn process(&mut self, input: &[f32], wet: &mut [f32], weight: &mut [f32]) {
        let n = input.len();
        debug_assert!(wet.len() == n && weight.len() == n);

        if self.resync_pending && self.offline {
            self.wait_until(|this| this.control.reset_done() == this.epoch);
        }
        if self.resync_pending && self.control.reset_done() == self.epoch {
            // Everything still queued predates the restart, and so do the first samples the reset
            // processor delivers: its holdback, filled before it saw the restarted input. The lead
            // counters already cover those slots.
            self.drain_output(usize::MAX);
            self.owed = self.geometry.processor_delay();
            self.resync_pending = false;
            self.voice_marks.restarted();
        }

        if !self.resync_pending {
            self.voice_marks.before_push();
            match self.to_worker.write_chunk_uninit(n) {
                Ok(chunk) => {
                    chunk.fill_from_iter(input.iter().copied());
                    self.voice_marks.pushed(n);
                }
                Err(_) => {
                    // The inference thread stalled for several blocks. Restarting is the only way
                    // to keep the output aligned without dropping samples mid-stream.
                    self.stats.overflows.fetch_add(1, Ordering::Relaxed);
                    self.begin_resync();
                    // The queued input of the last `latency` slots is lost with the restart.
                    self.lead_fallback = self.geometry.latency();
                }
            }
        }
        if self.resync_pending {
            self.lead_fallback += n;
        }

        self.settle_owed();
        let lead = self.lead_silent + self.lead_fallback;
        let needed = (n + self.geometry.fallback_fade).saturating_sub(lead);
        if self.offline && !self.resync_pending {
            // Samples still owed are discarded first, so nothing counts as available until they are.
            self.wait_until(|this| {
                this.settle_owed();
                this.from_worker.slots() >= needed
            });
        }
        let available = if self.resync_pending { 0 } else { self.from_worker.slots() };
        let on_time = available >= needed;
        if !on_time && self.was_on_time && !self.resync_pending {
            self.stats.underruns.fetch_add(1, Ordering::Relaxed);
        }
        self.was_on_time = on_time;

        let take = available.min(n.saturating_sub(lead));
        let chunk = self.from_worker.read_chunk(take).expect("at most the readable slots");
        let (first, second) = chunk.as_slices();
        let mut converted = first.iter().chain(second).copied();
        let mut left = available;
        let mut fallback = 0u64;
        for (w, g) in wet.iter_mut().zip(weight.iter_mut()) {
            if self.lead_silent > 0 {
                self.lead_silent -= 1;
                (*w, *g) = (0.0, self.wet_weight);
                continue;
            }
            let sample = if self.lead_fallback > 0 {
                self.lead_fallback -= 1;
                None
            } else {
                let sample = converted.next();
                if sample.is_none() {
                    self.owed += 1;
                }
                sample
            };
            match sample {
                Some(x) => {
                    left -= 1;
                    self.wet_weight = if on_time {
                        (self.wet_weight + self.fade_step).min(1.0)
                    } else {
                        // Fade out while converted audio is still there, reaching the fallback
                        // exactly when it runs out.
                        (self.wet_weight - self.fade_step).max(0.0).min(left as f32 * self.fade_step)
                    };
                    (*w, *g) = (x.signal * self.wet_weight, x.weight * self.wet_weight);
                }
                None => {
                    self.wet_weight = 0.0;
                    (*w, *g) = (0.0, 0.0);
                }
            }
            // Counts what lateness replaced, not slots the processor itself leaves to the dry
            // input (no voice, a failed block).
            fallback += u64::from(self.wet_weight < 1.0);
        }
        chunk.commit_all();
        if fallback > 0 {
            self.stats.fallback_samples.fetch_add(fallback, Ordering::Relaxed);
        }
    }

    fn begin_resync(&mut self) {
        self.epoch = self.control.request_reset();
        self.resync_pending = true;
        self.owed = 0;
        self.lead_silent = 0;
        self.lead_fallback = 0;
    }

    /// Discard converted samples that arrived after the fallback already covered their slots.
    fn settle_owed(&mut self) {
        let discarded = self.drain_output(self.owed);
        self.owed -= discarded;
    }

    fn drain_output(&mut self, at_most: usize) -> usize {
        let count = self.from_worker.slots().min(at_most);
        if let Ok(chunk) = self.from_worker.read_chunk(count) {
            chunk.commit_all();
        }
        count
    }

    /// Offline only: block until `done`, or give up after a generous timeout so a stuck inference
    /// thread cannot hang an export (the fallback covers what is missing).
    fn wait_until(&mut self, mut done: impl FnMut(&mut Self) -> bool) {
        let block = Duration::from_secs_f64(self.geometry.block as f64 / f64::from(self.geometry.sample_rate));
        let deadline = Instant::now() + OFFLINE_WAIT_FLOOR.max(block * 8);
        // A thread that has ended will deliver nothing more: the fallback covers the rest at once.
        while !done(self) && Instant::now() < deadline && !self.control.has_exited() {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::block_processor::{BlockProcessor, IdentityProcessor};
    use crate::stream::input_history::InputHistory;
    use crate::stream::settings::StreamSettings;

    /// The audio end plus a stand-in for the inference thread that the test drives by hand.
    struct Harness {
        audio: AudioEnd,
        worker_in: Consumer<f32>,
        worker_out: Producer<WetSample>,
        processor: IdentityProcessor,
        history: InputHistory,
        control: Arc<StreamControl>,
        stats: Arc<StreamStats>,
        geometry: StreamGeometry,
        worker_epoch: u64,
        /// Every input sample pushed so far, and every (wet, weight) slot produced.
        input: Vec<f32>,
        wet: Vec<f32>,
        weight: Vec<f32>,
        /// Slots right after a host reset, which must play silence.
        silent: std::ops::Range<usize>,
    }

    impl Harness {
        fn new() -> Self {
            // A processor delay (crossfade + SOLA search) of 120 samples, so the priming and the
            // restarts must account for it.
            let settings = StreamSettings {
                block_ms: 20.0,
                crossfade_ms: 10.0,
                sola_search_ms: 5.0,
                worker_budget: 1.0,
                ..Default::default()
            };
            let geometry = StreamGeometry::new(settings, 8_000.0, 64);
            let (to_worker, worker_in) = rtrb::RingBuffer::new(geometry.input_queue_capacity());
            let (mut worker_out, from_worker) = rtrb::RingBuffer::new(geometry.output_queue_capacity());
            let processor = IdentityProcessor::new(geometry.processor_delay(), geometry.crossfade);
            let priming = geometry.latency() - processor.delay();
            worker_out.write_chunk_uninit(priming).unwrap().fill_from_iter(std::iter::repeat(WetSample::SILENCE));
            let control = Arc::new(StreamControl::default());
            let stats = Arc::new(StreamStats::default());
            let (marks, _) = crate::stream::voice_marks::voice_marks(0);
            let audio = AudioEnd::new(geometry, to_worker, from_worker, marks, control.clone(), stats.clone(), false);
            Self {
                audio,
                worker_in,
                worker_out,
                processor,
                history: InputHistory::new(geometry.history()),
                control,
                stats,
                geometry,
                worker_epoch: 0,
                input: vec![],
                wet: vec![],
                weight: vec![],
                silent: 0..0,
            }
        }

        /// One host call of `n` samples, continuing a ramp so every sample is distinct.
        fn call(&mut self, n: usize) {
            let start = self.input.len();
            let input: Vec<f32> = (start..start + n).map(|i| i as f32 + 1.0).collect();
            let (mut wet, mut weight) = (vec![0.0; n], vec![0.0; n]);
            self.audio.process(&input, &mut wet, &mut weight);
            self.input.extend(input);
            self.wet.extend(wet);
            self.weight.extend(weight);
        }

        fn reset(&mut self) {
            self.audio.reset();
            let at = self.wet.len();
            self.silent = at..at + self.geometry.latency();
        }

        /// Let the stand-in worker convert every complete block (identity), honouring resets.
        fn work(&mut self) {
            let requested = self.control.requested_reset();
            if requested != self.worker_epoch {
                let stale = self.worker_in.slots();
                self.worker_in.read_chunk(stale).unwrap().commit_all();
                self.history.clear();
                self.processor.reset();
                self.worker_epoch = requested;
                self.control.acknowledge_reset(requested);
            }
            while self.worker_in.slots() >= self.geometry.block {
                let block = self.geometry.block;
                let chunk = self.worker_in.read_chunk(block).unwrap();
                let (first, second) = chunk.as_slices();
                self.history.push_split(first, second);
                chunk.commit_all();
                let (mut converted, mut weight) = (vec![0.0; block], vec![0.0; block]);
                self.processor.process_block(&self.history, &mut converted, &mut weight);
                let samples = converted.into_iter().zip(weight).map(|(signal, weight)| WetSample { signal, weight });
                self.worker_out.write_chunk_uninit(block).unwrap().fill_from_iter(samples);
            }
        }

        /// The converted signal must always be the input exactly `latency` slots earlier (the
        /// identity processor's weight is 1, so the slot's weight is what premultiplies it).
        fn assert_aligned(&self) {
            let latency = self.geometry.latency();
            for (slot, (&w, &g)) in self.wet.iter().zip(&self.weight).enumerate() {
                if g > 0.0 {
                    let expected =
                        if slot >= latency && !self.silent.contains(&slot) { self.input[slot - latency] } else { 0.0 };
                    assert_eq!(w, expected * g, "slot {slot} (weight {g})");
                }
            }
        }
    }

    #[test]
    fn an_on_time_worker_gives_exactly_delayed_audio_with_no_fallback() {
        let mut h = Harness::new();
        for n in [1, 64, 3, 17, 64, 64, 5].into_iter().cycle().take(400) {
            h.call(n);
            h.work();
        }
        h.assert_aligned();
        assert!(h.weight.iter().all(|&g| g == 1.0));
        assert_eq!(h.stats.underruns.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_late_worker_fades_to_the_fallback_and_back_without_losing_alignment() {
        let mut h = Harness::new();
        for _ in 0..60 {
            h.call(64);
            h.work();
        }
        let stall_start = h.weight.len();
        // The worker stalls for far longer than its budget, though not long enough to fill the input
        // queue.
        for _ in 0..10 {
            h.call(64);
        }
        h.work();
        for _ in 0..40 {
            h.call(64);
            h.work();
        }
        h.assert_aligned();
        assert_eq!(h.stats.underruns.load(Ordering::Relaxed), 1);
        let fallback = &h.weight[stall_start..];
        assert!(fallback.contains(&0.0), "the stall reached the fallback");
        assert_eq!(*h.weight.last().unwrap(), 1.0, "converted audio is back");
        // Fades move at most one step per sample, in both directions.
        let step = 1.0 / h.geometry.fallback_fade as f32;
        for pair in h.weight.windows(2) {
            assert!((pair[1] - pair[0]).abs() <= step + 1e-6, "weight jumped {pair:?}");
        }
    }

    #[test]
    fn reset_restarts_the_stream_from_the_fallback() {
        let mut h = Harness::new();
        for _ in 0..30 {
            h.call(64);
            h.work();
        }
        h.reset();
        let after_reset = h.weight.len();
        for _ in 0..60 {
            h.call(64);
            h.work();
        }
        h.assert_aligned();
        // The first call waits for the acknowledgement, so its input never reaches the inference
        // thread: `latency` slots of silence, then that call's 64 slots from the fallback.
        let weights = &h.weight[after_reset..];
        let latency = h.geometry.latency();
        assert!(weights[..latency].iter().all(|&g| g == 1.0));
        assert!(h.wet[after_reset..after_reset + latency].iter().all(|&w| w == 0.0));
        assert!(weights[latency..latency + 64].iter().all(|&g| g == 0.0));
        assert!(weights[latency + 64] > 0.0, "converted audio fades back in right after");
        assert_eq!(*h.weight.last().unwrap(), 1.0);
        assert_eq!(h.stats.underruns.load(Ordering::Relaxed), 0, "a reset is not an underrun");
    }

    #[test]
    fn input_overflow_restarts_instead_of_dropping_samples() {
        let mut h = Harness::new();
        let capacity = h.geometry.input_queue_capacity();
        for _ in 0..(capacity / 64 + 2) {
            h.call(64);
        }
        assert_eq!(h.stats.overflows.load(Ordering::Relaxed), 1);
        for _ in 0..80 {
            h.call(64);
            h.work();
        }
        h.assert_aligned();
        assert_eq!(*h.weight.last().unwrap(), 1.0);
    }
}
