//! Text spoken by a Piper voice, utterance by utterance.

use std::collections::VecDeque;
use std::path::Path;

use super::error::TtsError;
use super::phonemizer::Phonemizer;
use super::piper_voice::{PiperVoice, Scales};
use super::utterances::{sentences, utterances};

/// The longest text spoken at once, in characters: about five minutes of speech, a few minutes'
/// work on two cores. Longer text is refused with this limit in the message, to be split into
/// several files, rather than kept waiting on; the memory spoken text takes is bounded by the
/// utterance, not the text, so the limit is one of patience only.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// The most phoneme ids one utterance gives the voice (about 200 phonemes, a long sentence).
pub const MAX_UTTERANCE_IDS: usize = 400;

/// A Piper voice with the espeak-ng phonemizer for its language.
pub struct TextToSpeech {
    voice: PiperVoice,
    phonemizer: Phonemizer,
    /// The scales every utterance is spoken with.
    pub scales: Scales,
    /// The speaker of a multi-speaker voice.
    pub speaker: u32,
}

impl TextToSpeech {
    /// Open the Piper voice `model` (with its `X.onnx.json`) and check that espeak-ng speaks its
    /// language.
    pub fn open(model: &Path, threads: usize) -> Result<Self, TtsError> {
        let voice = PiperVoice::open(model, threads)?;
        let phonemizer = Phonemizer::new(&voice.config().espeak.voice);
        phonemizer.check()?;
        let scales = Scales::from(voice.config().inference);
        Ok(Self { voice, phonemizer, scales, speaker: 0 })
    }

    pub fn voice(&self) -> &PiperVoice {
        &self.voice
    }

    pub fn phonemizer(&self) -> &Phonemizer {
        &self.phonemizer
    }

    /// The rate the speech comes at, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.voice.sample_rate()
    }

    /// Whether `text` can be spoken: not empty, not too long, and with something espeak-ng can
    /// pronounce. Phonemizes sentences only until one has a sound, so it is quick for real text.
    pub fn check_text(&self, text: &str) -> Result<(), TtsError> {
        let sentences = checked_sentences(text)?;
        for sentence in &sentences {
            let clauses = self.phonemizer.clauses(sentence)?;
            if clauses.iter().any(|c| self.voice.config().phoneme_id_map.is_speakable(c)) {
                return Ok(());
            }
        }
        Err(nothing_to_say(text))
    }

    /// Speak `text`: an iterator over its utterances' audio, each spoken when it is asked for, so
    /// the first comes after one sentence. Text with nothing to say gives one
    /// [`TtsError::NothingToSay`]; after an error the iterator ends.
    pub fn speak<'a>(&'a mut self, text: &'a str) -> Result<Utterances<'a>, TtsError> {
        let sentences = checked_sentences(text)?;
        Ok(Utterances {
            tts: self,
            text,
            sentences: sentences.into(),
            pending: VecDeque::new(),
            spoken: 0,
            done: false,
        })
    }
}

fn checked_sentences(text: &str) -> Result<Vec<&str>, TtsError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(TtsError::TextTooLong { chars, max: MAX_TEXT_CHARS });
    }
    let sentences = sentences(text);
    if sentences.is_empty() {
        return Err(TtsError::EmptyText);
    }
    Ok(sentences)
}

fn nothing_to_say(text: &str) -> TtsError {
    let mut shown: String = text.trim().chars().take(40).collect();
    if text.trim().chars().count() > 40 {
        shown.push('…');
    }
    TtsError::NothingToSay { text: shown }
}

/// The audio of a text's utterances, at [`TextToSpeech::sample_rate`]; see [`TextToSpeech::speak`].
pub struct Utterances<'a> {
    tts: &'a mut TextToSpeech,
    text: &'a str,
    sentences: VecDeque<&'a str>,
    /// The current sentence's utterances not spoken yet, as IPA.
    pending: VecDeque<String>,
    spoken: usize,
    done: bool,
}

impl Utterances<'_> {
    fn next_utterance(&mut self) -> Result<Option<String>, TtsError> {
        loop {
            if let Some(ipa) = self.pending.pop_front() {
                return Ok(Some(ipa));
            }
            let Some(sentence) = self.sentences.pop_front() else {
                return if self.spoken == 0 { Err(nothing_to_say(self.text)) } else { Ok(None) };
            };
            let map = &self.tts.voice.config().phoneme_id_map;
            let clauses = self.tts.phonemizer.clauses(sentence)?;
            if clauses.iter().any(|c| map.is_speakable(c)) {
                self.pending = utterances(&clauses, map, MAX_UTTERANCE_IDS).into();
            }
        }
    }
}

impl Iterator for Utterances<'_> {
    type Item = Result<Vec<f32>, TtsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let spoken = self.next_utterance().and_then(|ipa| {
            let Some(ipa) = ipa else { return Ok(None) };
            let ids = self.tts.voice.config().phoneme_id_map.ids(&ipa);
            self.tts.voice.speak(&ids, self.tts.scales, self.tts.speaker).map(Some)
        });
        match spoken {
            Ok(Some(audio)) => {
                self.spoken += 1;
                Some(Ok(audio))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::super::phonemizer::tests::require_espeak;
    use super::super::piper_voice::PiperConfig;
    use super::*;

    fn speech_model(name: &str) -> PathBuf {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/models/speech").join(name);
        assert!(path.is_file(), "{} is missing: run `cargo xtask models`", path.display());
        path
    }

    #[derive(Deserialize)]
    struct Sentence {
        text: String,
        phonemes: String,
        ids: Vec<i64>,
    }

    #[derive(Deserialize)]
    struct Sentences {
        calibration: Vec<Sentence>,
        scored: Vec<Sentence>,
    }

    /// `models/generate_speech.py` phonemized these sentences in Python, as Piper does; the same
    /// text must give the voice the same ids here.
    #[test]
    fn phoneme_ids_are_the_ones_piper_gives_the_voice() {
        require_espeak();
        let config = PiperConfig::read(&PiperConfig::path_for(&speech_model("en_US-joe-medium.onnx"))).unwrap();
        let file = speech_model("sentences.json");
        let sentences: Sentences = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let phonemizer = Phonemizer::new(&config.espeak.voice);
        for sentence in sentences.calibration.iter().chain(&sentences.scored) {
            let ipa = phonemizer.ipa(&sentence.text).unwrap().unwrap();
            assert_eq!(ipa, sentence.phonemes, "{}", sentence.text);
            assert_eq!(config.phoneme_id_map.ids(&ipa), sentence.ids, "{}", sentence.text);
            let clauses = phonemizer.clauses(&sentence.text).unwrap();
            let spoken = utterances(&clauses, &config.phoneme_id_map, MAX_UTTERANCE_IDS);
            assert_eq!(spoken, [ipa], "a sentence that fits is spoken whole");
        }
    }

    /// The longest text taken, as run-on text (no sentence ends, few commas) still come out as
    /// utterances the voice can take, with nothing dropped.
    #[test]
    fn long_text_is_spoken_in_utterances_of_bounded_length() {
        require_espeak();
        let config = PiperConfig::read(&PiperConfig::path_for(&speech_model("en_US-joe-medium.onnx"))).unwrap();
        let map = &config.phoneme_id_map;
        let words = ["gentle", "rain", "falls", "on", "the", "quiet", "harbour", "and"];
        let text: String = (0..).map(|i| words[i % words.len()]).take(1_000).collect::<Vec<_>>().join(" ");
        let text = &text[..MAX_TEXT_CHARS.min(text.len())];
        assert!(text.len() >= MAX_TEXT_CHARS * 9 / 10);
        let sentences = checked_sentences(text).unwrap();
        let phonemizer = Phonemizer::new(&config.espeak.voice);
        let (mut count, mut symbols, mut whole) = (0, 0, 0);
        for sentence in sentences {
            let clauses = phonemizer.clauses(sentence).unwrap();
            whole += clauses.iter().map(|c| c.chars().filter(|&c| c != ' ').count()).sum::<usize>();
            for utterance in utterances(&clauses, map, MAX_UTTERANCE_IDS) {
                assert!(map.count(&utterance) <= MAX_UTTERANCE_IDS, "{utterance}");
                symbols += utterance.chars().filter(|&c| c != ' ' && c != ',' && c != '.').count();
                count += 1;
            }
        }
        assert!(count > 10, "{count} utterances");
        assert_eq!(symbols, whole, "every phoneme is spoken once");
        let too_long = "a ".repeat(MAX_TEXT_CHARS);
        assert_eq!(
            checked_sentences(&too_long),
            Err(TtsError::TextTooLong { chars: 2 * MAX_TEXT_CHARS, max: MAX_TEXT_CHARS })
        );
        assert_eq!(checked_sentences(" \n "), Err(TtsError::EmptyText));
    }
}
