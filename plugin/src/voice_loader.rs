//! Loads the voices the user assigns to slots while the plugin runs, and puts each in its slot
//! between two blocks.
//!
//! The host may load a project (or the editor pick a voice) at any time; nice-plug does not
//! re-activate the plugin for that, so this thread watches each slot's generation counter.
//! Loading a full-size voice takes seconds, so it happens here, neither on the audio thread nor on
//! the inference thread: what the slot held keeps converting meanwhile. The new processor goes to
//! the inference thread through a queue and the one it replaces comes back to be freed here. The
//! selected slot loads first, then the others in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rvc_live_engine::stream::{ProcessorBox, ProcessorSwap, SlotProcessor};

/// How often the loader looks for a new selection and for processors to free. A new voice is
/// heard at most this much later than it would be with a wake-up, and polling keeps the main
/// thread's `set_state` free of anything but a counter increment.
const POLL: Duration = Duration::from_millis(20);

/// Builds the processor for a slot's current voice. `None` means the voice could not be loaded
/// (the reason is already reported) and the slot's processor should stay.
pub type LoadVoice = Box<dyn FnMut(usize) -> Option<ProcessorBox> + Send>;

/// What the loader watches: each slot's generation (a counter that moves with every new voice)
/// and the selected slot.
pub struct SlotWatch {
    pub generation: Arc<dyn Fn(usize) -> u64 + Send + Sync>,
    pub active: Arc<dyn Fn() -> usize + Send + Sync>,
}

/// Owns the loader thread; dropping it stops and joins the thread (after a load in progress).
pub struct VoiceLoader {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl VoiceLoader {
    /// Watch each slot's generation (`loaded` holds, per slot, the generation the stream started
    /// with, or `None` where the slot still has to be loaded) and put what `load` builds in its
    /// slot whenever it moves.
    pub fn spawn(
        mut swap: ProcessorSwap,
        watch: SlotWatch,
        mut loaded: Vec<Option<u64>>,
        mut load: LoadVoice,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new().name("rvc-live-voice-loader".into()).spawn(move || {
            while !stopping.load(Ordering::Acquire) {
                // Freed here, off the inference thread; a freed voice's hundreds of megabytes go
                // back to the system rather than staying in the allocator's arenas.
                let mut freed = false;
                while swap.retired.pop().is_ok() {
                    freed = true;
                }
                if freed {
                    rvc_live_engine::return_freed_memory();
                }
                if swap.incoming.slots() > 0 {
                    let active = (watch.active)();
                    let order = std::iter::once(active).chain((0..loaded.len()).filter(|&slot| slot != active));
                    let stale = order
                        .filter(|&slot| slot < loaded.len())
                        .find(|&slot| loaded[slot] != Some((watch.generation)(slot)));
                    if let Some(slot) = stale {
                        loaded[slot] = Some((watch.generation)(slot));
                        if let Some(processor) = load(slot) {
                            // A queue slot was checked above and only this thread pushes.
                            let _ = swap.incoming.push(SlotProcessor { slot, processor });
                        }
                        // The next slot loads right away, unless the thread is stopping.
                        continue;
                    }
                }
                std::thread::sleep(POLL);
            }
        })?;
        Ok(Self { stop, handle: Some(handle) })
    }
}

impl Drop for VoiceLoader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
