//! Speaker turns: who speaks where in a transcript.

use serde::Serialize;

/// One speaker turn: `[start, end)` in code points (Rust `char`s) of the
/// document's normalised text. The range covers the whole turn, its speaker
/// label included. `time_ms` is when the turn starts in the recording, when
/// the transcript says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    pub speaker: Option<String>,
    pub start: usize,
    pub end: usize,
    pub time_ms: Option<u64>,
}

/// `3723000` → `01:02:03`: a time mark as transcripts write it.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Split a normalised transcript into speaker turns: a line that starts with a speaker label starts a turn; lines
/// without one continue it. Blank lines do not end a turn, but a turn's range
/// stops at its last non-blank line. Headings (`# …`, `---`) and time marks
/// standing alone end the current turn and belong to none; a time mark just
/// before a label gives that turn its time. Text before the first label
/// belongs to no turn.
pub fn parse(text: &str) -> Vec<Turn> {
    parse_at_most(text, usize::MAX).unwrap_or_default()
}

/// [`parse`], giving up (with `None`) as soon as there would be more than
/// `most` turns, so a text of a million one-word turns costs nothing to
/// refuse.
pub fn parse_at_most(text: &str, most: usize) -> Option<Vec<Turn>> {
    let mut turns = Vec::new();
    let mut current: Option<Turn> = None;
    let mut pending_time = None;
    let mut pos = 0; // code points before the current line
    for line in text.split('\n') {
        let len = line.chars().count();
        let content_end = pos + line.trim_end().chars().count();
        match classify(line) {
            Line::Blank => {}
            Line::Mark(time) => {
                turns.extend(current.take());
                pending_time = time.or(pending_time);
            }
            Line::Label(label) => {
                turns.extend(current.take());
                if turns.len() >= most {
                    return None;
                }
                current = Some(Turn {
                    speaker: Some(label.speaker),
                    start: pos + leading_chars(line),
                    end: content_end,
                    time_ms: label.time_ms.or(pending_time.take()),
                });
            }
            Line::Text => {
                if let Some(turn) = current.as_mut() {
                    turn.end = content_end;
                }
            }
        }
        pos += len + 1;
    }
    turns.extend(current);
    Some(turns)
}

fn leading_chars(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count()
}

enum Line {
    Blank,
    /// A heading, separator or lone time mark.
    Mark(Option<u64>),
    Label(Label),
    Text,
}

#[derive(Debug, PartialEq, Eq)]
struct Label {
    speaker: String,
    time_ms: Option<u64>,
}

fn classify(line: &str) -> Line {
    let s = line.trim();
    if s.is_empty() {
        return Line::Blank;
    }
    if is_heading(s) {
        return Line::Mark(None);
    }
    if let Some(ms) = lone_time(s) {
        return Line::Mark(Some(ms));
    }
    match label(s) {
        Some(l) => Line::Label(l),
        None => Line::Text,
    }
}

/// Markdown headings and separator lines.
fn is_heading(s: &str) -> bool {
    let hashes = s.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&hashes) && s[hashes..].starts_with(' ') {
        return true;
    }
    s.len() >= 3
        && (s.chars().all(|c| c == '-')
            || s.chars().all(|c| c == '*')
            || s.chars().all(|c| c == '_')
            || s.chars().all(|c| c == '='))
}

/// `[00:03:12]`, `(00:03)`, `00:03:12` or `12:03.5` alone on a line.
fn lone_time(s: &str) -> Option<u64> {
    let inner = unbracket(s).unwrap_or(s).trim();
    match time_prefix(inner) {
        Some((ms, used)) if used == inner.len() => Some(ms),
        _ => None,
    }
}

fn unbracket(s: &str) -> Option<&str> {
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .or_else(|| s.strip_prefix('(').and_then(|r| r.strip_suffix(')')))
}

/// A timestamp at the start of `s`: `h:mm:ss`, `mm:ss`, with optional
/// `.mmm`/`,mmm`. Returns milliseconds and the bytes used.
fn time_prefix(s: &str) -> Option<(u64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts: Vec<u64> = Vec::with_capacity(3);
    loop {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (!parts.is_empty() && digits != 2) {
            return None;
        }
        parts.push(s[start..i].parse().ok()?);
        if parts.len() < 3 && i + 1 < b.len() && b[i] == b':' && b[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    if parts.len() < 2 || parts[1..].iter().any(|&p| p >= 60) {
        return None;
    }
    let mut millis = 0;
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        let frac = &s[start..i];
        millis = frac.parse::<u64>().ok()? * 10u64.pow(3 - frac.len() as u32);
    }
    // A digit right after ("12:30:456") means this was not a time.
    if b.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let seconds = parts.iter().fold(0u64, |acc, p| acc * 60 + p);
    Some((seconds * 1000 + millis, i))
}

/// The speaker label a line starts with, if any: `Label: text`,
/// `[00:03:12] Label: text`, `**Label**: text`, `Label<TAB>text`, or a
/// header line `Label  0:03` (otter.ai, Teams) with the words below it.
fn label(s: &str) -> Option<Label> {
    let (time, rest) = match strip_time_prefix(s) {
        Some((ms, rest)) => (Some(ms), rest),
        None => (None, s),
    };
    colon_label(rest)
        .or_else(|| tab_label(rest))
        .or_else(|| header_label(rest))
        .map(|mut l| {
            l.time_ms = l.time_ms.or(time);
            l
        })
}

/// `[00:03:12] `, `(00:03:12) `, `00:03:12 - ` before a label.
fn strip_time_prefix(s: &str) -> Option<(u64, &str)> {
    let (ms, rest) = if let Some(inner) = s.strip_prefix('[').or_else(|| s.strip_prefix('(')) {
        let close = inner.find([']', ')'])?;
        let (ms, used) = time_prefix(inner[..close].trim())?;
        (used == inner[..close].trim().len()).then_some(())?;
        (ms, &inner[close + 1..])
    } else {
        let (ms, used) = time_prefix(s)?;
        (ms, &s[used..])
    };
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix(['-', '–', '—', '|'])
        .map(str::trim_start)
        .unwrap_or(rest);
    Some((ms, rest))
}

fn colon_label(s: &str) -> Option<Label> {
    // Markdown emphasis around the label: **Name**: or **Name:**
    for mark in ["**", "__", "*", "_"] {
        if let Some(inner) = s.strip_prefix(mark) {
            let close = inner.find(mark)?;
            let (name, after) = (&inner[..close], &inner[close + mark.len()..]);
            return if let Some(name) = name.strip_suffix(':') {
                after_label_ok(after).then(|| checked(name)).flatten()
            } else {
                let after = after.strip_prefix(':')?;
                after_label_ok(after).then(|| checked(name)).flatten()
            };
        }
    }
    let colon = colon_outside_brackets(s)?;
    let (name, after) = (&s[..colon], &s[colon + 1..]);
    if !after_label_ok(after) {
        return None;
    }
    checked(name)
}

/// The first `:` that is not inside `(…)` or `[…]` ("Interviewer (00:05): …").
fn colon_outside_brackets(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// A label's colon is followed by whitespace or the end of the line — not
/// `//` (a URL) or digits (a time).
fn after_label_ok(after: &str) -> bool {
    after.is_empty() || after.starts_with(char::is_whitespace)
}

fn tab_label(s: &str) -> Option<Label> {
    let (name, after) = s.split_once('\t')?;
    if after.trim().is_empty() {
        return None;
    }
    checked(name)
}

fn header_label(s: &str) -> Option<Label> {
    let cut = s.trim_end().rfind(char::is_whitespace)?;
    let (name, time) = (&s[..cut], s[cut..].trim());
    let (ms, used) = time_prefix(time)?;
    if used != time.len() {
        return None;
    }
    let mut l = checked(name)?;
    l.time_ms = Some(ms);
    Some(l)
}

/// Lowercase words a speaker label may contain ("Service user 3",
/// "Mother of P3", "Hugo de Vries").
const JOINERS: &[&str] = &[
    "user",
    "users",
    "member",
    "worker",
    "manager",
    "nurse",
    "carer",
    "officer",
    "lead",
    "partner",
    "participant",
    "of",
    "and",
    "de",
    "van",
    "von",
    "der",
    "den",
    "la",
    "le",
    "du",
    "da",
    "di",
    "al",
    "el",
    "bin",
    "ben",
    "y",
];

/// Words that open sentences, not names: "The point is: …", "So what: …".
const SENTENCE_STARTERS: &[&str] = &[
    "the", "this", "that", "these", "those", "it", "he", "she", "they", "we", "you", "and", "but",
    "so", "then", "when", "what", "why", "how", "there", "here", "my", "our", "your", "his", "her",
    "their", "one", "a", "an", "in", "on", "at", "if", "as", "well", "yes", "no", "oh", "because",
    "also", "just", "like", "now", "for", "to", "all", "some", "chapter", "section", "part",
    "appendix", "table", "figure", "page",
];

/// Headings of metadata that look like labels but are not speakers.
const NOT_SPEAKERS: &[&str] = &[
    "date",
    "time",
    "location",
    "place",
    "venue",
    "duration",
    "length",
    "note",
    "notes",
    "nb",
    "n.b",
    "n.b.",
    "title",
    "subject",
    "re",
    "ps",
    "p.s.",
    "transcript",
    "transcriber",
    "transcribed by",
    "interview",
    "interview date",
    "focus group",
    "recording",
    "file",
    "filename",
    "file name",
    "project",
    "study",
    "site",
    "present",
    "attendees",
    "participants",
    "key",
    "source",
    "http",
    "https",
    "mailto",
    "email",
    "e-mail",
    "tel",
    "phone",
    "ref",
    "reference",
    "version",
    "agenda",
    "summary",
    "background",
    "example",
    "e.g.",
    "i.e.",
    "eg",
    "ie",
    "yes",
    "no",
    "well",
    "so",
    "and",
    "but",
    "then",
    "also",
    "warning",
    "important",
    "tip",
    "answer key",
    "keywords",
    "codes",
    "code",
    "speaker",
    "text",
    "name",
    "speech",
    "utterance",
    "content",
    "timestamp",
];

/// `name` is a plausible speaker label: short, name-like words, not a
/// metadata heading or the start of a sentence.
fn checked(name: &str) -> Option<Label> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return None;
    }
    // Parenthesised and bracketed parts ("Carer 1 (Ruth)", "Doctor [00:03]")
    // are kept in the label but not judged; a time among them is the turn's.
    let mut core = String::with_capacity(name.len());
    let mut time_ms = None;
    let mut speaker = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find(['(', '[']) {
        let close_char = if rest[open..].starts_with('(') {
            ')'
        } else {
            ']'
        };
        let close = open + rest[open..].find(close_char)?;
        core.push_str(&rest[..open]);
        let inner = rest[open + 1..close].trim();
        match time_prefix(inner) {
            Some((ms, used)) if used == inner.len() => {
                time_ms = Some(ms);
                speaker.push_str(&rest[..open]);
            }
            _ => speaker.push_str(&rest[..=close]),
        }
        rest = &rest[close + 1..];
    }
    core.push_str(rest);
    speaker.push_str(rest);
    if core.contains([')', ']']) {
        return None;
    }
    let words: Vec<&str> = core.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    if !core.chars().all(|c| {
        c.is_alphanumeric() || c.is_whitespace() || matches!(c, '.' | '\'' | '’' | '-' | '&' | '/')
    }) {
        return None;
    }
    let lower = words.join(" ").to_lowercase();
    if NOT_SPEAKERS.contains(&lower.as_str()) {
        return None;
    }
    let first = words[0].to_lowercase();
    if words.len() > 1 && SENTENCE_STARTERS.contains(&first.as_str()) {
        return None;
    }
    // Capitalised, caseless (CJK, Arabic, ...), or a code with a digit.
    let starts_like_a_name = |w: &str| {
        w.chars().next().is_some_and(|c| {
            c.is_uppercase() || c.is_ascii_digit() || (c.is_alphabetic() && !c.is_lowercase())
        })
    };
    let name_like = |w: &&str| {
        starts_like_a_name(w)
            || w.chars().any(|c| c.is_ascii_digit())
            || JOINERS.contains(&w.to_lowercase().as_str())
    };
    let code = |w: &str| w.chars().any(|c| c.is_ascii_digit());
    if !words.iter().all(name_like) || !(starts_like_a_name(words[0]) || code(words[0])) {
        return None;
    }
    Some(Label {
        speaker: speaker.split_whitespace().collect::<Vec<_>>().join(" "),
        time_ms,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parsing_stops_past_the_most_turns_asked_for() {
        let text = "A: one\nB: two\nA: three\n";
        assert_eq!(parse_at_most(text, 3).map(|t| t.len()), Some(3));
        assert_eq!(parse_at_most(text, 2), None);
        assert_eq!(parse(text).len(), 3);
    }

    use super::*;

    fn speakers(text: &str) -> Vec<String> {
        parse(text)
            .into_iter()
            .map(|t| t.speaker.unwrap_or_default())
            .collect()
    }

    fn turn_text(text: &str, t: &Turn) -> String {
        text.chars().skip(t.start).take(t.end - t.start).collect()
    }

    fn label_of(line: &str) -> Option<String> {
        label(line).map(|l| l.speaker)
    }

    #[test]
    fn common_label_styles_start_turns() {
        for (line, want) in [
            ("Interviewer: So tell me", "Interviewer"),
            ("P07: I think", "P07"),
            ("Carer 1 (Ruth): It was hard", "Carer 1 (Ruth)"),
            ("Lynne Neagle AM: Thank you, Chair.", "Lynne Neagle AM"),
            ("**Ms Carey**: Good morning.", "Ms Carey"),
            ("**Ms Carey:** Good morning.", "Ms Carey"),
            ("[00:03:12] Doctor: How are you?", "Doctor"),
            ("00:03:12 Doctor: How are you?", "Doctor"),
            ("Interviewer:     lots of spaces", "Interviewer"),
            ("I: Right.", "I"),
            ("Q: And then?", "Q"),
            ("R1: Yes", "R1"),
            ("p07: lowercase code", "p07"),
            ("SPEAKER 2: okay", "SPEAKER 2"),
            ("Service user 3: They listened", "Service user 3"),
            ("Mother of P3: She was scared", "Mother of P3"),
            ("Dr. O'Neill-Smith: Indeed", "Dr. O'Neill-Smith"),
            ("Zoë Müller: Ja", "Zoë Müller"),
            ("李明: 我觉得", "李明"),
            ("Interviewer:", "Interviewer"),
            ("P07\tI think so", "P07"),
            ("Jane Smith  0:03", "Jane Smith"),
            ("Speaker 1   00:01:02", "Speaker 1"),
        ] {
            assert_eq!(label_of(line).as_deref(), Some(want), "{line:?}");
        }
    }

    #[test]
    fn sentences_and_metadata_with_colons_are_not_labels() {
        for line in [
            "The problem was this: nobody came.",
            "And then she said: go home",
            "I think: maybe",
            "He said: no way",
            "Date: 12 May 2004",
            "Location: North locality",
            "Note: recording paused",
            "See https://example.org for details",
            "We met at 10:30 and left",
            "Ratio 3:1 was used",
            "what she said: nothing",
            "Chapter 3: Findings",
            "It was, frankly: awful",
            "Why? Because: reasons",
            "a very long label that goes on and on and on: text",
            "Time: 10:00",
        ] {
            assert_eq!(label_of(line), None, "{line:?}");
        }
    }

    #[test]
    fn times_are_read_from_prefixes_parentheses_and_header_lines() {
        assert_eq!(
            label("[00:03:12] Doctor: Hi").unwrap().time_ms,
            Some(192_000)
        );
        assert_eq!(label("(01:02) P1: Hi").unwrap().time_ms, Some(62_000));
        assert_eq!(
            label("Interviewer (00:00:05.5): Hi").unwrap(),
            Label {
                speaker: "Interviewer".into(),
                time_ms: Some(5_500)
            }
        );
        assert_eq!(
            label("Jane Smith  1:02:03").unwrap().time_ms,
            Some(3_723_000)
        );
        assert_eq!(label("Doctor: Hi").unwrap().time_ms, None);
    }

    #[test]
    fn continuation_lines_and_blank_lines_stay_in_the_turn() {
        let text = "Interviewer: How was\nthe ward?\n\nP07: It felt like a\nsanctuary, honestly.\n\nIt was quiet.\n\n";
        let turns = parse(text);
        assert_eq!(speakers(text), ["Interviewer", "P07"]);
        assert_eq!(
            turn_text(text, &turns[0]),
            "Interviewer: How was\nthe ward?"
        );
        assert_eq!(
            turn_text(text, &turns[1]),
            "P07: It felt like a\nsanctuary, honestly.\n\nIt was quiet."
        );
    }

    #[test]
    fn text_before_the_first_label_belongs_to_no_turn() {
        let text =
            "Interview 3, North locality\nDate: 12 May 2004\n\nInterviewer: Hello.\nP03: Hi.";
        let turns = parse(text);
        assert_eq!(speakers(text), ["Interviewer", "P03"]);
        assert_eq!(turn_text(text, &turns[0]), "Interviewer: Hello.");
    }

    #[test]
    fn headings_and_time_marks_are_not_turns() {
        let text = "# Focus group, carers\n\n[00:00:00]\nFacilitator: Welcome.\n\n## Part 2\n\n00:10:00\n\nCarer 2: Yes.\nmore\n---\nstray line";
        let turns = parse(text);
        assert_eq!(speakers(text), ["Facilitator", "Carer 2"]);
        assert_eq!(turns[0].time_ms, Some(0));
        assert_eq!(
            turns[1].time_ms,
            Some(600_000),
            "a lone time mark before a label times it"
        );
        assert_eq!(
            turn_text(text, &turns[1]),
            "Carer 2: Yes.\nmore",
            "a separator ends the turn"
        );
    }

    #[test]
    fn otter_style_header_lines_take_the_words_below() {
        let text = "Jane Smith  0:03\nSo we started.\n\nInterviewer  0:15\nRight.";
        let turns = parse(text);
        assert_eq!(speakers(text), ["Jane Smith", "Interviewer"]);
        assert_eq!(
            turn_text(text, &turns[0]),
            "Jane Smith  0:03\nSo we started."
        );
        assert_eq!(turns[1].time_ms, Some(15_000));
    }

    #[test]
    fn word_tables_become_tab_separated_turns() {
        let text = "Speaker\tText\nInterviewer\tHow was it?\nP1\tFine.";
        assert_eq!(
            speakers(text),
            ["Interviewer", "P1"],
            "a header row is not a turn"
        );
    }

    #[test]
    fn positions_count_code_points_with_emoji_and_accents() {
        let text = "Intro 😀\nCarer: Café 🙂 fine\nP1: 中文";
        let turns = parse(text);
        assert_eq!(turns[0].start, 8);
        assert_eq!(turn_text(text, &turns[0]), "Carer: Café 🙂 fine");
        assert_eq!(turn_text(text, &turns[1]), "P1: 中文");
        assert_eq!(turns[1].end, text.chars().count());
    }

    #[test]
    fn indented_labels_start_after_the_indent() {
        let text = "  Interviewer: hi";
        let t = &parse(text)[0];
        assert_eq!(turn_text(text, t), "Interviewer: hi");
    }

    #[test]
    fn a_text_without_labels_has_no_turns() {
        assert!(parse("Just a memo.\nNo speakers here.").is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for line in [
            "[",
            "(",
            "[00:",
            "**",
            "**a",
            "*:",
            ":",
            "\t",
            "[]: x",
            "(1:2:3:4) x: y",
            "9999999999:00 a: b",
            "[12:00] ",
            "é:é",
            "(😀: x",
        ] {
            let _ = parse(line);
        }
    }
}
