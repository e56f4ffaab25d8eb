//! Text spoken into a live stream: a Piper voice speaks on a thread of its own, its speech is
//! resampled to the stream's rate and queued, and the audio thread adds it to its input, so the
//! voice converts it like the microphone and it leaves by the same route (to OBS, to Discord).
//!
//! The speaking thread works ahead of playback by at most the queue, then waits for room, so
//! memory stays bounded however long the text; Stop drops what is queued on the audio thread's
//! next call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rtrb::{Consumer, Producer, RingBuffer};

use super::speech::TextToSpeech;
use crate::resampler::WindowResampler;

/// Speech queued ahead of playback.
const QUEUE_SECONDS: f64 = 2.0;
/// Speech is queued in pieces this long at most, so Stop leaves at most one piece behind.
const PIECE: usize = 1024;
/// How often the thread looks for text to say, and for room in the queue.
const POLL: Duration = Duration::from_millis(10);

/// What became of the last text.
#[derive(Debug, Clone, PartialEq)]
pub enum SpeechState {
    Idle,
    /// Speaking; `first_audio` is how long the first utterance took to reach the queue.
    Speaking {
        first_audio: Option<Duration>,
    },
    /// Spoken to the end: `seconds` of speech, its first audio after `first_audio`, computed at
    /// `real_time_factor` (time spent speaking over the speech's duration; waiting for room in
    /// the queue does not count).
    Spoke {
        seconds: f64,
        first_audio: Duration,
        real_time_factor: f64,
    },
    Stopped,
    Failed(String),
}

impl SpeechState {
    /// A line for the editor and the log.
    pub fn describe(&self) -> String {
        match self {
            Self::Idle => "Type text and press Say: it is spoken into the input and converted".into(),
            Self::Speaking { first_audio: None } => "Speaking…".into(),
            Self::Speaking { first_audio: Some(first) } => {
                format!("Speaking… (first audio after {:.0} ms)", first.as_secs_f64() * 1000.0)
            }
            Self::Spoke { seconds, first_audio, real_time_factor } => format!(
                "Spoke {seconds:.1} s: first audio after {:.0} ms, computed at {real_time_factor:.2}× real time",
                first_audio.as_secs_f64() * 1000.0
            ),
            Self::Stopped => "Stopped".into(),
            Self::Failed(why) => format!("Could not speak: {why}"),
        }
    }
}

/// Shared by whoever asks for speech (the editor, on the GUI thread), the speaking thread and the
/// audio thread (which reads the stop counter only, an atomic).
pub struct SpeechRequests {
    /// The text to say next with which Piper voice; a newer request replaces one not yet taken.
    next: Mutex<Option<(PathBuf, String)>>,
    /// Bumped by Stop: the speaking thread abandons its text, the audio thread drops the queue.
    stops: AtomicU64,
    state: Mutex<SpeechState>,
}

impl Default for SpeechRequests {
    fn default() -> Self {
        Self { next: Mutex::new(None), stops: AtomicU64::new(0), state: Mutex::new(SpeechState::Idle) }
    }
}

impl SpeechRequests {
    /// Say `text` with the Piper voice `tts_voice` (its `.onnx`, beside its `.onnx.json`), after
    /// what is being said now.
    pub fn say(&self, tts_voice: PathBuf, text: String) {
        // Speaking from now on, as far as anyone asks: the thread takes the text within a poll.
        let mut next = self.next.lock();
        *next = Some((tts_voice, text));
        self.set_state(SpeechState::Speaking { first_audio: None });
    }

    /// Stop speaking now: what is being said and what is queued are dropped.
    pub fn stop(&self) {
        // Under the lock the speaking thread takes text with, so it either finds no text or sees
        // the stop counted after it took the text.
        let mut next = self.next.lock();
        self.stops.fetch_add(1, Ordering::AcqRel);
        if next.take().is_some() {
            // Nothing will speak it, so nothing else would say it ended.
            self.set_state(SpeechState::Stopped);
        }
    }

    pub fn state(&self) -> SpeechState {
        self.state.lock().clone()
    }

    fn set_state(&self, state: SpeechState) {
        *self.state.lock() = state;
    }
}

/// The audio thread's end: speech at the stream's rate.
pub struct SpeechPlayback {
    queue: Consumer<f32>,
    requests: Arc<SpeechRequests>,
    stops_seen: u64,
}

impl SpeechPlayback {
    /// Fill `out` with the next speech samples, zeros where there is none; returns how many were
    /// speech (they come first). Real-time safe.
    pub fn take(&mut self, out: &mut [f32]) -> usize {
        let stops = self.requests.stops.load(Ordering::Acquire);
        if stops != self.stops_seen {
            self.stops_seen = stops;
            let queued = self.queue.slots();
            if let Ok(chunk) = self.queue.read_chunk(queued) {
                chunk.commit_all();
            }
        }
        let n = self.queue.slots().min(out.len());
        let (spoken, silent) = out.split_at_mut(n);
        if let Ok(chunk) = self.queue.read_chunk(n) {
            let (first, second) = chunk.as_slices();
            spoken[..first.len()].copy_from_slice(first);
            spoken[first.len()..].copy_from_slice(second);
            chunk.commit_all();
        }
        silent.fill(0.0);
        n
    }
}

/// Owns the speaking thread; dropping it stops and joins the thread (after the utterance being
/// spoken, a second or so at most).
pub struct SpeechThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl SpeechThread {
    /// Speak what `requests` asks for into a stream at `sample_rate`. Returns the thread and the
    /// audio thread's end of the queue.
    pub fn spawn(requests: Arc<SpeechRequests>, sample_rate: u32) -> std::io::Result<(Self, SpeechPlayback)> {
        let capacity = (QUEUE_SECONDS * f64::from(sample_rate)) as usize;
        let (producer, consumer) = RingBuffer::new(capacity.max(PIECE));
        let stop = Arc::new(AtomicBool::new(false));
        let playback = SpeechPlayback {
            queue: consumer,
            stops_seen: requests.stops.load(Ordering::Acquire),
            requests: requests.clone(),
        };
        let mut speaker = Speaker { requests, stop: stop.clone(), queue: producer, sample_rate, voice: None };
        let handle = std::thread::Builder::new().name("rvc-live-speech".into()).spawn(move || speaker.run())?;
        Ok((Self { stop, handle: Some(handle) }, playback))
    }
}

impl Drop for SpeechThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Why speaking ended early.
enum Interrupted {
    Stopped,
    Failed(String),
}

struct Speaker {
    requests: Arc<SpeechRequests>,
    stop: Arc<AtomicBool>,
    queue: Producer<f32>,
    sample_rate: u32,
    /// The Piper voice last used, kept open for the next text.
    voice: Option<(PathBuf, TextToSpeech)>,
}

impl Speaker {
    fn run(&mut self) {
        while !self.stop.load(Ordering::Acquire) {
            // The stop counter is read with the text, under its lock (see `SpeechRequests::stop`).
            let (request, stops) = {
                let mut next = self.requests.next.lock();
                (next.take(), self.requests.stops.load(Ordering::Acquire))
            };
            let Some((tts_voice, text)) = request else {
                std::thread::sleep(POLL);
                continue;
            };
            self.requests.set_state(SpeechState::Speaking { first_audio: None });
            // A panic in the Piper voice or the phonemizer ends this text, not the thread.
            let spoken = crate::panic_guard::catch(|| self.speak(&tts_voice, &text, stops))
                .unwrap_or_else(|why| Err(Interrupted::Failed(format!("internal error: {why}"))));
            let state = match spoken {
                Ok(state) => state,
                Err(Interrupted::Stopped) => SpeechState::Stopped,
                Err(Interrupted::Failed(why)) => {
                    tracing::warn!("RVC Live could not speak: {why}");
                    SpeechState::Failed(why)
                }
            };
            if let SpeechState::Spoke { .. } = state {
                tracing::info!("RVC Live {}", state.describe());
            }
            // Text asked for meanwhile is what the state tells of now.
            let next = self.requests.next.lock();
            if next.is_none() {
                self.requests.set_state(state);
            }
        }
    }

    fn speak(&mut self, tts_voice: &Path, text: &str, stops: u64) -> Result<SpeechState, Interrupted> {
        let started = Instant::now();
        if self.voice.as_ref().is_none_or(|(path, _)| path != tts_voice) {
            self.voice = None;
            let opened = TextToSpeech::open(tts_voice, 1)
                .map_err(|e| Interrupted::Failed(format!("{}: {e}", tts_voice.display())))?;
            self.voice = Some((tts_voice.to_path_buf(), opened));
        }
        let (queue, sample_rate, requests) = (&mut self.queue, self.sample_rate, &self.requests);
        let stop = &self.stop;
        let interrupted = || stop.load(Ordering::Acquire) || requests.stops.load(Ordering::Acquire) != stops;
        let tts = &mut self.voice.as_mut().expect("opened above").1;
        let tts_rate = tts.sample_rate();
        let mut resampler =
            WindowResampler::new(tts_rate, sample_rate).map_err(|e| Interrupted::Failed(e.to_string()))?;
        let (mut first_audio, mut waited, mut samples) = (None, Duration::ZERO, 0usize);
        for utterance in tts.speak(text).map_err(|e| Interrupted::Failed(e.to_string()))? {
            let audio = utterance.map_err(|e| Interrupted::Failed(e.to_string()))?;
            let mut resampled = vec![0.0; resampler.output_capacity(audio.len())];
            let written = resampler.resample(&audio, &mut resampled).map_err(|e| Interrupted::Failed(e.to_string()))?;
            let expected = (audio.len() as u64 * u64::from(sample_rate)).div_ceil(u64::from(tts_rate)) as usize;
            resampled.truncate(written.min(expected));
            for piece in resampled.chunks(PIECE) {
                let wait_started = Instant::now();
                while queue.slots() < piece.len() {
                    if interrupted() {
                        return Err(Interrupted::Stopped);
                    }
                    std::thread::sleep(POLL);
                }
                waited += wait_started.elapsed();
                if interrupted() {
                    return Err(Interrupted::Stopped);
                }
                let chunk = queue.write_chunk_uninit(piece.len()).expect("room was checked");
                chunk.fill_from_iter(piece.iter().copied());
                if first_audio.is_none() {
                    let first = started.elapsed();
                    first_audio = Some(first);
                    requests.set_state(SpeechState::Speaking { first_audio: Some(first) });
                }
            }
            samples += resampled.len();
        }
        let seconds = samples as f64 / f64::from(sample_rate);
        let computing = started.elapsed().saturating_sub(waited).as_secs_f64();
        Ok(SpeechState::Spoke {
            seconds,
            first_audio: first_audio.unwrap_or_default(),
            real_time_factor: if seconds > 0.0 { computing / seconds } else { 0.0 },
        })
    }
}
