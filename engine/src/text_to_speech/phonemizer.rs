//! Text to IPA phonemes with espeak-ng, the phonemizer Piper voices are trained on.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::error::TtsError;

/// Environment variable naming the espeak-ng program to run instead of `espeak-ng` on the `PATH`.
pub const ESPEAK_ENV: &str = "RVC_LIVE_ESPEAK_NG";

/// Runs espeak-ng for one language (an espeak voice such as `en-us`).
#[derive(Debug, Clone)]
pub struct Phonemizer {
    program: PathBuf,
    voice: String,
}

impl Phonemizer {
    /// A phonemizer for espeak's `voice`, running [`ESPEAK_ENV`]'s program or `espeak-ng`.
    pub fn new(voice: &str) -> Self {
        let program = std::env::var_os(ESPEAK_ENV).filter(|p| !p.is_empty()).map_or("espeak-ng".into(), PathBuf::from);
        Self { program, voice: voice.to_owned() }
    }

    /// The espeak voice (language) phonemes are made for.
    pub fn voice(&self) -> &str {
        &self.voice
    }

    /// Check that espeak-ng runs and has the voice, so a missing program is reported before any
    /// model loads rather than at the first sentence.
    pub fn check(&self) -> Result<(), TtsError> {
        self.clauses("a").map(drop)
    }

    /// espeak-ng's IPA for `text`, one entry per clause as espeak breaks it (at commas, sentence
    /// ends, paragraphs, and inside very long clauses). Empty when espeak finds nothing to say.
    pub fn clauses(&self, text: &str) -> Result<Vec<String>, TtsError> {
        // The text goes on stdin: as an argument, text starting with `-` would be read as options.
        let mut child = Command::new(&self.program)
            .args(["-q", "--ipa", "-v", &self.voice, "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TtsError::EspeakMissing { program: self.program.clone() },
                _ => TtsError::EspeakFailed { voice: self.voice.clone(), why: e.to_string() },
            })?;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        // Written from another thread: espeak answers while it reads, and a long text would fill
        // its output pipe while this thread still blocked on writing.
        let written = std::thread::scope(|scope| {
            let writer = scope.spawn(move || stdin.write_all(text.as_bytes()));
            let output = child.wait_with_output();
            (writer.join(), output)
        });
        let failed = |why: String| TtsError::EspeakFailed { voice: self.voice.clone(), why };
        let output = written.1.map_err(|e| failed(e.to_string()))?;
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if !output.status.success() {
            return Err(failed(if stderr.is_empty() { output.status.to_string() } else { stderr }));
        }
        match written.0 {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(failed(format!("it did not read the text: {e}"))),
            Err(_) => return Err(failed("writing the text to it failed".into())),
        }
        let ipa = String::from_utf8_lossy(&output.stdout);
        Ok(ipa.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    /// The IPA Piper speaks for `text`: espeak's clauses joined by ", " and ended by ".", where
    /// Piper's phonemizer keeps the punctuation espeak drops. `None` when there is nothing to say.
    pub fn ipa(&self, text: &str) -> Result<Option<String>, TtsError> {
        let clauses = self.clauses(text)?;
        Ok((!clauses.is_empty()).then(|| join_clauses(&clauses, true)))
    }
}

/// Clauses as one utterance: joined by ", ", ended by "." for a sentence's end or "," where a
/// sentence goes on in the next utterance.
pub(super) fn join_clauses(clauses: &[String], sentence_end: bool) -> String {
    let mut ipa = clauses.join(", ");
    ipa.push_str(if sentence_end { "." } else { "," });
    ipa
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The project's tests run where espeak-ng is installed (`cargo xtask test` installs it).
    pub(in super::super) fn require_espeak() {
        assert!(
            Command::new("espeak-ng").arg("--version").output().is_ok(),
            "espeak-ng is not installed: `apt-get install espeak-ng` (`cargo xtask test` installs it)"
        );
    }

    #[test]
    fn clauses_are_joined_and_ended_as_piper_keeps_its_punctuation() {
        require_espeak();
        let phonemizer = Phonemizer::new("en-us");
        let ipa = phonemizer.ipa("Hello, world! How are you?").unwrap().unwrap();
        assert_eq!(ipa.matches(", ").count(), 2, "{ipa}");
        assert!(ipa.ends_with('.') && !ipa.contains('\n'), "{ipa}");
        // Text that looks like options is spoken, not obeyed.
        let clauses = phonemizer.clauses("-x --help").unwrap();
        assert_eq!(clauses.len(), 1, "{clauses:?}");
        assert_eq!(phonemizer.ipa("((( ))) \u{1FAE0}").unwrap(), None);
    }

    #[test]
    fn a_missing_espeak_names_the_package_to_install() {
        let phonemizer = Phonemizer { program: "/nonexistent/espeak-ng".into(), voice: "en-us".into() };
        let message = phonemizer.check().unwrap_err().to_string();
        assert!(message.contains("/nonexistent/espeak-ng is not installed"), "{message}");
        assert!(message.contains("apt-get install espeak-ng"), "{message}");
    }

    #[test]
    fn an_unknown_language_says_espeak_does_not_have_it() {
        require_espeak();
        let message = Phonemizer::new("xx-nope").check().unwrap_err().to_string();
        assert!(message.contains("xx-nope") && message.contains("does not exist"), "{message}");
    }
}
