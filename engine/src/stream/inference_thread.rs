//! The per-instance thread that converts blocks.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use super::block_processor::{BlockProcessor, DryProcessor};
use super::control::StreamControl;
use super::geometry::StreamGeometry;
use super::input_history::InputHistory;
use super::stats::StreamStats;
use super::voice_marks::VoiceMarksIn;
use super::voice_swapper::{ProcessorBox, ProcessorSwap, VoiceSwapper};
use super::wet_sample::WetSample;
use crate::injected_panic::{self, Site};
use crate::panic_guard;

/// Owns the inference thread; dropping it stops and joins the thread. Must be dropped off the
/// audio thread (it waits for the current block to finish).
pub struct InferenceThread {
    control: Arc<StreamControl>,
    handle: Option<JoinHandle<()>>,
}

impl InferenceThread {
    /// Start converting with the processor in slot `active` of `slots`, switching slots where
    /// `voice_marks` says. The thread keeps the stream's input history (see
    /// [`StreamGeometry::history`]), which every processor, and any swapped in later, reads.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn(
        geometry: StreamGeometry,
        slots: Vec<ProcessorBox>,
        active: usize,
        input: Consumer<f32>,
        voice_marks: VoiceMarksIn,
        output: Producer<WetSample>,
        control: Arc<StreamControl>,
        stats: Arc<StreamStats>,
    ) -> std::io::Result<(Self, ProcessorSwap)> {
        let (processor, swap) = VoiceSwapper::new(slots, active, geometry.crossfade, stats.clone());
        let worker = Worker {
            block_seconds: geometry.block as f64 / f64::from(geometry.sample_rate),
            // Polling instead of a wake-up from the audio thread keeps the audio thread free of
            // syscalls; the poll interval is a small part of the worker's budget.
            poll: Duration::from_secs_f64((geometry.block as f64 / f64::from(geometry.sample_rate) / 20.0).min(0.001)),
            geometry,
            history: InputHistory::new(geometry.history()),
            block_out: vec![0.0; geometry.block],
            block_weight: vec![0.0; geometry.block],
            processor,
            input,
            voice_marks,
            output,
            control: control.clone(),
            stats,
        };
        let exited = control.clone();
        let handle = std::thread::Builder::new().name("rvc-live-inference".into()).spawn(move || {
            // However the thread ends, the audio end stops waiting for it.
            let _exited = ExitFlag(exited);
            worker.run();
        })?;
        Ok((Self { control, handle: Some(handle) }, swap))
    }
}

impl Drop for InferenceThread {
    fn drop(&mut self) {
        self.control.request_stop();
        if let Some(handle) = self.handle.take() {
            // The worker catches panics itself; should one escape anyway, the audio thread has
            // been playing the dry fallback since, so there is nothing more to do than join.
            let _ = handle.join();
        }
    }
}

/// Tells the stream that the inference thread has ended, when dropped at the thread's end.
struct ExitFlag(Arc<StreamControl>);

impl Drop for ExitFlag {
    fn drop(&mut self) {
        self.0.mark_exited();
    }
}

struct Worker {
    geometry: StreamGeometry,
    block_seconds: f64,
    poll: Duration,
    /// The stream's input so far, each block appended as it arrives.
    history: InputHistory,
    block_out: Vec<f32>,
    block_weight: Vec<f32>,
    /// The one processor the worker drives; voices change inside it.
    processor: VoiceSwapper,
    input: Consumer<f32>,
    /// Where the input switches voice slots.
    voice_marks: VoiceMarksIn,
    output: Producer<WetSample>,
    control: Arc<StreamControl>,
    stats: Arc<StreamStats>,
}

impl Worker {
    fn run(mut self) {
        let mut epoch = self.control.reset_done();
        let mut block_index = 0u64;
        let block = self.geometry.block;
        while !self.control.should_stop() {
            let requested = self.control.requested_reset();
            if requested != epoch {
                let stale = self.input.slots();
                if let Ok(chunk) = self.input.read_chunk(stale) {
                    chunk.commit_all();
                }
                self.history.clear();
                self.voice_marks.restart();
                self.processor.reset();
                epoch = requested;
                self.control.acknowledge_reset(epoch);
                continue;
            }

            let Ok(chunk) = self.input.read_chunk(block) else {
                std::thread::sleep(self.poll);
                continue;
            };
            // Between the previous block and this one: the slot selected when its first sample
            // was played takes over.
            let slot = self.voice_marks.slot_for_next_block();
            self.voice_marks.read(block);
            let selected = panic_guard::catch(|| self.processor.select(slot, &self.history));
            let (first, second) = chunk.as_slices();
            self.history.push_split(first, second);
            chunk.commit_all();
            if let Err(why) = selected {
                self.stop_converting(why);
            }

            let started = Instant::now();
            let converted = panic_guard::catch(|| {
                injected_panic::at(Site::Inference { block: block_index });
                self.processor.process_block(&self.history, &mut self.block_out, &mut self.block_weight);
            });
            if let Err(why) = converted {
                self.stop_converting(why);
            }
            self.stats.record_block((started.elapsed().as_secs_f64() / self.block_seconds) as f32);
            block_index += 1;

            self.deliver(epoch);
        }
    }

    /// A panic while converting: whatever the processor holds may be broken, so it is replaced by
    /// the dry processor for the rest of this activation (the next activation starts a new
    /// stream) and this block plays the dry input. The reason goes to the log and the editor.
    fn stop_converting(&mut self, why: String) {
        let message = format!("the conversion stopped after an internal error ({why}); the input plays through");
        tracing::error!("RVC Live {message}");
        self.stats.set_fault(message);
        let (delay, crossfade) = (self.geometry.processor_delay(), self.geometry.crossfade);
        let left = self.processor.fall_back(|| Box::new(DryProcessor::new(delay, crossfade)));
        let _ = panic_guard::catch(move || drop(left));
        self.block_out.fill(0.0);
        self.block_weight.fill(0.0);
    }

    /// Hand the converted block to the audio thread, waiting for room if it is behind. A block
    /// that a reset overtook is dropped.
    fn deliver(&mut self, epoch: u64) {
        loop {
            if self.control.should_stop() || self.control.requested_reset() != epoch {
                return;
            }
            if let Ok(chunk) = self.output.write_chunk_uninit(self.block_out.len()) {
                let block = self.block_out.iter().zip(&self.block_weight);
                chunk.fill_from_iter(block.map(|(&signal, &weight)| WetSample { signal, weight }));
                return;
            }
            std::thread::sleep(self.poll);
        }
    }
}
