//! A voice converted on a server, behind the same `BlockProcessor` a local voice implements: the
//! stream, its latency, voice slots and the fallback all work unchanged.
//!
//! Each block goes out numbered and the inference thread waits for its conversion until the
//! network budget the latency reserves runs out. A block that is not back by then plays the dry
//! input, faded out of the server's last pending output as a local voice hands over to "no
//! voice"; when it arrives later its number says it is late and it is dropped. With no server
//! connected every block plays dry at once, so the stream keeps its timing while the link
//! reconnects.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::link::{Link, LinkPlan, Outgoing};
use super::remote_stats::RemoteStats;
use crate::remote::{Arrival, AudioBlock, ClientMessage, ConvertedBlock, SequenceTracker};
use crate::rvc_processor::{ControlSource, ConversionControls};
use crate::stream::block_processor::FadeFrom;
use crate::stream::{BlockProcessor, InputHistory};

/// How often a wait for a block checks that the link is still connected.
const WAIT_SLICE: Duration = Duration::from_millis(5);

pub struct RemoteProcessor {
    link: Link,
    stats: Arc<RemoteStats>,
    controls: ControlSource,
    /// The controls the server has, to send only changes.
    sent_controls: ConversionControls,
    /// The link's connection count when controls were last sent.
    connection: u64,
    block: usize,
    delay: usize,
    /// How long a block may take to come back: the network budget (offline: much longer).
    wait: Duration,
    next_seq: u64,
    tracker: SequenceTracker,
    fade: FadeFrom,
    /// What the server would play after the last block that played, weighted.
    pending: (Vec<f32>, Vec<f32>),
    /// The last block played the dry input (missed, or nothing played yet).
    missed_last: bool,
    silence: Vec<f32>,
}

impl RemoteProcessor {
    /// Convert through the server of `plan`, starting with `first` when the front end connected
    /// already (to measure the network budget before reporting its latency). `crossfade` is the
    /// stream's; `wait` is how long each block may take to come back.
    pub fn start(
        plan: LinkPlan,
        first: Option<Connection>,
        crossfade: usize,
        wait: Duration,
        stats: Arc<RemoteStats>,
    ) -> std::io::Result<Self> {
        let (block, delay, controls) = (plan.hello.block as usize, plan.processor_delay, plan.controls.clone());
        let sent_controls = plan.hello.controls;
        let link = Link::start(plan, first, stats.clone())?;
        Ok(Self {
            connection: stats.connections.load(Ordering::Relaxed),
            link,
            stats,
            controls,
            sent_controls,
            block,
            delay,
            wait,
            next_seq: 0,
            tracker: SequenceTracker::default(),
            fade: FadeFrom::new(crossfade),
            pending: (vec![0.0; crossfade], vec![0.0; crossfade]),
            missed_last: true,
            silence: vec![0.0; crossfade],
        })
    }

    pub fn stats(&self) -> &Arc<RemoteStats> {
        &self.stats
    }

    /// Send block `seq` and wait for its conversion until the budget runs out.
    fn exchange(&mut self, seq: u64, samples: &[f32]) -> Option<ConvertedBlock> {
        let controls = (self.controls)();
        // A new connection started from the controls of its hello, which may predate changes
        // made while it was connecting: the first block on it sends them again.
        let connection = self.stats.connections.load(Ordering::Relaxed);
        if controls != self.sent_controls || connection != self.connection {
            self.connection = connection;
            let text = ClientMessage::Controls(controls).to_text();
            if self.link.outgoing.try_send(Outgoing::Text(text)).is_ok() {
                self.sent_controls = controls;
            }
        }
        // One allocation per block on the inference thread (never the audio thread): the frame
        // goes to the link's thread by value.
        let frame = AudioBlock { seq, samples: samples.to_vec() }.encode();
        if self.link.outgoing.try_send(Outgoing::Frame(frame)).is_err() {
            return None;
        }
        let sent = Instant::now();
        let deadline = sent + self.wait;
        loop {
            // In slices, so that a connection the link finds broken ends the wait at once.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.stats.is_connected() {
                return None;
            }
            let Ok(block) = self.link.incoming.recv_timeout(left.min(WAIT_SLICE)) else { continue };
            // A number ahead of the block just sent is no conversion of ours: a server that sends
            // one must not make every later block look late.
            if block.seq > seq {
                continue;
            }
            if self.tracker.arrive(block.seq) == Arrival::Late {
                // Its compute still says why it was late: a server slower than real time.
                self.stats.compute_us.store(block.compute_us, Ordering::Relaxed);
                self.stats.late_blocks.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let fits = block.signal.len() == self.block && block.pending_signal.len() <= self.pending.0.len();
            if block.seq == seq && fits {
                let ms = sent.elapsed().as_secs_f64() * 1e3 - f64::from(block.compute_us) / 1e3;
                self.stats.overhead.record(ms);
                return Some(block);
            }
        }
    }
}

impl BlockProcessor for RemoteProcessor {
    fn delay(&self) -> usize {
        self.delay
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let received = if self.stats.is_connected() { self.exchange(seq, input.newest(self.block)) } else { None };
        match received {
            Some(block) => {
                output.copy_from_slice(&block.signal);
                weight.copy_from_slice(&block.weight);
                if self.missed_last {
                    self.fade.start(&self.silence, &self.silence);
                }
                self.fade.apply(output, weight);
                let n = block.pending_signal.len();
                self.pending.0.fill(0.0);
                self.pending.1.fill(0.0);
                self.pending.0[..n].copy_from_slice(&block.pending_signal);
                self.pending.1[..n].copy_from_slice(&block.pending_weight);
                self.missed_last = false;
                self.stats.converted_blocks.fetch_add(1, Ordering::Relaxed);
                self.stats.compute_us.store(block.compute_us, Ordering::Relaxed);
            }
            None => {
                self.tracker.passed(seq);
                self.stats.missed_blocks.fetch_add(1, Ordering::Relaxed);
                output.fill(0.0);
                weight.fill(0.0);
                if !self.missed_last {
                    self.fade.start(&self.pending.0, &self.pending.1);
                }
                self.fade.apply(output, weight);
                self.missed_last = true;
            }
        }
    }

    fn reset(&mut self) {
        let _ = self.link.outgoing.try_send(Outgoing::Text(ClientMessage::Reset.to_text()));
        self.fade.stop();
        self.pending.0.fill(0.0);
        self.pending.1.fill(0.0);
    }

    fn pending_output(&self, _input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        out.fill(0.0);
        weight.fill(0.0);
        if !self.missed_last {
            let n = self.pending.0.len().min(out.len());
            out[..n].copy_from_slice(&self.pending.0[..n]);
            weight[..n].copy_from_slice(&self.pending.1[..n]);
        }
        self.fade.pending(out, weight);
    }

    /// A voice slot switching to this server voice: the server forgets what it converted when
    /// the slot last played, and the first block fades in from what the previous slot would have
    /// played (or, if it does not come back in time, fades from that to the dry input).
    fn take_over(&mut self, _input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        let _ = self.link.outgoing.try_send(Outgoing::Text(ClientMessage::Reset.to_text()));
        self.fade.start(pending, pending_weight);
        let n = pending.len().min(pending_weight.len()).min(self.pending.0.len());
        self.pending.0.fill(0.0);
        self.pending.1.fill(0.0);
        self.pending.0[..n].copy_from_slice(&pending[..n]);
        self.pending.1[..n].copy_from_slice(&pending_weight[..n]);
        self.missed_last = false;
    }
}
