//! Which converted block a client can still play. Blocks are numbered in the order their input
//! was played; a converted block is late when its slot in the output has passed, which its number
//! says at once — a client never waits to find out.

/// What became of a converted block that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The block the output needs next.
    OnTime,
    /// Its slot has passed (the fallback played there) or it came before: dropped.
    Late,
    /// Newer than the next one expected: the `missing` blocks before it never came, and their
    /// slots play the fallback.
    AfterGap { missing: u64 },
}

/// The number of the next block the output needs. Lives with the client's stream.
#[derive(Debug, Default)]
pub struct SequenceTracker {
    next: u64,
}

impl SequenceTracker {
    /// Block `seq` arrived.
    pub fn arrive(&mut self, seq: u64) -> Arrival {
        if seq < self.next {
            return Arrival::Late;
        }
        let missing = seq - self.next;
        self.next = seq.saturating_add(1);
        if missing == 0 { Arrival::OnTime } else { Arrival::AfterGap { missing } }
    }

    /// The output played the fallback in block `seq`'s slot: that block is late from now on.
    pub fn passed(&mut self, seq: u64) {
        self.next = self.next.max(seq.saturating_add(1));
    }

    /// The next block the output needs.
    pub fn next(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_missing_and_repeated_blocks_are_told_by_their_number() {
        let mut tracker = SequenceTracker::default();
        assert_eq!(tracker.arrive(0), Arrival::OnTime);
        assert_eq!(tracker.arrive(1), Arrival::OnTime);
        assert_eq!(tracker.arrive(4), Arrival::AfterGap { missing: 2 });
        assert_eq!(tracker.arrive(2), Arrival::Late, "after 4, block 2's slot has passed");
        assert_eq!(tracker.arrive(4), Arrival::Late, "a repeat");
        tracker.passed(6);
        assert_eq!(tracker.arrive(5), Arrival::Late);
        assert_eq!(tracker.arrive(6), Arrival::Late, "the fallback played in its slot");
        assert_eq!(tracker.arrive(7), Arrival::OnTime);
        assert_eq!(tracker.next(), 8);
    }
}
