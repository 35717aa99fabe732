//! Document text: decoding uploaded bytes, normalising (UTF-8, NFC, `\n`),
//! and code-point positions. Every stored position counts Rust `char`s.

use unicode_normalization::UnicodeNormalization;

use super::ValidationError;

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
