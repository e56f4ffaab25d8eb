//! One served stream's converting thread: the same `BlockProcessor` a plugin's inference thread
//! drives, fed by the connection instead of an audio thread. ONNX Runtime blocks, so each stream
//! converts on a thread of its own and the connection's task only moves frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Instant;

use crate::panic_guard;
use crate::remote::{AudioBlock, ConvertedBlock};
use crate::rvc_processor::RvcProcessor;
use crate::stream::{BlockProcessor, InputHistory, StreamGeometry};

/// Blocks a stream may have waiting for its thread. A client sends one per block period; more
/// waiting means the server is behind, and the newest are dropped (the client plays them dry)
/// rather than queued without bound.
const QUEUED_BLOCKS: usize = 4;

/// What the connection hands the thread, in the order the client sent it. (Controls take the
/// shortcut of the shared `controls`, read at the start of every block.)
pub enum WorkerInput {
    Block(AudioBlock),
    Reset,
}

/// What the thread hands back: an encoded converted frame, or why the stream stopped.
pub enum WorkerOutput {
    Frame(Vec<u8>),
    Stopped(String),
}

/// Dropping it closes the queue, which ends the thread after its current block (detached: the
/// connection's task must not wait on a blocking thread).
pub struct StreamWorker {
    input: SyncSender<WorkerInput>,
}

impl StreamWorker {
    pub fn spawn(
        processor: RvcProcessor,
        geometry: StreamGeometry,
        load: Arc<AtomicU32>,
        output: tokio::sync::mpsc::Sender<WorkerOutput>,
    ) -> std::io::Result<Self> {
        let (input, queue) = std::sync::mpsc::sync_channel(QUEUED_BLOCKS);
        let worker = Worker {
            processor,
            history: InputHistory::new(geometry.history()),
            signal: vec![0.0; geometry.block],
            weight: vec![0.0; geometry.block],
            pending: (vec![0.0; geometry.crossfade], vec![0.0; geometry.crossfade]),
            block_seconds: geometry.block as f64 / f64::from(geometry.sample_rate),
            load,
        };
        std::thread::Builder::new().name("rvc-live-served-stream".into()).spawn(move || worker.run(queue, output))?;
        Ok(Self { input })
    }

    /// Queue `input` for the thread. False when the thread is behind by [`QUEUED_BLOCKS`] (the
    /// input is dropped) or has stopped.
    pub fn offer(&self, input: WorkerInput) -> bool {
        match self.input.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

struct Worker {
    processor: RvcProcessor,
    history: InputHistory,
    signal: Vec<f32>,
    weight: Vec<f32>,
    pending: (Vec<f32>, Vec<f32>),
    block_seconds: f64,
    /// The last block's compute time over its duration, as `f32` bits. Written here, read by
    /// `/health`.
    load: Arc<AtomicU32>,
}

impl Worker {
    fn run(mut self, queue: Receiver<WorkerInput>, output: tokio::sync::mpsc::Sender<WorkerOutput>) {
        while let Ok(input) = queue.recv() {
            let block = match input {
                WorkerInput::Reset => {
                    self.history.clear();
                    self.processor.reset();
                    continue;
                }
                WorkerInput::Block(block) => block,
            };
            let started = Instant::now();
            let converted = panic_guard::catch(|| self.convert(&block.samples));
            let frame = match converted {
                Ok(()) => {
                    let elapsed = started.elapsed();
                    self.load.store(((elapsed.as_secs_f64() / self.block_seconds) as f32).to_bits(), Ordering::Relaxed);
                    WorkerOutput::Frame(
                        ConvertedBlock {
                            seq: block.seq,
                            compute_us: elapsed.as_micros().min(u128::from(u32::MAX)) as u32,
                            signal: self.signal.clone(),
                            weight: self.weight.clone(),
                            pending_signal: self.pending.0.clone(),
                            pending_weight: self.pending.1.clone(),
                        }
                        .encode(),
                    )
                }
                Err(why) => {
                    tracing::error!(error = %why, "a served stream stopped after an internal error");
                    let _ = output.blocking_send(WorkerOutput::Stopped(format!(
                        "the server's conversion stopped after an internal error ({why})"
                    )));
                    return;
                }
            };
            if output.blocking_send(frame).is_err() {
                return;
            }
        }
    }

    /// Convert one block and read what the processor would play next, every value made fit for
    /// the wire (the client refuses a frame with a NaN or a weight outside 0..1).
    fn convert(&mut self, samples: &[f32]) {
        self.history.push_split(samples, &[]);
        self.processor.process_block(&self.history, &mut self.signal, &mut self.weight);
        self.processor.pending_output(&self.history, &mut self.pending.0, &mut self.pending.1);
        for (signal, weight) in [(&mut self.signal, &mut self.weight), (&mut self.pending.0, &mut self.pending.1)] {
            for (s, w) in signal.iter_mut().zip(weight.iter_mut()) {
                if !s.is_finite() || !w.is_finite() {
                    (*s, *w) = (0.0, 0.0);
                }
                *w = w.clamp(0.0, 1.0);
            }
        }
    }
}
