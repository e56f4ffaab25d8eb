//! A deliberately slow processor, for tests that make the output queue run dry: a decorator
//! around the real one, built only where `RVC_LIVE_TEST_WORKER_STALL` asks for it, so the stream
//! itself knows nothing of it.

use std::time::Duration;

use super::block_processor::BlockProcessor;
use super::input_history::InputHistory;
use super::voice_swapper::ProcessorBox;

/// `RVC_LIVE_TEST_WORKER_STALL=AFTER:COUNT:MILLIS`: after `AFTER` blocks, each of the next
/// `COUNT` blocks takes `MILLIS` longer.
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

    /// `processor`, slowed down as the environment asks, or as it is.
    pub fn wrap_from_env(processor: ProcessorBox) -> ProcessorBox {
        match Self::from_env() {
            Some(stall) => Box::new(StallingProcessor { inner: processor, stall, blocks: 0 }),
            None => processor,
        }
    }
}

/// Converts like the processor inside it, then sleeps through the stalled blocks. A voice swapped
/// in later replaces the whole decorator, so the stall applies to the first processor only.
struct StallingProcessor {
    inner: ProcessorBox,
    stall: WorkerStall,
    /// Blocks converted so far.
    blocks: u64,
}

impl BlockProcessor for StallingProcessor {
    fn delay(&self) -> usize {
        self.inner.delay()
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        self.inner.process_block(input, output, weight);
        if self.stall.applies_to(self.blocks) {
            std::thread::sleep(self.stall.extra);
        }
        self.blocks += 1;
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
