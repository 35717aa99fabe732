//! Searching transcripts: where a word (by its stem) or an exact phrase
//! occurs, in code points like every other range, and the stretch around a
//! hit that "code all hits" applies a code to (the match, its sentence or
//! its turn).
//!
//! The stems themselves come from PostgreSQL's text search (the service
//! asks it for the stem of each candidate word), so a search finds what the
//! database's `english` configuration would. Here, words are runs of
//! letters and digits (an apostrophe or hyphen splits them, as PostgreSQL's
//! parser does), and a phrase of several words matches them in order,
//! consecutively; a common word in the phrase ("waiting *for a* bed")
//! stands for any one word, as in `phraseto_tsquery`.

use std::collections::HashMap;

/// A word of a text: its range in code points and its lower-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub lower: String,
}

/// The words of `chars[lo..hi]`.
pub fn words(chars: &[char], lo: usize, hi: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = lo;
    let hi = hi.min(chars.len());
    while i < hi {
        if chars[i].is_alphanumeric() {
            let start = i;
            while i < hi && chars[i].is_alphanumeric() {
                i += 1;
            }
            out.push(Word {
                start,
                end: i,
                lower: chars[start..i]
                    .iter()
                    .flat_map(|c| c.to_lowercase())
                    .collect(),
            });
        } else {
            i += 1;
        }
    }
    out
}

/// The words of a query, lower case.
pub fn query_words(q: &str) -> Vec<String> {
    let chars: Vec<char> = q.chars().collect();
    words(&chars, 0, chars.len())
        .into_iter()
        .map(|w| w.lower)
        .collect()
}

/// A phrase to find by stems: one entry per query word, `None` for a
/// common word that stands for any word. Leading and trailing common words
/// are dropped; `None` when nothing is left to look for.
pub fn stem_phrase(stems: Vec<Option<String>>) -> Option<Vec<Option<String>>> {
    let first = stems.iter().position(Option::is_some)?;
    let last = stems.iter().rposition(Option::is_some)?;
    Some(stems[first..=last].to_vec())
}

/// Could `word` have a stem among `phrase`'s? Stemming changes the ends of
/// words, never their first letter, so only words that begin like a stem
/// need asking the database about.
pub fn may_match(word: &str, phrase: &[Option<String>]) -> bool {
    let Some(first) = word.chars().next() else {
        return false;
    };
    phrase.iter().flatten().any(|s| s.starts_with(first))
}

/// Where `phrase` occurs among `words` (one region's words, in order), given
/// each candidate word's stem (`stems[lower]`; a word missing there or
/// stemming to nothing matches only a common-word slot).
pub fn phrase_hits(
    words: &[Word],
    stems: &HashMap<String, Option<String>>,
    phrase: &[Option<String>],
) -> Vec<(usize, usize)> {
    let k = phrase.len();
    if k == 0 || words.len() < k {
        return Vec::new();
    }
    let stem = |w: &Word| stems.get(&w.lower).and_then(|s| s.as_deref());
    let mut out = Vec::new();
    let mut j = 0;
    while j + k <= words.len() {
        let hit = phrase.iter().enumerate().all(|(i, want)| match want {
            None => true,
            Some(s) => stem(&words[j + i]) == Some(s.as_str()),
        });
        if hit {
            out.push((words[j].start, words[j + k - 1].end));
            j += k;
        } else {
            j += 1;
        }
    }
    out
}

fn fold(c: char) -> char {
    // One character for one, so offsets stay those of the text.
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// An exact phrase as a pattern: case folded, runs of white space as one.
pub fn exact_pattern(q: &str) -> Vec<char> {
    let mut out = Vec::new();
    for c in q.trim().chars() {
        if c.is_whitespace() {
            if out.last() != Some(&' ') {
                out.push(' ');
            }
        } else {
            out.push(fold(c));
        }
    }
    out
}

/// Where the exact phrase `pattern` ([`exact_pattern`]) occurs in
/// `chars[lo..hi]`: ignoring case, any run of white space matching a space,
/// and only as whole words (a phrase that begins or ends with a letter or
/// digit does not match inside a longer word). Hits do not overlap.
pub fn exact_hits(chars: &[char], lo: usize, hi: usize, pattern: &[char]) -> Vec<(usize, usize)> {
    let hi = hi.min(chars.len());
    let mut out = Vec::new();
    let Some(&first) = pattern.first() else {
        return out;
    };
    let word_start = first.is_alphanumeric();
    let word_end = pattern.last().is_some_and(|c| c.is_alphanumeric());
    let mut i = lo;
    while i < hi {
        if fold(chars[i]) != first || (word_start && i > 0 && chars[i - 1].is_alphanumeric()) {
            i += 1;
            continue;
        }
        // Match the pattern from i.
        let mut t = i;
        let mut ok = true;
        for &p in pattern {
            if p == ' ' {
                if t >= hi || !chars[t].is_whitespace() {
                    ok = false;
                    break;
                }
                while t < hi && chars[t].is_whitespace() {
                    t += 1;
                }
            } else if t < hi && fold(chars[t]) == p {
                t += 1;
            } else {
                ok = false;
                break;
            }
        }
        if ok && word_end && t < chars.len() && chars[t].is_alphanumeric() {
            ok = false;
        }
        if ok {
            out.push((i, t));
            i = t;
        } else {
            i += 1;
        }
    }
    out
}

fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '\n')
}

fn closes(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '»')
}

/// The sentence around `[start, end)` inside the region `[lo, hi)` (a
/// turn's speech): from after the previous full stop, question or
/// exclamation mark, ellipsis or line break, to the next one (with a
/// closing quote), without surrounding white space.
pub fn sentence(chars: &[char], lo: usize, hi: usize, start: usize, end: usize) -> (usize, usize) {
    let hi = hi.min(chars.len());
    let mut a = start;
    while a > lo {
        let c = chars[a - 1];
        if c == '\n' {
            break;
        }
        // A stop ends a sentence only before white space (closing quotes
        // between them), so "3.5" stays one sentence.
        if c.is_whitespace() {
            let mut k = a - 1;
            while k > lo && closes(chars[k - 1]) {
                k -= 1;
            }
            if k > lo && ends_sentence(chars[k - 1]) {
                break;
            }
        }
        a -= 1;
    }
    let mut b = end.max(a);
    while b < hi {
        let c = chars[b];
        if c == '\n' {
            break;
        }
        b += 1;
        if ends_sentence(c) && (b >= hi || chars[b].is_whitespace() || closes(chars[b])) {
            while b < hi && closes(chars[b]) {
                b += 1;
            }
            break;
        }
    }
    trim(chars, a, b)
}

/// `[a, b)` without white space at either end (never empty if the range
/// holds anything else).
pub fn trim(chars: &[char], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && chars[a].is_whitespace() {
        a += 1;
    }
    while b > a && chars[b - 1].is_whitespace() {
        b -= 1;
    }
    (a, b)
}

/// Keyword in context: up to `width` characters before and after the hit
/// within `[lo, hi)`, cut at a word boundary, with line breaks as spaces.
pub fn context(
    chars: &[char],
    lo: usize,
    hi: usize,
    start: usize,
    end: usize,
    width: usize,
) -> (String, String) {
    let hi = hi.min(chars.len());
    let mut a = start.saturating_sub(width).max(lo);
    if a > lo {
        while a < start && !chars[a - 1].is_whitespace() {
            a += 1;
        }
    }
    let mut b = (end + width).min(hi);
    if b < hi {
        while b > end && !chars[b].is_whitespace() {
            b -= 1;
        }
    }
    let flat = |s: &[char]| -> String {
        s.iter()
            .map(|&c| if c.is_whitespace() { ' ' } else { c })
            .collect()
    };
    let mut before = flat(&chars[a..start]);
    let mut after = flat(&chars[end..b]);
    if a > lo {
        before.insert(0, '…');
    }
    if b < hi {
        after.push('…');
    }
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn texts(c: &[char], hits: &[(usize, usize)]) -> Vec<String> {
        hits.iter()
            .map(|&(a, b)| c[a..b].iter().collect())
            .collect()
    }

    #[test]
    fn words_split_at_apostrophes_and_hyphens_and_count_code_points() {
        let c = chars("😀 Don't wait-list Naïve");
        let w = words(&c, 0, c.len());
        let lower: Vec<&str> = w.iter().map(|w| w.lower.as_str()).collect();
        assert_eq!(lower, ["don", "t", "wait", "list", "naïve"]);
        assert_eq!((w[0].start, w[0].end), (2, 5));
        assert_eq!((w[4].start, w[4].end), (18, 23));
    }

    #[test]
    fn exact_phrases_match_whole_words_ignoring_case_and_spacing() {
        let c = chars("Waiting  list, the waiting\nlist; waitinglist. Bedside bed. BED");
        let p = exact_pattern(" waiting list ");
        assert_eq!(
            texts(&c, &exact_hits(&c, 0, c.len(), &p)),
            ["Waiting  list", "waiting\nlist"]
        );
        let p = exact_pattern("bed");
        assert_eq!(texts(&c, &exact_hits(&c, 0, c.len(), &p)), ["bed", "BED"]);
        // Within a region only.
        assert_eq!(exact_hits(&c, 0, 20, &p), vec![]);
    }

    #[test]
    fn exact_phrases_ending_in_punctuation_need_no_boundary_there() {
        let c = chars("It was fine. Fine.Really");
        let p = exact_pattern("fine.");
        assert_eq!(
            texts(&c, &exact_hits(&c, 0, c.len(), &p)),
            ["fine.", "Fine."]
        );
    }

    #[test]
    fn phrases_match_by_stem_with_common_words_as_any_word() {
        let c = chars("We waited for a bed. Waiting on the bed, they wait.");
        let w = words(&c, 0, c.len());
        let stems: HashMap<String, Option<String>> = [
            ("we", None),
            ("waited", Some("wait")),
            ("for", None),
            ("a", None),
            ("bed", Some("bed")),
            ("waiting", Some("wait")),
            ("on", None),
            ("the", None),
            ("they", None),
            ("wait", Some("wait")),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.map(str::to_owned)))
        .collect();
        let one = vec![Some("wait".to_owned())];
        assert_eq!(
            texts(&c, &phrase_hits(&w, &stems, &one)),
            ["waited", "Waiting", "wait"]
        );
        let phrase =
            stem_phrase(vec![Some("wait".into()), None, None, Some("bed".into())]).unwrap();
        assert_eq!(
            texts(&c, &phrase_hits(&w, &stems, &phrase)),
            ["waited for a bed", "Waiting on the bed"]
        );
        assert_eq!(stem_phrase(vec![None, None]), None);
        assert_eq!(
            stem_phrase(vec![None, Some("bed".into()), None]),
            Some(vec![Some("bed".into())])
        );
    }

    #[test]
    fn only_words_that_begin_like_a_stem_are_candidates() {
        let phrase = vec![Some("wait".to_owned()), None];
        assert!(may_match("waiting", &phrase));
        assert!(!may_match("bed", &phrase));
        assert!(!may_match("", &phrase));
    }

    #[test]
    fn sentences_end_at_stops_before_space_and_at_line_breaks() {
        let c =
            chars("P1: First one. Dr. Smith said 3.5 weeks! Then \"we left.\" After\nnext line");
        let lo = 4;
        let at = |s: &str| {
            let i = c.iter().collect::<String>().find(s).unwrap();
            let i = c.iter().collect::<String>()[..i].chars().count();
            (i, i + s.chars().count())
        };
        let hit = |s: &str| {
            let (a, b) = at(s);
            let (x, y) = sentence(&c, lo, c.len(), a, b);
            c[x..y].iter().collect::<String>()
        };
        assert_eq!(hit("First"), "First one.");
        // "Dr." before a capital is a known limit; "3.5" is not a stop.
        assert_eq!(hit("weeks"), "Smith said 3.5 weeks!");
        assert_eq!(hit("left"), "Then \"we left.\"");
        assert_eq!(hit("After"), "After");
        assert_eq!(hit("next"), "next line");
    }

    #[test]
    fn context_is_cut_at_words_and_marked_when_cut() {
        let c = chars("one two three KEY four five six");
        let (a, b) = (14, 17);
        let (before, after) = context(&c, 0, c.len(), a, b, 9);
        assert_eq!(before, "…three ");
        assert_eq!(after, " four…");
        let (before, after) = context(&c, 0, c.len(), a, b, 100);
        assert_eq!(before, "one two three ");
        assert_eq!(after, " four five six");
    }
}
