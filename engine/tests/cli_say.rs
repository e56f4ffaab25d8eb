//! `rvc-live say`: text spoken by the Piper voice `cargo xtask models` provides, converted with the
//! analytic voice (which sings a pure tone at the pitch it tracks) through the streaming engine.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use realfft::RealFftPlanner;
use rvc_live_engine::text_to_speech::MAX_TEXT_CHARS;

const SENTENCE: &str = "The birch canoe slid on the smooth planks, then it stopped.";

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rvc-live-say-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn piper_voice() -> PathBuf {
    common::model("speech", "en_US-joe-medium.onnx")
}

/// `rvc-live say TEXT OUTPUT --tts-voice joe` with `extra`, converting with the analytic voice
/// unless `extra` asks for `--tts-only`. The Piper voice's noise is off, so the same text is
/// always the same speech.
fn say(text: &str, output: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rvc-live"));
    command.arg("say").arg(text).arg(output).arg("--tts-voice").arg(piper_voice());
    command.args(["--noise-scale", "0", "--noise-w", "0"]).args(extra);
    if !extra.contains(&"--tts-only") {
        command.arg("--voice").arg(common::analytic("analytic_synth_v2_40k.onnx"));
        command.arg("--content-encoder").arg(common::analytic("analytic_content_units.onnx"));
    }
    command.output().unwrap()
}

fn log(run: &Output) -> String {
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(!log.contains("panicked"), "the command panicked:\n{log}");
    log
}

fn read(path: &Path) -> (u32, Vec<f32>) {
    let mut reader = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = reader.spec().sample_rate;
    (rate, reader.samples::<f32>().map(Result::unwrap).collect())
}

/// For each loud frame (within 20 dB of the loudest), the share of its energy within ±3 bins of
/// its strongest bin (near 1 for a pure tone, well below for speech's many harmonics and
/// formants), and that bin's frequency.
fn tonality(audio: &[f32], rate: u32) -> Vec<(f32, f32)> {
    const N: usize = 2048;
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N);
    let window: Vec<f32> = (0..N).map(|i| (std::f32::consts::PI * i as f32 / N as f32).sin().powi(2)).collect();
    let frames: Vec<Vec<f32>> =
        audio.windows(N).step_by(N / 2).map(|f| f.iter().zip(&window).map(|(x, w)| x * w).collect()).collect();
    let energy = |f: &[f32]| f.iter().map(|x| x * x).sum::<f32>();
    let loudest = frames.iter().map(|f| energy(f)).fold(0.0, f32::max);
    let mut spectrum = fft.make_output_vec();
    let mut result = Vec::new();
    for mut frame in frames.into_iter().filter(|f| energy(f) > loudest * 0.01) {
        fft.process(&mut frame, &mut spectrum).unwrap();
        let power: Vec<f32> = spectrum.iter().map(|c| c.norm_sqr()).collect();
        let peak = (0..power.len()).max_by(|&a, &b| power[a].total_cmp(&power[b])).unwrap();
        let near: f32 = power[peak.saturating_sub(3)..(peak + 4).min(power.len())].iter().sum();
        result.push((near / power.iter().sum::<f32>(), peak as f32 * rate as f32 / N as f32));
    }
    result
}

fn median(mut values: Vec<f32>) -> f32 {
    assert!(!values.is_empty());
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

#[test]
fn say_speaks_the_text_and_the_voice_sings_it_at_the_speech_pitch() {
    let dir = Dir::new("sentence");
    let (spoken, converted, shifted) = (dir.0.join("tts.wav"), dir.0.join("converted.wav"), dir.0.join("octave.wav"));

    let run = say(SENTENCE, &spoken, &["--tts-only"]);
    let text = log(&run);
    assert!(run.status.success(), "{text}");
    assert!(text.contains("time to first audio") && text.contains("real-time factor"), "{text}");
    let (rate, speech) = read(&spoken);
    assert_eq!(rate, 22_050, "the Piper voice's rate");
    let seconds = speech.len() as f32 / rate as f32;
    assert!((2.0..8.0).contains(&seconds), "{seconds} s of speech for one sentence");
    assert!(speech.iter().all(|s| s.is_finite()) && speech.iter().any(|s| s.abs() > 0.05), "speech is silent");

    let run = say(SENTENCE, &converted, &[]);
    let text = log(&run);
    assert!(run.status.success(), "{text}");
    for line in ["latency", "time to first audio", "its first converted block", "real-time factor", "synthesizer"] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    let (rate, voice) = read(&converted);
    assert_eq!(rate, 22_050);
    assert_eq!(voice.len(), speech.len(), "the converted voice is as long as the speech");
    assert!(voice.iter().all(|s| s.is_finite()), "non-finite samples");

    // The voice model ran: where the speech has formants and harmonics, the converted voice is one
    // tone, at a voice's pitch.
    let speech_tone = tonality(&speech, rate);
    let voice_tone = tonality(&voice, rate);
    assert!(voice_tone.len() >= speech_tone.len() / 3, "the converted voice is mostly silent");
    let speech_purity = median(speech_tone.iter().map(|t| t.0).collect());
    let voice_purity = median(voice_tone.iter().map(|t| t.0).collect());
    let pitch = median(voice_tone.iter().map(|t| t.1).collect());
    eprintln!("energy at one frequency: speech {speech_purity:.2}, converted {voice_purity:.2}; sung at {pitch:.1} Hz");
    assert!(speech_purity < 0.6, "the speech is nearly a pure tone ({speech_purity:.2}): not speech?");
    assert!(voice_purity > 0.8, "the converted voice is not the analytic voice's tone ({voice_purity:.2})");
    assert!((60.0..300.0).contains(&pitch), "the voice sings at {pitch} Hz, not a speaking voice's pitch");

    // And it follows the pitch it is given: an octave up sings at twice the frequency.
    let run = say(SENTENCE, &shifted, &["--pitch", "12"]);
    assert!(run.status.success(), "{}", log(&run));
    let (_, octave) = read(&shifted);
    let octave_pitch = median(tonality(&octave, rate).iter().map(|t| t.1).collect());
    eprintln!("an octave up: {octave_pitch:.1} Hz");
    assert!((octave_pitch / pitch / 2.0 - 1.0).abs() < 0.1, "{pitch} Hz an octave up sang {octave_pitch} Hz");
}

/// Text longer than one utterance is spoken sentence by sentence (and a run-on sentence in
/// pieces), every piece converted, nothing left out; the text can come on stdin.
#[test]
fn say_speaks_long_text_in_utterances_from_stdin() {
    let dir = Dir::new("long");
    let output = dir.0.join("long.wav");
    let words = ["gentle", "rain", "falls", "on", "the", "quiet", "harbour", "and"];
    let run_on: Vec<&str> = (0..140).map(|i| words[i % words.len()]).collect();
    let text = format!("{SENTENCE} {}. {SENTENCE}", run_on.join(" "));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .args(["say", "-"])
        .arg(&output)
        .arg("--tts-voice")
        .arg(piper_voice())
        .arg("--voice")
        .arg(common::analytic("analytic_synth_v2_40k.onnx"))
        .arg("--content-encoder")
        .arg(common::analytic("analytic_content_units.onnx"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let run = child.wait_with_output().unwrap();
    let log = log(&run);
    assert!(run.status.success(), "{log}");
    let utterances: usize = log
        .lines()
        .find_map(|l| l.strip_prefix("said ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no utterance count in:\n{log}"));
    assert!(utterances >= 4, "{utterances} utterances: the run-on sentence was not cut:\n{log}");
    let (rate, voice) = read(&output);
    let seconds = voice.len() as f32 / rate as f32;
    // About 0.35 s a word as this voice speaks them.
    assert!((30.0..90.0).contains(&seconds), "{seconds} s for {} words", run_on.len() + 20);
    assert!(voice.iter().all(|s| s.is_finite()));
    let loud = tonality(&voice, rate).len() as f32 * 1024.0 / rate as f32;
    assert!(loud > seconds / 3.0, "only {loud} s of {seconds} s is voiced: utterances were lost");
}

/// Text that cannot be said is refused before anything loads or is written, with the reason and a
/// non-zero exit, never a panic. Scripts espeak-ng spells out in English are said.
#[test]
fn say_refuses_text_it_cannot_say_and_spells_other_scripts() {
    let dir = Dir::new("text");
    let output = dir.0.join("out.wav");
    // Twice the limit: 10 000 characters, the example of absurd text.
    let long = "word ".repeat(2 * MAX_TEXT_CHARS / 5);
    let too_long = format!("the text is {} characters long; at most {MAX_TEXT_CHARS}", long.chars().count());
    for (text, why) in [
        ("", "there is no text to say"),
        ("  \n\t ", "there is no text to say"),
        (long.as_str(), too_long.as_str()),
        ("\u{1FAE0}\u{1FAE8}", "finds nothing it can pronounce"),
        ("((( ))) ...", "finds nothing it can pronounce"),
    ] {
        let run = say(text, &output, &[]);
        let log = log(&run);
        assert!(!run.status.success(), "{text:?} was said:\n{log}");
        assert!(log.contains("rvc-live: cannot say this text") && log.contains(why), "{text:?}:\n{log}");
        assert!(!output.exists(), "{text:?}: a file was written");
    }
    for text in ["こんにちは世界", "مرحبا بالعالم", "😀"] {
        let run = say(text, &output, &[]);
        let log = log(&run);
        assert!(run.status.success(), "{text:?}:\n{log}");
        let (_, voice) = read(&output);
        assert!(!voice.is_empty() && voice.iter().all(|s| s.is_finite()), "{text:?}");
    }
}

#[test]
fn say_names_what_is_missing() {
    let dir = Dir::new("missing");
    let output = dir.0.join("out.wav");
    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .args(["say", SENTENCE])
        .arg(&output)
        .arg("--tts-voice")
        .arg(piper_voice())
        .arg("--tts-only")
        .env("RVC_LIVE_ESPEAK_NG", "/nonexistent/espeak-ng")
        .output()
        .unwrap();
    let text = log(&run);
    assert!(!run.status.success());
    assert!(
        text.contains("/nonexistent/espeak-ng is not installed") && text.contains("apt-get install espeak-ng"),
        "{text}"
    );

    // A Piper voice needs its config; an RVC voice is not a Piper voice.
    let lone = dir.0.join("lone.onnx");
    std::fs::copy(piper_voice(), &lone).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .args(["say", SENTENCE])
        .arg(&output)
        .arg("--tts-voice")
        .arg(&lone)
        .arg("--tts-only")
        .output()
        .unwrap();
    let text = log(&run);
    assert!(!run.status.success());
    assert!(text.contains("cannot use the speech voice") && text.contains("lone.onnx.json"), "{text}");
    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .args(["say", SENTENCE])
        .arg(&output)
        .arg("--tts-voice")
        .arg(common::analytic("analytic_synth_v2_40k.onnx"))
        .arg("--tts-only")
        .output()
        .unwrap();
    let text = log(&run);
    assert!(!run.status.success());
    assert!(text.contains("not a Piper (VITS) voice"), "{text}");
}
