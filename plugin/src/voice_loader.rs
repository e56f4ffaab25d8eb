//! Loads the voice the user picks while the plugin runs, and swaps it in between two blocks.
//!
//! The host may load a project (or the editor pick a voice) at any time; nice-plug does not
//! re-activate the plugin for that, so this thread watches the persisted voice's generation
//! counter. Loading a full-size voice takes seconds, so it happens here, neither on the audio
//! thread nor on the inference thread: the previous voice keeps converting meanwhile. The new
//! processor goes to the inference thread through a queue and the one it replaces comes back to
//! be freed here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rvc_live_engine::stream::{ProcessorBox, ProcessorSwap};

/// How often the loader looks for a new selection and for processors to free. A new voice is
/// heard at most this much later than it would be with a wake-up, and polling keeps the main
/// thread's `set_state` free of anything but a counter increment.
const POLL: Duration = Duration::from_millis(20);

/// Builds the processor for the current selection. `None` means the selection could not be
/// loaded (the reason is already reported) and the current processor should stay.
pub type LoadVoice = Box<dyn FnMut() -> Option<ProcessorBox> + Send>;

/// Owns the loader thread; dropping it stops and joins the thread (after a load in progress).
pub struct VoiceLoader {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl VoiceLoader {
    /// Watch `generation` (the persisted voice's counter, already at `loaded` for the processor
    /// the stream started with) and swap in what `load` builds whenever it moves.
    pub fn spawn(
        mut swap: ProcessorSwap,
        generation: Arc<dyn Fn() -> u64 + Send + Sync>,
        mut loaded: u64,
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
                let wanted = generation();
                if wanted != loaded && swap.incoming.slots() > 0 {
                    loaded = wanted;
                    if let Some(processor) = load() {
                        // A slot was checked above and only this thread pushes.
                        let _ = swap.incoming.push(processor);
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
