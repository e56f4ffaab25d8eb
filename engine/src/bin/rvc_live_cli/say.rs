//! `rvc-live say`: text spoken by a Piper voice, then converted through the streaming engine.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use rvc_live_engine::text_to_speech::{MAX_TEXT_CHARS, TextToSpeech, TtsError};

use crate::convert::{Conversion, ConversionArgs};

/// The `say` command's help: what it does and what its two timings mean.
pub fn long_about() -> String {
    format!(
        "\
Say text with a Piper voice and convert the speech with a voice, through the same streaming engine \
as `convert`.

The text is split into sentences, phonemized with espeak-ng (which must be installed) and spoken by \
the Piper voice (PIPER.onnx with its PIPER.onnx.json) one utterance at a time; each utterance is fed \
to the stream at the Piper voice's rate as soon as it is spoken. The output WAV is the converted \
voice at that rate, as long as the speech.

Time to first audio: the wall time from the moment the loaded models are given the text until the \
stream hands back its first converted block, i.e. the first utterance phonemized and spoken plus \
the conversion of the blocks up to the first one holding converted speech. Loading the models is \
timed separately and not counted. The stream's latency (printed) is a delay a live stream adds on \
top, not computing time. With --tts-only: until the first utterance is spoken.

Real-time factor: the wall time from the text to the last converted sample (speaking and \
converting, as they alternate) divided by the speech's duration; below 1 is faster than real time.

Text longer than {MAX_TEXT_CHARS} characters (about five minutes of speech), empty text, and text in which \
espeak-ng finds nothing to pronounce are refused. Text in scripts espeak-ng does not read in the voice's \
language is spelt (\"Japanese letter …\"), as espeak-ng does."
    )
}

#[derive(Args)]
pub struct SayArgs {
    /// The text to say (`-` reads it from standard input).
    text: String,
    /// The WAV file to write (mono, 32-bit float, at the Piper voice's rate).
    output: PathBuf,
    /// The Piper voice (`.onnx`, with its `.onnx.json` beside it) that speaks the text.
    #[arg(long)]
    tts_voice: PathBuf,
    /// The voice model the speech is converted with (RVC synthesizer `.onnx` or `.pth`).
    #[arg(long, required_unless_present = "tts_only")]
    voice: Option<PathBuf>,
    /// The content encoder (ContentVec/HuBERT `.onnx`) the voice was trained with.
    #[arg(long, required_unless_present = "tts_only")]
    content_encoder: Option<PathBuf>,
    /// Write the Piper voice's speech unconverted (no voice is loaded).
    #[arg(long, conflicts_with_all = ["voice", "content_encoder"])]
    tts_only: bool,
    /// The speaker of a multi-speaker Piper voice.
    #[arg(long, default_value_t = 0)]
    tts_speaker: u32,
    /// Speaking rate: phoneme durations are multiplied by it (above 1 is slower); the Piper voice's
    /// own by default.
    #[arg(long)]
    length_scale: Option<f32>,
    /// How much the Piper voice varies its timbre (0 always speaks the same); its own by default.
    #[arg(long)]
    noise_scale: Option<f32>,
    /// How much the Piper voice varies phoneme durations (0 always speaks the same); its own by
    /// default.
    #[arg(long)]
    noise_w: Option<f32>,
    #[command(flatten)]
    conversion: ConversionArgs,
}

pub fn run(args: SayArgs) -> Result<(), String> {
    let text = if args.text == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read the text from stdin: {e}"))?;
        text
    } else {
        args.text.clone()
    };
    let loading = Instant::now();
    let speech_voice = |e: TtsError| format!("cannot use the speech voice: {e}");
    let mut tts = TextToSpeech::open(&args.tts_voice, args.conversion.threads).map_err(speech_voice)?;
    tts.speaker = args.tts_speaker;
    if let Some(length_scale) = args.length_scale {
        if !(0.1..=10.0).contains(&length_scale) {
            return Err(format!("--length-scale {length_scale} is outside 0.1–10"));
        }
        tts.scales.length_scale = length_scale;
    }
    for (name, value, scale) in [
        ("--noise-scale", args.noise_scale, &mut tts.scales.noise_scale),
        ("--noise-w", args.noise_w, &mut tts.scales.noise_w),
    ] {
        match value {
            Some(v) if !(0.0..=2.0).contains(&v) => return Err(format!("{name} {v} is outside 0–2")),
            Some(v) => *scale = v,
            None => {}
        }
    }
    tts.check_text(&text).map_err(|e| format!("cannot say this text: {e}"))?;
    let rate = tts.sample_rate();
    let mut conversion = match (&args.voice, &args.content_encoder) {
        (Some(voice), Some(encoder)) if !args.tts_only => {
            let selection = args.conversion.selection(voice.clone(), encoder.clone());
            let settings = args.conversion.settings();
            Some(Conversion::start(&selection, &settings, args.conversion.controls(), args.conversion.threads, rate)?)
        }
        _ => None,
    };
    eprintln!("{}: Piper voice at {rate} Hz, espeak-ng voice {}", args.tts_voice.display(), tts.phonemizer().voice());
    if let Some(conversion) = &conversion {
        let latency = conversion.latency();
        let ms = conversion.geometry().samples_to_ms(latency);
        eprintln!("converting at {rate} Hz; latency {latency} samples ({ms:.1} ms)\n{}", conversion.summary());
    }
    eprintln!("models loaded in {:.2} s (not counted below)", loading.elapsed().as_secs_f64());

    let started = Instant::now();
    let (mut speaking, mut converting) = (Duration::ZERO, Duration::ZERO);
    let (mut first_spoken, mut first_audio) = (None, None);
    let (mut speech, mut utterances) = (Vec::new(), 0usize);
    let mut spoken = tts.speak(&text).map_err(|e| format!("cannot say this text: {e}"))?;
    loop {
        let t = Instant::now();
        let Some(audio) = spoken.next() else { break };
        let audio = audio.map_err(|e| format!("cannot say this text: {e}"))?;
        speaking += t.elapsed();
        first_spoken.get_or_insert_with(|| started.elapsed());
        utterances += 1;
        if let Some(conversion) = conversion.as_mut() {
            let t = Instant::now();
            conversion.push(&audio);
            converting += t.elapsed();
            if first_audio.is_none() {
                first_audio = conversion.first_converted().map(|t| t.duration_since(started));
            }
        }
        speech.extend_from_slice(&audio);
    }
    let (output, report) = match conversion.take() {
        Some(conversion) => {
            let t = Instant::now();
            let (converted, report) = conversion.finish();
            converting += t.elapsed();
            (converted, Some(report))
        }
        None => (std::mem::take(&mut speech), None),
    };
    let elapsed = started.elapsed();
    let first_audio = match &report {
        Some(report) => first_audio.or(report.first_converted.map(|t| t.duration_since(started))).unwrap_or(elapsed),
        None => first_spoken.unwrap_or(elapsed),
    };
    crate::write_wav(&args.output, rate, &output)?;

    let seconds = output.len() as f64 / f64::from(rate);
    let total = elapsed.as_secs_f64();
    eprintln!("said {utterances} utterance(s): {seconds:.2} s of speech");
    let first_spoken = first_spoken.unwrap_or_default();
    match &report {
        Some(_) => eprintln!(
            "time to first audio {:.0} ms (first utterance spoken after {:.0} ms, its first converted block {:.0} ms later)",
            ms(first_audio),
            ms(first_spoken),
            ms(first_audio.saturating_sub(first_spoken))
        ),
        None => eprintln!("time to first audio {:.0} ms (first utterance spoken, unconverted)", ms(first_audio)),
    }
    eprintln!(
        "real-time factor {:.3} ({:.1}x faster than real time): {total:.2} s in all, speaking {:.2} s, converting \
         {:.2} s",
        total / seconds,
        seconds / total,
        speaking.as_secs_f64(),
        converting.as_secs_f64(),
    );
    if let Some(report) = &report {
        report.print_stages();
    }
    eprintln!("wrote {}", args.output.display());
    report.and_then(|r| r.problem()).map_or(Ok(()), Err)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
