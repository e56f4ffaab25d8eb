//! Which voice slot the input was played with: the audio thread marks the input stream where the
//! host's selection changes, and the inference thread switches slots at the block boundary that
//! mark reached.
//!
//! The inference thread may run blocks behind the audio thread (offline it usually does, with
//! whole blocks queued), so reading the selection as it is *now* would switch early by however far
//! it lags. A mark counts input samples instead, so a switch lands at the same place in the output
//! whenever the inference thread gets to it, in real time and offline alike.

use rtrb::{Consumer, Producer, RingBuffer};

/// "From input sample `at` on, slot `slot` plays": `at` counts the samples pushed since the stream
/// (re)started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VoiceMark {
    at: u64,
    slot: usize,
}

/// Marks in flight. A host automating the selection changes it at most once per `process` call;
/// when the queue is full the change waits for the next call, which only delays it.
const MARK_QUEUE: usize = 64;

/// The pair of ends, both starting at `slot`.
pub fn voice_marks(slot: usize) -> (VoiceMarksOut, VoiceMarksIn) {
    let (producer, consumer) = RingBuffer::new(MARK_QUEUE);
    (
        VoiceMarksOut { producer, selected: slot, sent: slot, pushed: 0 },
        VoiceMarksIn { consumer, wanted: slot, read: 0 },
    )
}

/// The audio thread's end. Real-time safe: no allocation, no lock.
pub struct VoiceMarksOut {
    producer: Producer<VoiceMark>,
    /// What the host selects now.
    selected: usize,
    /// What the last mark that went out said.
    sent: usize,
    /// Input samples pushed since the stream (re)started.
    pushed: u64,
}

impl VoiceMarksOut {
    pub fn select(&mut self, slot: usize) {
        self.selected = slot;
    }

    /// Before samples are pushed: mark them with the selection, if it changed.
    pub fn before_push(&mut self) {
        if self.selected != self.sent && self.producer.push(VoiceMark { at: self.pushed, slot: self.selected }).is_ok()
        {
            self.sent = self.selected;
        }
    }

    /// After `n` samples went to the inference thread.
    pub fn pushed(&mut self, n: usize) {
        self.pushed += n as u64;
    }

    /// The stream restarted: the inference thread has taken every mark sent so far, and counting
    /// starts again from the first sample pushed after the restart.
    pub fn restarted(&mut self) {
        self.pushed = 0;
    }
}

/// The inference thread's end.
pub struct VoiceMarksIn {
    consumer: Consumer<VoiceMark>,
    wanted: usize,
    /// Input samples read since the stream (re)started.
    read: u64,
}

impl VoiceMarksIn {
    /// The slot that plays the block starting now, having read every sample before it. Call once a
    /// block's samples are visible (the audio thread pushes a mark before the samples it marks, so
    /// every mark up to the block's first sample is visible by then), then [`Self::read`] them.
    pub fn slot_for_next_block(&mut self) -> usize {
        while let Ok(mark) = self.consumer.peek() {
            if mark.at > self.read {
                break;
            }
            self.wanted = mark.slot;
            let _ = self.consumer.pop();
        }
        self.wanted
    }

    pub fn read(&mut self, n: usize) {
        self.read += n as u64;
    }

    /// The stream restarted: every mark sent before it applies now, and counting starts over.
    pub fn restart(&mut self) {
        while let Ok(mark) = self.consumer.pop() {
            self.wanted = mark.slot;
        }
        self.read = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever lag the reader has, each block plays the slot selected when its first sample was
    /// pushed.
    #[test]
    fn a_lagging_reader_switches_at_the_marked_sample() {
        let (mut out, mut input) = voice_marks(0);
        let block = 100;
        // The audio thread runs five calls of 60 samples ahead, selecting 3 from the third call.
        for call in 0..5 {
            if call == 2 {
                out.select(3);
            }
            out.before_push();
            out.pushed(60);
        }
        // The switch was marked at sample 120: block 0 (0..100) and block 1 (100..200) keep slot
        // 0; block 2 (200..) plays slot 3.
        let slots: Vec<usize> = (0..3)
            .map(|_| {
                let slot = input.slot_for_next_block();
                input.read(block);
                slot
            })
            .collect();
        assert_eq!(slots, [0, 0, 3]);
    }

    #[test]
    fn a_restart_applies_every_mark_and_counts_again() {
        let (mut out, mut input) = voice_marks(1);
        out.select(5);
        out.before_push();
        out.pushed(1000);
        input.restart();
        out.restarted();
        assert_eq!(input.slot_for_next_block(), 5);
        out.select(2);
        out.before_push();
        out.pushed(10);
        assert_eq!(input.slot_for_next_block(), 2, "marked at the first sample after the restart");
    }
}
