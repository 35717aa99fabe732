//! Document text: decoding uploaded bytes, normalising (UTF-8, NFC, `\n`),
//! and code-point positions. Every stored position counts Rust `char`s.

use unicode_normalization::UnicodeNormalization;

use super::ValidationError;
use super::attribution::{OPENING, TurnSpan};
use super::ids::ProjectId;

/// Characters that show nothing: zero-width spaces and joiners, direction
/// marks and overrides, the byte-order mark, soft hyphens, variation
/// selectors, tag characters and the like. A name made only of these (and
/// spaces) would look blank in every list.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Refuse text holding a control character other than tab and line break —
/// NUL above all, which PostgreSQL cannot store.
pub fn no_controls(field: &'static str, text: &str) -> Result<(), ValidationError> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some(c) => Err(ValidationError::new(
            field,
            format!(
                "the text holds a control character (U+{:04X}) that cannot be stored; remove it",
                c as u32
            ),
        )),
        None => Ok(()),
    }
}

/// A name as people type it, ready to check for length: NFC (so "é" typed
/// two ways is one name), runs of white space made one space, trimmed.
/// Refused when it holds a control character, or when everything in it is
/// invisible. An empty answer means the user typed nothing.
pub fn name(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let composed: String = raw.nfc().collect();
    no_controls(field, &composed)?;
    let name = composed.split_whitespace().collect::<Vec<_>>().join(" ");
    if !name.is_empty() && name.chars().all(is_invisible) {
        return Err(ValidationError::new(
            field,
            "this holds only invisible characters; type a name people can read",
        ));
    }
    Ok(name)
}

/// Free text (a memo, a definition, a description): NFC, line breaks as
/// `\n`. Pasted text keeps what it holds (Word's vertical tab, a form
/// feed), but not NUL, which PostgreSQL cannot store.
pub fn free_text(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    if unified.contains('\0') {
        return Err(ValidationError::new(
            field,
            "the text holds a NUL character (U+0000) that cannot be stored; remove it",
        ));
    }
    Ok(unified.nfc().collect())
}

/// Why bytes are not usable as transcript text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the file is empty")]
    Empty,
    #[error("this looks like a binary file, not text")]
    Binary,
    #[error(
        "the text is not UTF-8 (invalid byte at position {0}); save it as UTF-8 (in Word or Notepad: Save As → Encoding: UTF-8) and upload again"
    )]
    NotUtf8(usize),
    #[error("the file starts with a UTF-16 byte-order mark but is not valid UTF-16")]
    BadUtf16,
}

/// Decode uploaded bytes: UTF-8 (a leading BOM dropped) or UTF-16 with a BOM.
/// Anything else is refused rather than guessed, so text is never mojibake.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        utf8(rest)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        utf8(bytes)?
    };
    if text.contains('\0') {
        return Err(TextError::Binary);
    }
    Ok(text)
}

fn utf8(bytes: &[u8]) -> Result<String, TextError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        // A NUL in the first kilobyte almost always means a binary format
        // (PDF streams, images, .doc): say so rather than "not UTF-8".
        Err(_) if bytes.iter().take(1024).any(|&b| b == 0) => Err(TextError::Binary),
        Err(e) => Err(TextError::NotUtf8(e.valid_up_to())),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, TextError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(TextError::BadUtf16);
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| TextError::BadUtf16)
}

/// The stored form of a text: a leading BOM dropped, `\r\n` and lone `\r`
/// as `\n`, Unicode NFC (so "é" typed two ways is one code point), and
/// trailing whitespace at the very end removed.
pub fn normalise(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // NUL is no text anyone wrote, and PostgreSQL cannot store it.
    let unified = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\0', "");
    let mut out: String = unified.nfc().collect();
    out.truncate(out.trim_end().len());
    out
}

/// Decode and normalise; an empty (or whitespace-only) result is an error.
pub fn decode_normalised(bytes: &[u8]) -> Result<String, TextError> {
    let text = normalise(&decode(bytes)?);
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    Ok(text)
}

/// Number of code points.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// The text of `[start, end)` in code points; `None` when out of range.
pub fn slice(text: &str, start: usize, end: usize) -> Option<&str> {
    if start > end {
        return None;
    }
    let mut idx = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()));
    let from = idx.nth(start)?;
    let to = if end == start {
        from
    } else {
        idx.nth(end - start - 1)?
    };
    Some(&text[from..to])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utf8_bom_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello").unwrap(), "hello");
    }

    #[test]
    fn utf16_with_a_bom_is_decoded_both_ways() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Été 🙂".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Été 🙂".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "Été 🙂");
        assert_eq!(decode(&be).unwrap(), "Été 🙂");
        assert_eq!(decode(&[0xFF, 0xFE, 0x41]), Err(TextError::BadUtf16));
    }

    #[test]
    fn latin1_is_refused_not_guessed() {
        // "café" in Windows-1252.
        assert_eq!(decode(b"caf\xE9"), Err(TextError::NotUtf8(3)));
        assert!(TextError::NotUtf8(3).to_string().contains("UTF-8"));
    }

    #[test]
    fn binary_files_are_recognised() {
        assert_eq!(
            decode(b"%PDF-1.4\n\x00\x01\x02\xff"),
            Err(TextError::Binary)
        );
        assert_eq!(decode(b"a\x00b"), Err(TextError::Binary));
    }

    #[test]
    fn empty_and_blank_files_are_refused() {
        assert_eq!(decode_normalised(b""), Err(TextError::Empty));
        assert_eq!(decode_normalised(b" \r\n\t\n"), Err(TextError::Empty));
    }

    #[test]
    fn line_endings_become_newlines_and_text_becomes_nfc() {
        // "e" + combining acute → "é" (one code point).
        assert_eq!(
            normalise("Cafe\u{301}\r\nline\rend\n\n"),
            "Caf\u{e9}\nline\nend"
        );
        assert_eq!(normalise("\u{feff}x"), "x");
    }

    #[test]
    fn slices_count_code_points_not_bytes() {
        let t = "a😀é中b";
        assert_eq!(char_len(t), 5);
        assert_eq!(slice(t, 1, 4), Some("😀é中"));
        assert_eq!(slice(t, 0, 0), Some(""));
        assert_eq!(slice(t, 5, 5), Some(""));
        assert_eq!(slice(t, 4, 5), Some("b"));
        assert_eq!(slice(t, 4, 6), None);
        assert_eq!(slice(t, 3, 2), None);
    }
}

/// A text with the byte offset of every character, so many code-point
/// slices of one document cost one pass, not one pass each.
#[derive(Debug, Clone)]
pub struct Indexed {
    text: String,
    /// Byte offset of each character, plus the text's length at the end.
    bounds: Vec<usize>,
}

impl Indexed {
    pub fn new(text: String) -> Self {
        let bounds = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        Indexed { text, bounds }
    }

    /// Characters `start..end` (clipped to the text).
    pub fn slice(&self, start: usize, end: usize) -> &str {
        let last = self.bounds.len() - 1;
        let (a, b) = (start.min(last), end.min(last).max(start.min(last)));
        &self.text[self.bounds[a]..self.bounds[b]]
    }
}

#[cfg(test)]
mod indexed_tests {
    use super::*;

    #[test]
    fn indexed_slices_match_slice() {
        let text = "Ça va? 😀 👩‍👩‍👧 naïve 中文";
        let ix = Indexed::new(text.to_owned());
        let n = text.chars().count();
        for a in 0..=n {
            for b in a..=n {
                assert_eq!(ix.slice(a, b), slice(text, a, b).unwrap());
            }
        }
        assert_eq!(ix.slice(n - 2, n + 5), "中文");
    }
}

/// A turn as [`Text`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnMark {
    pub speaker: Option<String>,
    /// Code points.
    pub start: usize,
    pub end: usize,
    pub no: i32,
    pub time_ms: Option<i64>,
}

/// A document's text and turns, with what finds a code point in the text
/// quickly: never changing once the document is stored, so it can be kept
/// and shared.
/// Every this many characters, where they start in the text's bytes.
const STRIDE: usize = 256;

pub struct Text {
    pub project: ProjectId,
    body: String,
    /// Byte offset of every [`STRIDE`]th character.
    marks: Vec<u32>,
    chars: usize,
    /// The turns, in document order.
    turns: Vec<TurnMark>,
}

impl Text {
    pub fn new(project: ProjectId, body: String, turns: Vec<TurnMark>) -> Text {
        let mut marks = Vec::with_capacity(body.len() / STRIDE + 1);
        let mut chars = 0;
        for (i, (at, _)) in body.char_indices().enumerate() {
            if i % STRIDE == 0 {
                marks.push(at as u32);
            }
            chars = i + 1;
        }
        Text {
            project,
            body,
            marks,
            chars,
            turns,
        }
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn turns(&self) -> &[TurnMark] {
        &self.turns
    }

    /// Length in code points.
    pub fn chars(&self) -> usize {
        self.chars
    }

    /// The byte where character `pos` starts (the text's end past it).
    fn byte(&self, pos: usize) -> usize {
        if pos >= self.chars {
            return self.body.len();
        }
        let from = self.marks[pos / STRIDE] as usize;
        match self.body[from..].char_indices().nth(pos % STRIDE) {
            Some((at, _)) => from + at,
            None => self.body.len(),
        }
    }

    /// What attribution needs for `[start, end)`: the turns it meets, and
    /// the text from where it or the first of them starts to past the
    /// range and the last one's opening (see `attribution::parts`), with
    /// that window's first position.
    pub fn window(&self, start: usize, end: usize) -> (&str, usize, Vec<TurnSpan<'_>>) {
        // Turns are in order and do not overlap: those ending after
        // `start`, up to the first starting at or after `end`.
        let first = self.turns.partition_point(|t| t.end <= start);
        let met: Vec<TurnSpan> = self.turns[first..]
            .iter()
            .take_while(|t| t.start < end)
            .filter(|t| t.end > start)
            .map(|t| TurnSpan {
                speaker: t.speaker.as_deref(),
                start: t.start,
                end: t.end,
            })
            .collect();
        let ws = met.first().map_or(start, |t| t.start.min(start));
        let we = met.last().map_or(end, |t| (t.start + OPENING).max(end));
        let (a, b) = (self.byte(ws), self.byte(we));
        (&self.body[a..b.max(a)], ws, met)
    }

    /// Characters `[start, end)` (clipped to the text).
    pub fn slice(&self, start: usize, end: usize) -> &str {
        let a = self.byte(start);
        &self.body[a..self.byte(end).max(a)]
    }

    /// The turn `pos` falls in: the last to start at or before it.
    pub fn turn_at(&self, pos: usize) -> Option<&TurnMark> {
        match self.turns.partition_point(|t| t.start <= pos) {
            0 => None,
            n => Some(&self.turns[n - 1]),
        }
    }

    /// Roughly what it takes in memory.
    pub fn bytes(&self) -> usize {
        self.body.len() + self.marks.len() * 4 + self.turns.len() * 48
    }
}

#[cfg(test)]
mod kept_text_tests {
    use super::*;
    use crate::domain::attribution::TurnSpan;

    fn text(body: &str, turns: &[(&str, usize, usize)]) -> Text {
        Text::new(
            ProjectId(1),
            body.to_string(),
            turns
                .iter()
                .enumerate()
                .map(|(i, (l, s, e))| TurnMark {
                    speaker: Some(l.to_string()),
                    start: *s,
                    end: *e,
                    no: i as i32,
                    time_ms: None,
                })
                .collect(),
        )
    }

    #[test]
    fn positions_are_code_points_past_many_strides() {
        let body: String = "é".repeat(1000) + "abc";
        let t = text(&body, &[]);
        assert_eq!(t.chars(), 1003);
        let (w, ws, met) = t.window(1000, 1002);
        assert_eq!((w, ws, met.len()), ("ab", 1000, 0));
        let (w, _, _) = t.window(255, 258);
        assert_eq!(w, "ééé");
        let (w, _, _) = t.window(1001, 5000);
        assert_eq!(w, "bc");
    }

    #[test]
    fn a_position_falls_in_the_last_turn_started() {
        let t = text("A: one\nB: two\n", &[("A", 0, 7), ("B", 7, 14)]);
        assert_eq!(t.turn_at(0).unwrap().no, 0);
        assert_eq!(t.turn_at(6).unwrap().no, 0);
        assert_eq!(t.turn_at(7).unwrap().no, 1);
        assert_eq!(t.turn_at(99).unwrap().no, 1);
        let late = text("intro A: one", &[("A", 6, 12)]);
        assert!(late.turn_at(2).is_none());
        assert_eq!(t.slice(3, 6), "one");
        assert_eq!(t.slice(10, 99), "two\n");
    }

    #[test]
    fn the_window_covers_the_turns_met_and_their_openings() {
        let body = "A: one two\nB: three four five\nA: six\n";
        let b = body.find("B:").unwrap();
        let a2 = body.rfind("A:").unwrap();
        let t = text(
            body,
            &[("A", 0, b), ("B", b, a2), ("A", a2, body.chars().count())],
        );
        // Inside B's turn: the window starts at B's turn.
        let (w, ws, met) = t.window(b + 3, b + 8);
        assert_eq!(ws, b);
        assert!(w.starts_with("B: three"));
        assert_eq!(met.len(), 1);
        assert_eq!(met[0].speaker, Some("B"));
        // Across all three.
        let (_, ws, met) = t.window(5, a2 + 4);
        assert_eq!(ws, 0);
        assert_eq!(
            met.iter().map(|m| m.speaker.unwrap()).collect::<String>(),
            "ABA"
        );
    }

    #[test]
    fn a_window_gives_the_attribution_a_whole_read_would() {
        use crate::domain::attribution::parts;
        let body =
            "Interviewer: how was it\n[00:01:02] P1: slow and cold, we waited\nP2: so did we\n";
        let p1 = body.find("[00:01:02]").unwrap();
        let p2 = body.find("P2:").unwrap();
        let n = body.chars().count();
        let turns = [("Interviewer", 0, p1), ("P1", p1, p2), ("P2", p2, n)];
        let t = text(body, &turns);
        let spans: Vec<TurnSpan> = turns
            .iter()
            .map(|(l, s, e)| TurnSpan {
                speaker: Some(l),
                start: *s,
                end: *e,
            })
            .collect();
        for (start, end) in [(0, n), (p1 + 2, p2 + 5), (p1 + 20, p1 + 30), (3, 9)] {
            let (w, ws, met) = t.window(start, end);
            assert_eq!(
                parts(w, ws, start, end, &met),
                parts(body, 0, start, end, &spans),
                "[{start}, {end})"
            );
        }
    }
}
