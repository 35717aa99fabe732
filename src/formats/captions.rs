//! WebVTT and SubRip captions read into speaker turns: each cue is one
//! utterance, a voice tag or a `Name:` prefix says who speaks, and cues by the
//! same speaker run together into one paragraph of the document text.

use unicode_normalization::UnicodeNormalization;

use super::{CaptionTranscript, FormatError};
use crate::domain::turns::Turn;

/// Read WebVTT captions (Zoom, Teams, YouTube, otter.ai exports) into speaker turns.
pub fn read_vtt(text: &str) -> Result<CaptionTranscript, FormatError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let first = lines.first().copied().unwrap_or_default();
    let is_vtt = first
        .strip_prefix("WEBVTT")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
    if !is_vtt {
        return Err(FormatError::new(
            "not a WebVTT file: the first line must be WEBVTT",
        ));
    }
    // The header runs to the first blank line; metadata such as
    // "Kind: captions" lives there and must not become text.
    let cues = read_cues(&lines, block_end(&lines, 1), Format::Vtt)?;
    build(cues)
}

/// Read SubRip (.srt) captions into speaker turns.
pub fn read_srt(text: &str) -> Result<CaptionTranscript, FormatError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let cues = read_cues(&lines, 0, Format::Srt)?;
    build(cues)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Vtt,
    Srt,
}

/// A cue as it stands in the file: its start time and its text lines.
struct RawCue<'a> {
    start_ms: u64,
    lines: Vec<&'a str>,
}

fn read_cues<'a>(
    lines: &[&'a str],
    mut i: usize,
    format: Format,
) -> Result<Vec<RawCue<'a>>, FormatError> {
    let mut cues: Vec<RawCue<'a>> = Vec::new();
    while let Some(&line) = lines.get(i) {
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        let timing_at = if is_timing(line) {
            i
        } else if lines.get(i + 1).is_some_and(|next| is_timing(next)) {
            // The line before a timing line is the cue's identifier.
            i + 1
        } else {
            let end = block_end(lines, i + 1);
            let is_meta = format == Format::Vtt
                && ["NOTE", "STYLE", "REGION"]
                    .iter()
                    .any(|kw| starts_block(line, kw));
            // Text cut off from its cue by a stray blank line is kept with
            // that cue: losing a participant's words is worse than a join.
            if !is_meta && let Some(cue) = cues.last_mut() {
                cue.lines.extend(lines.get(i..end).unwrap_or_default());
            }
            i = end;
            continue;
        };
        let timing = lines.get(timing_at).copied().unwrap_or_default();
        let start_ms =
            parse_timing(timing).ok_or_else(|| timing_error(timing_at + 1, timing, format))?;
        let end = block_end(lines, timing_at + 1);
        cues.push(RawCue {
            start_ms,
            lines: lines.get(timing_at + 1..end).unwrap_or_default().to_vec(),
        });
        i = end;
    }
    Ok(cues)
}

/// `NOTE`, `NOTE text`, but not `NOTES` or `Notebook`.
fn starts_block(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn is_timing(line: &str) -> bool {
    line.contains("-->")
}

/// Inside a cue's text an arrow may be just words ("sales --> up"); only a
/// line that also starts like a time is taken for the next cue's timing.
fn is_timing_in_text(line: &str) -> bool {
    is_timing(line) && line.trim_start().starts_with(|c: char| c.is_ascii_digit())
}

/// The index of the line that ends the block whose text starts at `i`: a
/// blank line, or a timing line. Exports often leave out the blank line
/// between cues, so an identifier-like line (`12`, a GUID) just before a
/// timing line ends the block too; ordinary words do not, as they are more
/// likely the last line of this cue's text.
fn block_end(lines: &[&str], mut i: usize) -> usize {
    while let Some(&line) = lines.get(i) {
        let id_before_timing =
            looks_like_id(line) && lines.get(i + 1).is_some_and(|next| is_timing_in_text(next));
        if line.is_empty() || is_timing_in_text(line) || id_before_timing {
            break;
        }
        i += 1;
    }
    i
}

fn looks_like_id(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty()
        && !line.contains(char::is_whitespace)
        && line.contains(|c: char| c.is_ascii_digit())
}

fn timing_error(line_number: usize, line: &str, format: Format) -> FormatError {
    let example = match format {
        Format::Vtt => "00:01:02.500 --> 00:01:04.000",
        Format::Srt => "00:01:02,500 --> 00:01:04,000",
    };
    let mut shown: String = line.trim().chars().take(60).collect();
    if line.trim().chars().nth(60).is_some() {
        shown.push('…');
    }
    FormatError::new(format!(
        "line {line_number}: cannot read the cue time \"{shown}\" (it should look like {example})"
    ))
}

/// The start of `start --> end [settings]`, in milliseconds. The end must
/// be a time too, so a mangled line is reported rather than half-read.
fn parse_timing(line: &str) -> Option<u64> {
    let (left, right) = line.split_once("-->")?;
    let start = parse_timestamp(left.trim())?;
    parse_timestamp(right.split_whitespace().next()?)?;
    Some(start)
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm`, with `.` or `,` before the fraction, which
/// may be missing or have any number of digits.
fn parse_timestamp(s: &str) -> Option<u64> {
    let (clock, fraction) = match s.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (s, None),
    };
    let number = |p: &str, max_digits: usize| -> Option<u64> {
        let ok = !p.is_empty() && p.len() <= max_digits && p.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| p.parse().ok()).flatten()
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [m, s] => (0, number(m, 9)?, number(s, 2)?),
        [h, m, s] => (number(h, 9)?, number(m, 2)?, number(s, 2)?),
        _ => return None,
    };
    if seconds >= 60 || (parts.len() == 3 && minutes >= 60) {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits: String = f.chars().chain("00".chars()).take(3).collect();
            digits.parse::<u64>().ok()?
        }
    };
    hours
        .checked_mul(3_600_000)?
        .checked_add(minutes.checked_mul(60_000)?)?
        .checked_add(seconds * 1000 + millis)
}

/// One line of cue text with markup gone: `voice` is the `<v Name>` it
/// opened with, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CleanLine {
    voice: Option<String>,
    text: String,
}

/// The lines of a cue with markup removed. A voice tag after some text
/// starts a new line, as one cue may hold two speakers; lines left empty
/// are dropped, handing their voice on to the line after.
fn clean_lines(raw: &[&str]) -> Vec<CleanLine> {
    let mut out = Vec::new();
    let mut pending_voice: Option<String> = None;
    for line in raw.iter().flat_map(|line| clean_line(line)) {
        if line.text.is_empty() {
            pending_voice = line.voice.or(pending_voice);
            continue;
        }
        let voice = line.voice.or(pending_voice.take());
        out.push(CleanLine {
            voice,
            text: line.text,
        });
    }
    out
}

enum Markup {
    /// Formatting, a class span, an inline timestamp, an ASS override code.
    Hidden,
    /// `<br>`: words on either side must not run together.
    Space,
    Voice(Option<String>),
}

fn clean_line(raw: &str) -> Vec<CleanLine> {
    let mut lines = Vec::new();
    let mut voice: Option<String> = None;
    let mut text = String::with_capacity(raw.len());
    // Tracked rather than tested with `text.trim()` at each voice tag, which
    // would be quadratic on a long line of tags and spaces.
    let mut visible = false;
    let mut rest = raw;
    while let Some(at) = rest.find(['<', '{']) {
        let (before, from) = rest.split_at(at);
        text.push_str(before);
        visible |= !before.trim().is_empty();
        match markup(from) {
            Some((len, Markup::Voice(Some(name)))) => {
                if visible {
                    lines.push(finish_line(voice.take(), &text));
                    text.clear();
                    visible = false;
                }
                voice = Some(name);
                rest = from.get(len..).unwrap_or_default();
            }
            Some((len, Markup::Voice(None) | Markup::Hidden)) => {
                rest = from.get(len..).unwrap_or_default()
            }
            Some((len, Markup::Space)) => {
                text.push(' ');
                rest = from.get(len..).unwrap_or_default();
            }
            None => {
                // A lone `<` or `{` is text ("I <3 it"); both are one byte.
                let (c, tail) = from.split_at(1);
                text.push_str(c);
                visible = true;
                rest = tail;
            }
        }
    }
    text.push_str(rest);
    lines.push(finish_line(voice, &text));
    lines
}

fn finish_line(voice: Option<String>, text: &str) -> CleanLine {
    CleanLine {
        voice,
        text: collapse(&decode_entities(text)),
    }
}

/// Whitespace runs as one space, trimmed, in NFC (entities and removed tags
/// can leave a combining mark next to a new base letter).
fn collapse(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.nfc().collect()
}

/// Tags worth removing; anything else in angle brackets is left as text, as
/// SRT files are not escaped and `<` can be just a character.
const TAGS: &[&str] = &[
    "b", "c", "i", "u", "s", "v", "ruby", "rt", "rp", "lang", "font", "span", "em", "strong",
    "sub", "sup", "br",
];

/// Tags and override codes are short; not searching further keeps a long
/// line full of `<` from costing quadratic time.
const MAX_MARKUP_CHARS: usize = 200;

/// The markup `s` starts with, and its length in bytes.
fn markup(s: &str) -> Option<(usize, Markup)> {
    if let Some(inner) = s.strip_prefix("{\\") {
        let close = find_within(inner, '}', MAX_MARKUP_CHARS)?;
        return Some((close + 3, Markup::Hidden));
    }
    let inner = s.strip_prefix('<')?;
    let close = find_within(inner, '>', MAX_MARKUP_CHARS)?;
    let tag = inner.get(..close)?;
    let len = close + 2;
    if tag.starts_with(|c: char| c.is_ascii_digit()) {
        return parse_timestamp(tag.trim()).map(|_| (len, Markup::Hidden));
    }
    let (closing, body) = match tag.strip_prefix('/') {
        Some(body) => (true, body.trim()),
        None => (false, tag),
    };
    let name_end = body
        .find(|c: char| c == '.' || c.is_whitespace())
        .unwrap_or(body.len());
    let name = body
        .get(..name_end)?
        .trim_end_matches('/')
        .to_ascii_lowercase();
    if !TAGS.contains(&name.as_str()) {
        return None;
    }
    let kind = match name.as_str() {
        "v" if !closing => {
            // `<v.loud Jane Smith>`: the name follows the first space.
            let speaker = body
                .find(char::is_whitespace)
                .and_then(|at| body.get(at..))
                .map(|name| collapse(&decode_entities(name)))
                .filter(|name| !name.is_empty());
            Markup::Voice(speaker)
        }
        "br" => Markup::Space,
        _ => Markup::Hidden,
    };
    Some((len, kind))
}

/// Byte offset of `needle` within the first `max_chars` chars of `s`.
fn find_within(s: &str, needle: char, max_chars: usize) -> Option<usize> {
    s.char_indices()
        .take(max_chars)
        .find(|&(_, c)| c == needle)
        .map(|(i, _)| i)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        match entity(from) {
            Some((len, c)) => {
                out.push(c);
                rest = from.get(len..).unwrap_or_default();
            }
            None => {
                let (amp, tail) = from.split_at(1);
                out.push_str(amp);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character for the entity `s` starts with, and the entity's length.
fn entity(s: &str) -> Option<(usize, char)> {
    let body = s.strip_prefix('&')?;
    let semi = find_within(body, ';', 10)?;
    let name = body.get(..semi)?;
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "nbsp" => '\u{a0}',
        "lrm" => '\u{200e}',
        "rlm" => '\u{200f}',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                    number.parse().ok()?
                }
                _ => return None,
            };
            // Control characters (NUL above all) have no place in a
            // transcript; such an entity stays as it was written.
            char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace())?
        }
    };
    Some((semi + 2, c))
}

/// Part of a cue said by one speaker (or by whoever spoke last).
struct Utterance {
    speaker: Option<String>,
    text: String,
}

/// Split a cue's lines by speaker. The first line may name one (voice tag or
/// `Name:`); later lines only with a voice tag or a dialogue dash
/// (`- Name: …`), since a wrapped caption line can start with anything.
fn utterances(lines: Vec<CleanLine>) -> Vec<Utterance> {
    let mut out: Vec<Utterance> = Vec::new();
    for (n, line) in lines.into_iter().enumerate() {
        let (dashed, rest) = strip_dash(&line.text);
        let labelled = match &line.voice {
            Some(_) => None,
            None if n == 0 || dashed => split_label(rest),
            None => None,
        };
        let (speaker, words) = match (line.voice, labelled) {
            (Some(voice), _) => (Some(voice), rest),
            (None, Some((name, after))) => (Some(name), after),
            (None, None) => (None, rest),
        };
        match (speaker, out.last_mut()) {
            (None, Some(last)) => {
                if !last.text.is_empty() && !words.is_empty() {
                    last.text.push(' ');
                }
                last.text.push_str(words);
            }
            (speaker, _) => out.push(Utterance {
                speaker,
                text: words.to_owned(),
            }),
        }
    }
    out.retain(|u| !u.text.is_empty());
    out
}

/// A leading dialogue dash (`- `, `-Name:`) or YouTube's `>>` speaker-change
/// mark. Returns whether there was one, and the text after it.
fn strip_dash(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix(">>") {
        return (true, rest.trim_start());
    }
    if let Some(rest) = s.strip_prefix(['-', '–', '—']) {
        if rest.starts_with(char::is_whitespace) {
            return (true, rest.trim_start());
        }
        // "-Name: text" but not "-5 degrees" or "--".
        if split_label(rest).is_some() {
            return (true, rest);
        }
    }
    (false, s)
}

/// Lowercase words a speaker label may contain ("Service user 3",
/// "Mother of P3", "Hugo de Vries").
const JOINERS: &str = "\
    user users member worker manager nurse carer officer lead partner participant of and \
    de van von der den la le du da di dos das al el bin ben y";

/// Words that open sentences, not names: "The point is: …", "So what: …".
const SENTENCE_STARTERS: &str = "\
    the this that these those it he she they we you and but so then when what why how \
    there here my our your his her their one an in on at if as well yes no oh because also \
    just like now for to all some chapter section part table figure page step";

/// Headings and captioning conventions that look like labels but are not
/// speakers.
const NOT_SPEAKERS: &str = "\
    note notes nb date time location duration title subject re ps transcript http https \
    mailto www email e-mail tel phone ref example e.g i.e eg ie ok okay warning important \
    tip speaker text name kind language music applause laughter inaudible crosstalk \
    silence caption captions subtitles translation";

/// `Name: rest` → the speaker and the rest, when the part before the colon
/// is plausibly a speaker label. Conservative: a sentence that merely
/// contains a colon must stay text.
fn split_label(line: &str) -> Option<(String, &str)> {
    let (colon, colon_len) = label_colon(line)?;
    let name = line.get(..colon)?;
    let after = line.get(colon + colon_len..)?;
    // An ASCII colon followed by `//` is a URL and by a digit a time; the
    // full-width colon of CJK text is not followed by a space.
    if colon_len == 1 && !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return None;
    }
    Some((speaker_name(name)?, after.trim_start()))
}

/// The first `:` (or `：`) outside brackets ("Interviewer (00:05): …"),
/// looked for only as far as a label can reach.
fn label_colon(s: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices().take(70) {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ':' | '：' if depth == 0 => return Some((i, c.len_utf8())),
            _ => {}
        }
    }
    None
}

fn speaker_name(name: &str) -> Option<String> {
    let mut name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return None;
    }
    // WhisperX and similar write "[SPEAKER_00]: …".
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']'))
        && !inner.contains(['[', ']', '(', ')'])
    {
        name = inner.trim();
    }
    // "(laughs) Jane:" is a stage direction before a name, not a label.
    if !name.starts_with(char::is_alphanumeric) {
        return None;
    }
    // Bracketed parts ("Carer 1 (Ruth)") stay in the label but are not
    // judged; a time among them is dropped, since the cue has its own and
    // "Jane (00:05)" and "Jane (00:09)" are one speaker.
    let mut core = String::with_capacity(name.len());
    let mut speaker = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find(['(', '[']) {
        let close_char = if rest.get(open..)?.starts_with('(') {
            ')'
        } else {
            ']'
        };
        let close = open + rest.get(open..)?.find(close_char)?;
        let before = rest.get(..open)?;
        let inner = rest.get(open + 1..close)?;
        core.push_str(before);
        core.push(' ');
        speaker.push_str(before);
        let is_time = inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | ','));
        if !is_time {
            speaker.push_str(rest.get(open..=close)?);
        }
        rest = rest.get(close + 1..)?;
    }
    core.push_str(rest);
    speaker.push_str(rest);
    let core = core.trim();

    let allowed = |c: char| {
        c.is_alphanumeric()
            || c.is_whitespace()
            || matches!(c, '.' | '\'' | '’' | '-' | '&' | '/' | '_')
    };
    if !core.starts_with(char::is_alphanumeric)
        || core.ends_with('.')
        || !core.chars().all(allowed)
        || !core.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let words: Vec<&str> = core.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 {
        return None;
    }
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    if is_listed(NOT_SPEAKERS, &lower.join(" ")) {
        return None;
    }
    let first = words.first()?;
    let opens_a_sentence = lower
        .first()
        .is_some_and(|w| is_listed(SENTENCE_STARTERS, w));
    if !starts_like_a_name(first) || opens_a_sentence {
        return None;
    }
    let name_like = |(w, l): (&&str, &String)| {
        starts_like_a_name(w)
            || w.chars().any(|c| c.is_ascii_digit())
            || is_listed(JOINERS, l)
            || w.chars().all(|c| matches!(c, '&' | '-' | '/'))
    };
    if !words.iter().zip(&lower).all(name_like) {
        return None;
    }
    let speaker = collapse(&speaker);
    (!speaker.is_empty()).then_some(speaker)
}

fn is_listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// Capitalised, a digit, or a letter without case (CJK, Arabic, …).
fn starts_like_a_name(word: &str) -> bool {
    word.chars().next().is_some_and(|c| {
        c.is_uppercase() || c.is_numeric() || (c.is_alphabetic() && !c.is_lowercase())
    })
}

/// A turn being built: its speaker, when its first cue starts, and its
/// utterances.
struct Draft {
    speaker: Option<String>,
    time_ms: u64,
    parts: Vec<String>,
}

fn build(cues: Vec<RawCue<'_>>) -> Result<CaptionTranscript, FormatError> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut previous_last: Option<CleanLine> = None;
    for cue in cues {
        let lines = clean_lines(&cue.lines);
        let Some(last) = lines.last().cloned() else {
            continue;
        };
        // Rolling captions (YouTube) repeat the previous cue's last line as
        // this cue's first line; keeping it would say everything twice.
        let repeated = previous_last.as_ref() == lines.first();
        previous_last = Some(last);
        let lines: Vec<CleanLine> = lines.into_iter().skip(usize::from(repeated)).collect();
        for utterance in utterances(lines) {
            match drafts.last_mut() {
                Some(draft)
                    if utterance.speaker.is_none() || utterance.speaker == draft.speaker =>
                {
                    draft.parts.push(utterance.text);
                }
                _ => drafts.push(Draft {
                    speaker: utterance.speaker,
                    time_ms: cue.start_ms,
                    parts: vec![utterance.text],
                }),
            }
        }
    }
    if drafts.is_empty() {
        return Err(FormatError::new("no captions found in this file"));
    }

    let mut text = String::new();
    let mut turns = Vec::with_capacity(drafts.len());
    let mut pos = 0;
    for draft in drafts {
        let body = draft.parts.join(" ");
        let paragraph = match &draft.speaker {
            Some(speaker) => format!("{speaker}: {body}"),
            None => body,
        };
        let paragraph: String = paragraph.nfc().collect();
        if !text.is_empty() {
            text.push_str("\n\n");
            pos += 2;
        }
        let len = paragraph.chars().count();
        turns.push(Turn {
            speaker: draft.speaker,
            start: pos,
            end: pos + len,
            time_ms: Some(draft.time_ms),
        });
        text.push_str(&paragraph);
        pos += len;
    }
    Ok(CaptionTranscript { text, turns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn_text(doc: &CaptionTranscript, turn: &Turn) -> String {
        doc.text
            .chars()
            .skip(turn.start)
            .take(turn.end - turn.start)
            .collect()
    }

    fn speakers(doc: &CaptionTranscript) -> Vec<Option<&str>> {
        doc.turns.iter().map(|t| t.speaker.as_deref()).collect()
    }

    fn paragraphs(doc: &CaptionTranscript) -> Vec<String> {
        doc.turns.iter().map(|t| turn_text(doc, t)).collect()
    }

    fn error(result: Result<CaptionTranscript, FormatError>) -> String {
        match result {
            Ok(doc) => panic!("expected an error, got {doc:?}"),
            Err(e) => e.0,
        }
    }

    const TEAMS: &str = "WEBVTT

a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d/12-0
00:00:03.120 --> 00:00:05.440
<v Jane Smith>Thanks everyone for joining today.</v>

a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d/12-1
00:00:05.440 --> 00:00:08.200
<v Jane Smith>Could you start by telling me about your role?</v>

a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d/13-0
00:00:09.010 --> 00:00:12.480
<v Tomás Rivera>Sure. I've been a ward nurse for
about six years now.</v>

a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d/14-0
00:01:02.500 --> 00:01:04.000
<v Jane Smith>And before that?</v>
";

    const ZOOM: &str = "WEBVTT

1
00:00:01.380 --> 00:00:04.560
Interviewer: Okay, I think we're recording now.

2
00:00:04.900 --> 00:00:06.020
P07: Yes, I can see the red dot.

3
00:00:06.500 --> 00:00:09.750
P07: Should I just start?

4
00:00:10.100 --> 00:00:11.000
Interviewer: Please do.
";

    const YOUTUBE: &str = "WEBVTT
Kind: captions
Language: en

00:00:00.000 --> 00:00:02.330 align:start position:0%
 
so<00:00:00.160><c> today</c><00:00:00.400><c> we're</c><00:00:00.640><c> looking</c>

00:00:02.330 --> 00:00:02.340 align:start position:0%
so today we're looking
 

00:00:02.340 --> 00:00:05.000 align:start position:0%
so today we're looking
at<00:00:02.500><c> the</c><00:00:02.800><c.colorE5E5E5> survey</c><00:00:03.100><c> results</c>
";

    const SRT: &str = "1
00:00:01,000 --> 00:00:03,500
{\\an8}<i>Interviewer: Where did you grow up?</i>

2
00:00:04,000 --> 00:00:06,250
- Maria: In Porto,
near the <font color=\"#ffff00\">river</font>.

3
00:00:06,300 --> 00:00:08,000
<b>It was</b> <u>lovely</u>.
";

    #[test]
    fn a_teams_export_uses_voice_tags_and_merges_the_same_speaker() {
        let doc = read_vtt(TEAMS).unwrap();
        assert_eq!(
            speakers(&doc),
            [Some("Jane Smith"), Some("Tomás Rivera"), Some("Jane Smith")]
        );
        assert_eq!(
            doc.text,
            "Jane Smith: Thanks everyone for joining today. Could you start by telling me about your role?\n\n\
             Tomás Rivera: Sure. I've been a ward nurse for about six years now.\n\n\
             Jane Smith: And before that?"
        );
        let times: Vec<_> = doc.turns.iter().map(|t| t.time_ms).collect();
        assert_eq!(times, [Some(3_120), Some(9_010), Some(62_500)]);
    }

    #[test]
    fn a_zoom_export_uses_name_prefixes_and_changes_speaker_mid_stream() {
        let doc = read_vtt(ZOOM).unwrap();
        assert_eq!(
            speakers(&doc),
            [Some("Interviewer"), Some("P07"), Some("Interviewer")]
        );
        assert_eq!(
            paragraphs(&doc),
            [
                "Interviewer: Okay, I think we're recording now.",
                "P07: Yes, I can see the red dot. Should I just start?",
                "Interviewer: Please do.",
            ]
        );
        assert_eq!(
            doc.turns[1].time_ms,
            Some(4_900),
            "a merged turn keeps its first cue's time"
        );
    }

    #[test]
    fn youtube_rolling_captions_lose_their_tags_and_repeated_lines() {
        let doc = read_vtt(YOUTUBE).unwrap();
        assert_eq!(doc.text, "so today we're looking at the survey results");
        assert_eq!(speakers(&doc), [None]);
        assert_eq!(doc.turns[0].time_ms, Some(0));
    }

    #[test]
    fn an_srt_file_loses_formatting_and_reads_dialogue_dashes() {
        let doc = read_srt(SRT).unwrap();
        assert_eq!(
            doc.text,
            "Interviewer: Where did you grow up?\n\nMaria: In Porto, near the river. It was lovely."
        );
        assert_eq!(speakers(&doc), [Some("Interviewer"), Some("Maria")]);
        assert_eq!(doc.turns[0].time_ms, Some(1_000));
        assert_eq!(doc.turns[1].time_ms, Some(4_000));
    }

    #[test]
    fn dialogue_dashes_split_one_cue_between_two_speakers() {
        let srt = "1\n00:00:09,000 --> 00:00:10,000\n-Interviewer: Really?\n-Maria: Yes.\n\n\
                   2\n00:00:10,500 --> 00:00:11,000\n- Every single day.\n";
        let doc = read_srt(srt).unwrap();
        assert_eq!(
            paragraphs(&doc),
            ["Interviewer: Really?", "Maria: Yes. Every single day."]
        );
        assert_eq!(
            doc.turns[1].time_ms,
            Some(9_000),
            "the second speaker's cue started at 9 s"
        );
    }

    #[test]
    fn cues_without_a_speaker_continue_the_turn_or_start_an_anonymous_one() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nWelcome back.\n\n\
                   00:02.000 --> 00:03.000\nLet's go on.\n\n\
                   00:03.000 --> 00:04.000\nInterviewer: Right.\n\n\
                   00:04.000 --> 00:05.000\nSo, the clinic.\n";
        let doc = read_vtt(vtt).unwrap();
        assert_eq!(speakers(&doc), [None, Some("Interviewer")]);
        assert_eq!(
            paragraphs(&doc),
            [
                "Welcome back. Let's go on.",
                "Interviewer: Right. So, the clinic."
            ]
        );
        assert_eq!(doc.turns[0].time_ms, Some(1_000));
        assert_eq!(doc.turns[1].time_ms, Some(3_000));
    }

    #[test]
    fn positions_are_code_points_with_accents_emoji_and_cjk() {
        let vtt = "WEBVTT\n\n\
            1\n00:00:01.000 --> 00:00:02.000\n<v Zoë Müller>Café crème 🙂, naïve façade.</v>\n\n\
            2\n00:00:02.000 --> 00:00:03.000\n<v 李明>我觉得很好。👍🏽</v>\n\n\
            3\n00:00:03.000 --> 00:00:04.000\n<v 李明>第二句话。</v>\n\n\
            4\n00:00:04.500 --> 00:00:05.000\nInterviewer: ¿Y después? 👨‍👩‍👧 ok\n\n\
            5\n00:00:05.000 --> 00:00:06.000\nJosé Ñúñez: Sí, claro — ½ día.\n";
        let doc = read_vtt(vtt).unwrap();
        let last_utterances = [
            "Café crème 🙂, naïve façade.",
            "第二句话。",
            "¿Y después? 👨‍👩‍👧 ok",
            "Sí, claro — ½ día.",
        ];
        assert_eq!(doc.turns.len(), last_utterances.len());
        for (turn, last) in doc.turns.iter().zip(last_utterances) {
            let slice = turn_text(&doc, turn);
            let label = format!("{}: ", turn.speaker.as_deref().unwrap());
            assert!(
                slice.starts_with(&label),
                "{slice:?} should start with {label:?}"
            );
            assert!(slice.ends_with(last), "{slice:?} should end with {last:?}");
        }
        assert_eq!(doc.turns.last().unwrap().end, doc.text.chars().count());
        assert!(
            doc.text.len() > doc.text.chars().count(),
            "the fixture really has multi-byte text"
        );
        assert_eq!(
            turn_text(&doc, &doc.turns[1]),
            "李明: 我觉得很好。👍🏽 第二句话。"
        );
    }

    #[test]
    fn note_style_and_region_blocks_are_skipped_and_entities_decoded() {
        let vtt = "WEBVTT - exported by hand\n\n\
            STYLE\n::cue(v[voice=\"Jane\"]) { color: yellow }\n\n\
            REGION\nid:fred\nwidth:40%\n\n\
            NOTE This file was edited.\nIt has two lines.\n\n\
            00:00:01.000 --> 00:00:02.000 region:fred align:left\n\
            Jane: Hello &amp; welcome &lt;everyone&gt;&nbsp;here&#33; &#x1F600; &quot;ok&quot; &apos;fine&apos; &bogus; a&b\n\n\
            NOTE\nanother note\n";
        let doc = read_vtt(vtt).unwrap();
        assert_eq!(
            doc.text,
            "Jane: Hello & welcome <everyone> here! 😀 \"ok\" 'fine' &bogus; a&b"
        );
        assert_eq!(doc.turns.len(), 1);
    }

    #[test]
    fn an_arrow_inside_cue_text_is_not_a_timing_line() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nP1: costs went\nup --> then down\n";
        assert_eq!(
            read_srt(srt).unwrap().text,
            "P1: costs went up --> then down"
        );
    }

    #[test]
    fn escaped_markup_stays_as_text() {
        let vtt =
            "WEBVTT\n\n00:01.000 --> 00:02.000\nWrite &lt;i&gt; for italics, I &lt;3 it, x <3 y\n";
        assert_eq!(
            read_vtt(vtt).unwrap().text,
            "Write <i> for italics, I <3 it, x <3 y"
        );
    }

    #[test]
    fn a_sentence_with_a_colon_is_not_a_label() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nThe point is: we waited far too long.\n";
        let doc = read_vtt(vtt).unwrap();
        assert_eq!(speakers(&doc), [None]);
        assert_eq!(doc.text, "The point is: we waited far too long.");
    }

    #[test]
    fn speaker_labels_are_recognised_conservatively() {
        for (line, speaker) in [
            ("Jane Smith: Hello", "Jane Smith"),
            ("Interviewer: so", "Interviewer"),
            ("P07: yes", "P07"),
            ("SPEAKER 1: ok", "SPEAKER 1"),
            ("[SPEAKER_00]: hi", "SPEAKER_00"),
            ("Service user 3: they listened", "Service user 3"),
            ("Hugo de Vries: ja", "Hugo de Vries"),
            ("Dr. O'Neill-Smith: indeed", "Dr. O'Neill-Smith"),
            ("Carer 1 (Ruth): hard", "Carer 1 (Ruth)"),
            ("Interviewer (00:05): hi", "Interviewer"),
            ("Unknown Speaker: hm", "Unknown Speaker"),
            ("李明：我觉得", "李明"),
            ("Q: and then?", "Q"),
            ("A: the answer", "A"),
            ("Jane:", "Jane"),
        ] {
            assert_eq!(
                split_label(line).map(|(s, _)| s).as_deref(),
                Some(speaker),
                "{line:?}"
            );
        }
        for line in [
            "The point is: we waited",
            "I think: maybe",
            "He said: no way",
            "and then: nothing",
            "So: then",
            "This: is it",
            "(laughs) Jane: hi",
            "Why? Because: reasons",
            "It was, frankly: awful",
            "Well; then: go",
            "Note: recording paused",
            "Time: 10:00",
            "See https://example.org",
            "http://example.org",
            "We met at 10:30",
            "Chapter 3: Findings",
            "12: twelve",
            "Etc.: more",
            "A Very Long Label With Far Too Many Words: text",
            "Interviewer(: broken",
            ": nothing before",
        ] {
            assert_eq!(split_label(line).map(|(s, _)| s), None, "{line:?}");
        }
    }

    #[test]
    fn a_label_alone_on_its_line_names_the_lines_below() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nInterviewer:\nHow did it start?\n";
        assert_eq!(
            read_srt(srt).unwrap().text,
            "Interviewer: How did it start?"
        );
    }

    #[test]
    fn voice_tags_with_classes_and_two_voices_in_one_cue() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:03.000\n<v.loud.fast  Jane   Smith >Hello?</v>\n<v Bob>Hi <i>Jane</i>.</v>\n\n\
                   00:03.000 --> 00:04.000\n<v Bob>How are you?</v> <v Jane Smith>Fine.</v>\n";
        let doc = read_vtt(vtt).unwrap();
        assert_eq!(
            paragraphs(&doc),
            [
                "Jane Smith: Hello?",
                "Bob: Hi Jane. How are you?",
                "Jane Smith: Fine."
            ]
        );
        assert_eq!(doc.turns[2].time_ms, Some(3_000));
    }

    #[test]
    fn whitespace_is_collapsed_and_cue_lines_are_joined_with_spaces() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\n  P1:   so \t we\n   went   home  \n";
        assert_eq!(read_vtt(vtt).unwrap().text, "P1: so we went home");
    }

    #[test]
    fn timings_without_hours_with_commas_or_short_fractions_are_read() {
        let vtt = "WEBVTT\n\n01:02.5 --> 01:03,000\nA: one\n\n1:00:00,250 --> 1:00:01.000\nB: two\n\n00:00:07 --> 00:00:08\nC: three\n";
        let doc = read_vtt(vtt).unwrap();
        let times: Vec<_> = doc.turns.iter().map(|t| t.time_ms).collect();
        assert_eq!(times, [Some(62_500), Some(3_600_250), Some(7_000)]);
    }

    #[test]
    fn missing_blank_lines_and_missing_indexes_are_tolerated() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nP1: Hello\n2\n00:00:02,000 --> 00:00:03,000\nP2: Hi\n\
                   00:00:03,000 --> 00:00:04,000\nP1: Bye\n";
        let doc = read_srt(srt).unwrap();
        assert_eq!(paragraphs(&doc), ["P1: Hello", "P2: Hi", "P1: Bye"]);
    }

    #[test]
    fn text_after_a_stray_blank_line_stays_with_its_cue() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nP1: It was\n\nthe worst winter.\n\n2\n00:00:03,000 --> 00:00:04,000\nP2: Yes.\n";
        let doc = read_srt(srt).unwrap();
        assert_eq!(
            paragraphs(&doc),
            ["P1: It was the worst winter.", "P2: Yes."]
        );
    }

    #[test]
    fn a_file_without_the_webvtt_header_is_refused() {
        let srt_content = "1\n00:00:01,000 --> 00:00:02,000\nHello\n";
        for text in [
            srt_content,
            "WEBVTTX\n\n00:01.000 --> 00:02.000\nHi\n",
            " WEBVTT\n",
            "",
        ] {
            assert_eq!(
                error(read_vtt(text)),
                "not a WebVTT file: the first line must be WEBVTT",
                "{text:?}"
            );
        }
        assert!(read_vtt("WEBVTT\t(Zoom)\n\n00:01.000 --> 00:02.000\nHi\n").is_ok());
    }

    #[test]
    fn files_without_cues_are_refused() {
        for result in [
            read_srt(""),
            read_srt("\n\n\n"),
            read_srt("just some text\nwithout timings\n"),
            read_vtt("WEBVTT\n"),
            read_vtt("WEBVTT\n\nNOTE only a note\n"),
            read_vtt(
                "WEBVTT\n\n00:01.000 --> 00:02.000\n<i></i>\n\n00:02.000 --> 00:03.000\n   \n",
            ),
        ] {
            assert_eq!(error(result), "no captions found in this file");
        }
    }

    #[test]
    fn a_garbage_timing_line_is_reported_with_its_line_number() {
        let vtt = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHi\n\n2\n00:0x:01.000 --> 00:00:04.000\nThere\n";
        let message = error(read_vtt(vtt));
        assert!(message.starts_with("line 8: "), "{message}");
        assert!(message.contains("00:0x:01.000"), "{message}");

        let srt = "1\n00:00:01,000 --> banana\nHi\n";
        let message = error(read_srt(srt));
        assert!(message.starts_with("line 2: "), "{message}");
        assert!(
            message.contains("00:01:02,500 --> 00:01:04,000"),
            "{message}"
        );

        assert!(error(read_srt("1\n00:00:61,000 --> 00:01:02,000\nHi\n")).starts_with("line 2: "));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs = [
            "WEBVTT\n\n00:00:01.000 --> 00:00",
            "-->",
            "WEBVTT\n\n-->",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Jane",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Jane\n",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n&",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n&#xFFFFFFFF; &#0; &#xD800; &#; &#x; &#99999999999;",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n{\\an8",
            "WEBVTT\n\n00:01.000 --> 00:02.000\né<v",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v>\n",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n</v></c><00:00><99:99:99.999>",
            "WEBVTT\n\n99999999999999999999:00:00.000 --> 00:00:01.000\nHi",
            "WEBVTT\n\n999999999:59:59.999 --> 999999999:59:59.999\nHi",
            "1\n00:00:01,000 --> 00:00:02,000\n-",
            "1\n00:00:01,000 --> 00:00:02,000\n- ",
            "1\n00:00:01,000 --> 00:00:02,000\n>>",
            "1\n00:00:01,000 --> 00:00:02,000\n[(]: x\n([: y\nZoë：\n：\n",
            "1\n\n\n2",
            "WEBVTT",
        ];
        for input in inputs {
            for doc in [read_vtt(input), read_srt(input)].into_iter().flatten() {
                let len = doc.text.chars().count();
                for turn in &doc.turns {
                    assert!(
                        turn.start <= turn.end && turn.end <= len,
                        "{input:?}: {turn:?}"
                    );
                }
            }
        }
        assert_eq!(
            read_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Jane")
                .unwrap()
                .text,
            "<v Jane",
            "an unterminated tag is kept as text rather than swallowing the cue"
        );
    }

    #[test]
    fn every_truncation_of_the_fixtures_reads_or_fails_cleanly() {
        for fixture in [TEAMS, ZOOM, YOUTUBE, SRT] {
            for (at, _) in fixture.char_indices() {
                let part = &fixture[..at];
                for doc in [read_vtt(part), read_srt(part)].into_iter().flatten() {
                    let len = doc.text.chars().count();
                    assert!(doc.turns.iter().all(|t| t.start <= t.end && t.end <= len));
                }
            }
        }
    }
}
