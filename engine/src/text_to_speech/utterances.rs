//! Long text in pieces a Piper voice speaks well: sentences, then utterances of bounded length.
//!
//! A VITS model's attention grows with the square of the utterance, and its first audio comes
//! only once the whole utterance is spoken; sentence by sentence, memory stays bounded and speech
//! starts after the first sentence.

use super::phoneme_ids::PhonemeIdMap;
use super::phonemizer::join_clauses;

/// Split `text` after sentence-final punctuation followed by white space, and at blank lines.
/// Pieces are trimmed; empty ones are left out.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let ends_sentence =
            matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？' | '؟') && next.is_none_or(char::is_whitespace);
        let blank_line = c == '\n' && text[i + 1..].trim_start_matches([' ', '\t', '\r']).starts_with('\n');
        if ends_sentence || blank_line {
            let end = i + c.len_utf8();
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter().map(str::trim).filter(|s| !s.is_empty()).collect()
}

/// One sentence's clauses (espeak's IPA, see [`Phonemizer::clauses`](super::Phonemizer::clauses))
/// as utterances of at most `max_ids` phoneme ids each (a word longer than that alone is cut).
/// Clauses go together while they fit; an utterance the sentence goes on after ends with ",",
/// the last with ".". A sentence that fits is one utterance, exactly as Piper phonemizes it.
pub fn utterances(clauses: &[String], map: &PhonemeIdMap, max_ids: usize) -> Vec<String> {
    let fits = |pieces: &[String]| map.count(&join_clauses(pieces, true)) <= max_ids;
    let mut pieces: Vec<String> = Vec::new();
    for clause in clauses {
        if fits(std::slice::from_ref(clause)) {
            pieces.push(clause.clone());
        } else {
            pieces.extend(split_clause(clause, &fits));
        }
    }
    let mut utterances = Vec::new();
    let mut group: Vec<String> = Vec::new();
    for piece in pieces {
        group.push(piece);
        if group.len() > 1 && !fits(&group) {
            let piece = group.pop().expect("just pushed");
            utterances.push(join_clauses(&group, false));
            group = vec![piece];
        }
    }
    if !group.is_empty() {
        utterances.push(join_clauses(&group, true));
    }
    utterances
}

/// A clause too long to speak at once, cut between words (and inside a word longer than the
/// limit on its own).
fn split_clause(clause: &str, fits: &dyn Fn(&[String]) -> bool) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in clause.split(' ').filter(|w| !w.is_empty()) {
        let joined = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if fits(std::slice::from_ref(&joined)) {
            current = joined;
            continue;
        }
        if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if !fits(std::slice::from_ref(&current)) {
                current.pop();
                pieces.push(std::mem::replace(&mut current, c.to_string()));
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Every lower-case letter, space and the punctuation Piper keeps: one id each.
    fn letters() -> PhonemeIdMap {
        let mut map: HashMap<String, Vec<i64>> =
            [("_", 0), ("^", 1), ("$", 2), (" ", 3), (",", 8), (".", 10)].map(|(k, v)| (k.to_owned(), vec![v])).into();
        for (i, c) in ('a'..='z').enumerate() {
            map.insert(c.to_string(), vec![20 + i as i64]);
        }
        PhonemeIdMap::from(map)
    }

    #[test]
    fn sentences_end_at_their_punctuation_and_at_blank_lines() {
        let text = "Hello there. It is 3.5 m long! Is it?Yes\nsame sentence\n\n  New paragraph… end";
        assert_eq!(
            sentences(text),
            ["Hello there.", "It is 3.5 m long!", "Is it?Yes\nsame sentence", "New paragraph…", "end"]
        );
        assert!(sentences(" \n\n ").is_empty());
    }

    #[test]
    fn a_sentence_that_fits_is_one_utterance_as_piper_says_it() {
        let clauses = ["one two".to_owned(), "three".to_owned()];
        assert_eq!(utterances(&clauses, &letters(), 400), ["one two, three."]);
    }

    #[test]
    fn long_sentences_are_cut_between_clauses_then_words_and_every_piece_fits() {
        let map = letters();
        let clauses: Vec<String> = vec!["abc de".into(), "fgh".into(), "ijklmnop".into(), "qr st uv wx yz".into()];
        // "^ _" + 2 per symbol + "$": at most 8 symbols, the ending included.
        let max = 3 + 2 * 8;
        let pieces = utterances(&clauses, &map, max);
        assert!(pieces.iter().all(|p| map.count(p) <= max), "{pieces:?}");
        assert_eq!(pieces, ["abc de,", "fgh,", "ijklmno,", "p,", "qr st,", "uv wx,", "yz."]);
        let spoken: String = pieces.concat().chars().filter(char::is_ascii_lowercase).collect();
        assert_eq!(spoken, "abcdefghijklmnopqrstuvwxyz", "nothing is lost or repeated");
    }
}
