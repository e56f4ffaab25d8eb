//! The per-instance thread that converts blocks.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtrb::{Consumer, Producer};

use super::block_processor::BlockProcessor;
use super::control::StreamControl;
use super::geometry::StreamGeometry;
use super::stats::StreamStats;

/// A deliberate slowdown of the inference thread, for tests that make the output queue run dry.
/// Read from `RVC_LIVE_TEST_WORKER_STALL=AFTER:COUNT:MILLIS`: after `AFTER` blocks, each of the
/// next `COUNT` blocks takes `MILLIS` longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerStall {
    pub after_blocks: u64,
    pub blocks: u64,
    pub extra: Duration,
}

impl WorkerStall {
    pub const ENV: &'static str = "RVC_LIVE_TEST_WORKER_STALL";

    pub fn from_env() -> Option<Self> {
        std::env::var(Self::ENV).ok().and_then(|v| Self::parse(&v))
    }

    pub fn parse(spec: &str) -> Option<Self> {
        let mut parts = spec.split(':').map(|p| p.trim().parse::<u64>().ok());
        let (after_blocks, blocks, millis) = (parts.next()??, parts.next()??, parts.next()??);
        Some(Self { after_blocks, blocks, extra: Duration::from_millis(millis) })
    }

    fn applies_to(&self, block_index: u64) -> bool {
        block_index >= self.after_blocks && block_index < self.after_blocks + self.blocks
    }
}

/// Owns the inference thread; dropping it stops and joins the thread. Must be dropped off the
/// audio thread (it waits for the current block to finish).
pub struct InferenceThread {
    control: Arc<StreamControl>,
    handle: Option<JoinHandle<()>>,
}

impl InferenceThread {
    pub fn spawn(
        geometry: StreamGeometry,
        processor: Box<dyn BlockProcessor>,
        input: Consumer<f32>,
        output: Producer<f32>,
        control: Arc<StreamControl>,
        stats: Arc<StreamStats>,
        stall: Option<WorkerStall>,
    ) -> std::io::Result<Self> {
        let worker = Worker {
            block_seconds: geometry.block as f64 / f64::from(geometry.sample_rate),
            // Polling instead of a wake-up from the audio thread keeps the audio thread free of
            // syscalls; the poll interval is a small part of the worker's budget.
            poll: Duration::from_secs_f64((geometry.block as f64 / f64::from(geometry.sample_rate) / 20.0).min(0.001)),
            block_in: vec![0.0; geometry.block],
            block_out: vec![0.0; geometry.block],
            processor,
            input,
            output,
            control: control.clone(),
            stats,
            stall,
        };
        let handle = std::thread::Builder::new().name("rvc-live-inference".into()).spawn(move || worker.run())?;
        Ok(Self { control, handle: Some(handle) })
    }
}

impl Drop for InferenceThread {
    fn drop(&mut self) {
        self.control.request_stop();
        if let Some(handle) = self.handle.take() {
            // A panic in the processor already ended the thread; the audio thread has been
            // playing the dry fallback since, so there is nothing more to do than join.
            let _ = handle.join();
        }
    }
}

struct Worker {
    block_seconds: f64,
    poll: Duration,
    block_in: Vec<f32>,
    block_out: Vec<f32>,
    processor: Box<dyn BlockProcessor>,
    input: Consumer<f32>,
    output: Producer<f32>,
    control: Arc<StreamControl>,
    stats: Arc<StreamStats>,
    stall: Option<WorkerStall>,
}

impl Worker {
    fn run(mut self) {
        let mut epoch = self.control.reset_done();
        let mut block_index = 0u64;
        let block = self.block_in.len();
        while !self.control.should_stop() {
            let requested = self.control.requested_reset();
            if requested != epoch {
                let stale = self.input.slots();
                if let Ok(chunk) = self.input.read_chunk(stale) {
                    chunk.commit_all();
                }
                self.processor.reset();
                epoch = requested;
                self.control.acknowledge_reset(epoch);
                continue;
            }

            let Ok(chunk) = self.input.read_chunk(block) else {
                std::thread::sleep(self.poll);
                continue;
            };
            let (first, second) = chunk.as_slices();
            self.block_in[..first.len()].copy_from_slice(first);
            self.block_in[first.len()..].copy_from_slice(second);
            chunk.commit_all();

            let started = Instant::now();
            self.processor.process_block(&self.block_in, &mut self.block_out);
            if let Some(stall) = self.stall.filter(|s| s.applies_to(block_index)) {
                std::thread::sleep(stall.extra);
            }
            self.stats.record_block((started.elapsed().as_secs_f64() / self.block_seconds) as f32);
            block_index += 1;

            self.deliver(epoch);
        }
    }

    /// Hand the converted block to the audio thread, waiting for room if it is behind. A block
    /// that a reset overtook is dropped.
    fn deliver(&mut self, epoch: u64) {
        loop {
            if self.control.should_stop() || self.control.requested_reset() != epoch {
                return;
            }
            if let Ok(mut chunk) = self.output.write_chunk(self.block_out.len()) {
                let (first, second) = chunk.as_mut_slices();
                let split = first.len();
                first.copy_from_slice(&self.block_out[..split]);
                second.copy_from_slice(&self.block_out[split..]);
                chunk.commit_all();
                return;
            }
            std::thread::sleep(self.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_spec_parses() {
        assert_eq!(
            WorkerStall::parse("10:3:250"),
            Some(WorkerStall { after_blocks: 10, blocks: 3, extra: Duration::from_millis(250) })
        );
        assert_eq!(WorkerStall::parse("10:3"), None);
        assert_eq!(WorkerStall::parse("a:b:c"), None);
    }
}
