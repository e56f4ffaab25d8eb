//! Text spoken into a live stream (what the editor's Say box does): the Piper voice speaks on its
//! own thread into a queue at the stream's rate, which the audio thread drains block by block.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rvc_live_engine::text_to_speech::{SpeechPlayback, SpeechRequests, SpeechState, SpeechThread};

const RATE: u32 = 48_000;
const BLOCK: usize = 480;

fn piper_voice() -> PathBuf {
    rvc_live_test_support::speech::piper_voice()
}

/// Drain the playback as an audio thread would, 10 ms per call (faster than real time), until the
/// speech ends (or `until` says stop); returns the speech that came out, without the silence of
/// calls that found the queue empty.
fn play(playback: &mut SpeechPlayback, requests: &SpeechRequests, mut until: impl FnMut(usize) -> bool) -> Vec<f32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut heard = Vec::new();
    let mut block = vec![0.0; BLOCK];
    loop {
        let spoken = playback.take(&mut block);
        assert!(block[spoken..].iter().all(|&s| s == 0.0), "silence after the speech a call found");
        heard.extend_from_slice(&block[..spoken]);
        let state = requests.state();
        let finished = !matches!(state, SpeechState::Speaking { .. } | SpeechState::Idle);
        if (finished && spoken == 0) || until(heard.len()) {
            return heard;
        }
        assert!(Instant::now() < deadline, "still {state:?} after a minute");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn text_is_spoken_into_the_queue_at_the_stream_rate() {
    let requests = Arc::new(SpeechRequests::default());
    let (_thread, mut playback) = SpeechThread::spawn(requests.clone(), RATE).unwrap();
    requests.say(piper_voice(), "The birch canoe slid on the smooth planks.".into());
    let heard = play(&mut playback, &requests, |_| false);
    let SpeechState::Spoke { seconds, first_audio, real_time_factor } = requests.state() else {
        panic!("{:?}", requests.state());
    };
    eprintln!("{}", requests.state().describe());
    assert!((1.5..6.0).contains(&seconds), "{seconds} s for one sentence");
    // All of it came out, at the stream's rate.
    assert_eq!(heard.len(), (seconds * f64::from(RATE)).round() as usize, "{seconds} s");
    assert!(heard.iter().all(|s| s.is_finite()));
    let rms = (heard.iter().map(|s| s * s).sum::<f32>() / heard.len() as f32).sqrt();
    assert!(rms > 0.02, "speech, not silence: rms {rms}");
    assert!(first_audio > Duration::ZERO && real_time_factor > 0.0);
}

#[test]
fn stop_drops_what_is_queued_and_the_rest_of_the_text() {
    let requests = Arc::new(SpeechRequests::default());
    let (_thread, mut playback) = SpeechThread::spawn(requests.clone(), RATE).unwrap();
    let long = "This sentence goes on for a while so that there is speech left to stop. ".repeat(6);
    requests.say(piper_voice(), long);
    // Half a second after the speech starts, stop.
    let mut started = None;
    play(&mut playback, &requests, |n| {
        let first = *started.get_or_insert(n);
        n > first + RATE as usize / 2 && matches!(requests.state(), SpeechState::Speaking { first_audio: Some(_) })
    });
    requests.stop();
    // A piece already on its way may still come; after it, silence.
    let mut block = vec![0.0; BLOCK];
    std::thread::sleep(Duration::from_millis(100));
    playback.take(&mut block);
    for _ in 0..50 {
        assert_eq!(playback.take(&mut block), 0, "speech after Stop");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(requests.state(), SpeechState::Stopped);
}

/// Stop pressed before the thread took the text (here: with no thread at all, as while the plugin
/// is inactive) says so, rather than speaking forever.
#[test]
fn stop_before_the_text_is_taken_says_stopped() {
    let requests = SpeechRequests::default();
    requests.say(piper_voice(), "Never said.".into());
    assert!(matches!(requests.state(), SpeechState::Speaking { .. }));
    requests.stop();
    assert_eq!(requests.state(), SpeechState::Stopped);
}

#[test]
fn bad_text_and_a_missing_voice_fail_with_a_reason_and_the_thread_goes_on() {
    let requests = Arc::new(SpeechRequests::default());
    let (_thread, mut playback) = SpeechThread::spawn(requests.clone(), RATE).unwrap();
    let cases = [
        (piper_voice(), String::new(), "no text"),
        (piper_voice(), "x".repeat(10_000), "5000"),
        (PathBuf::from("/nonexistent/voice.onnx"), "Hello.".into(), "/nonexistent/voice.onnx"),
    ];
    for (voice, text, reason) in cases {
        requests.say(voice, text);
        let heard = play(&mut playback, &requests, |_| false);
        assert!(heard.is_empty(), "{} samples of speech", heard.len());
        let SpeechState::Failed(why) = requests.state() else { panic!("{:?}", requests.state()) };
        assert!(why.contains(reason), "{why}");
    }
    requests.say(piper_voice(), "Still here.".into());
    play(&mut playback, &requests, |_| false);
    assert!(matches!(requests.state(), SpeechState::Spoke { .. }), "{:?}", requests.state());
}
