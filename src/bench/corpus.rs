//! The synthetic study: who took part, the codebook, and each transcript's
//! text and codings — all drawn from a seed, so the same arguments give the
//! same corpus on every machine. Nothing here touches the database.

use super::{Rng, cumulative};
use crate::domain::document::DocumentKind;
use std::collections::HashSet;

/// The three default groups, in the project's order, and how many of the
/// participants are in each.
const GROUP_SHARE: [f64; 3] = [0.35, 0.40, 0.25];
const GROUP_PREFIX: [&str; 3] = ["S", "U", "C"];
const GROUP_NAME: [&str; 3] = ["staff", "service users", "carers"];

/// Localities (a participant attribute) and their shares.
pub const LOCALITIES: [&str; 4] = ["Northbridge", "Southmoor", "Eastfield", "Westham"];
const LOCALITY_SHARE: [f64; 4] = [0.32, 0.30, 0.24, 0.14];
const AGE_BANDS: [&str; 5] = ["18-24", "25-34", "35-49", "50-64", "65+"];

/// A long transcript ("a few of 20,000 words").
pub const LONG_WORDS: usize = 20_000;

/// A person in the study.
#[derive(Debug, Clone)]
pub struct Person {
    pub label: String,
    /// 0, 1, 2: Staff, Service user, Carer (the default groups' order).
    pub group: usize,
    pub locality: &'static str,
    pub age_band: &'static str,
}

/// A code of the three-level codebook; `parent` indexes `Plan::codes`.
#[derive(Debug, Clone)]
pub struct CodeSpec {
    pub parent: Option<usize>,
    pub name: String,
    pub colour: String,
    pub definition: String,
    /// Among its siblings, from 1.
    pub position: i32,
}

/// What a document will be, before its text is written.
#[derive(Debug, Clone)]
pub struct DocSpec {
    pub kind: DocumentKind,
    pub words: usize,
    pub codings: usize,
    /// Indexes into `Plan::people`: the interviewee, or the group's members.
    pub speakers: Vec<usize>,
    /// Coders (0-based) who coded it.
    pub coders: Vec<usize>,
    pub title: String,
    pub filename: String,
    pub held_on: time::Date,
    pub wave: u8,
}

/// The whole study, decided up front (texts are written on demand).
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub people: Vec<Person>,
    pub codes: Vec<CodeSpec>,
    pub docs: Vec<DocSpec>,
    pub coders: usize,
    code_weights: Vec<f64>,
}

/// One coding: `[start, end)` in code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub code: usize,
    pub coder: usize,
    pub start: usize,
    pub end: usize,
    pub starred: bool,
    pub memo: &'static str,
}

impl Plan {
    /// `docs` transcripts of about `words` words (exactly `words` when there
    /// are fewer than ten; else ±30 %, and one in a hundred of 20,000 words),
    /// with `codings` codings in all, spread in proportion to length over
    /// `coders` coders.
    pub fn new(seed: u64, docs: usize, words: usize, codings: usize, coders: usize) -> Plan {
        let mut rng = Rng::derive(seed, 1, 0);
        let people = people(&mut rng, (docs * 11 / 20).max(12));
        let codes = codebook(&mut rng);
        let code_weights = cumulative(code_popularity(&codes));
        let mut plan = Plan {
            seed,
            people,
            codes,
            docs: Vec::with_capacity(docs),
            coders: coders.max(1),
            code_weights,
        };
        let by_group: Vec<Vec<usize>> = (0..3)
            .map(|g| {
                (0..plan.people.len())
                    .filter(|&p| plan.people[p].group == g)
                    .collect()
            })
            .collect();
        let mut counter = vec![0usize; plan.people.len()];
        for i in 0..docs {
            let mut r = Rng::derive(seed, 2, i as u64);
            let length = if docs < 10 {
                words
            } else if i % 100 == 50 && words < LONG_WORDS {
                LONG_WORDS
            } else {
                (words as f64 * (0.7 + 0.6 * r.unit())).round() as usize
            };
            let focus_group = docs > 2 && r.chance(0.15);
            let (kind, speakers, title, filename) = if focus_group {
                let g = r.below(3);
                let pool = &by_group[g];
                let n = r.between(4, 8).min(pool.len());
                let mut chosen: Vec<usize> = Vec::with_capacity(n);
                while chosen.len() < n {
                    let p = *r.pick(pool);
                    if !chosen.contains(&p) {
                        chosen.push(p);
                    }
                }
                let place = plan.people[chosen[0]].locality;
                (
                    DocumentKind::FocusGroup,
                    chosen,
                    format!("Focus group with {} in {place} ({})", GROUP_NAME[g], i + 1),
                    format!("fg-{:04}-{}.txt", i + 1, GROUP_PREFIX[g].to_lowercase()),
                )
            } else {
                // Most people are interviewed once, some twice (two waves).
                let p = (i * 7 + r.below(3)) % plan.people.len();
                counter[p] += 1;
                let label = plan.people[p].label.clone();
                (
                    DocumentKind::Interview,
                    vec![p],
                    format!("Interview {label} ({})", counter[p]),
                    format!("{}-interview-{}.txt", label.to_lowercase(), counter[p]),
                )
            };
            let n_coders = if plan.coders <= 2 {
                plan.coders
            } else {
                r.between(2, plan.coders)
            };
            let first = r.below(plan.coders);
            let coders = (0..n_coders).map(|k| (first + k) % plan.coders).collect();
            let day = time::Date::from_ordinal_date(2004, 20 + r.below(320) as u16)
                .expect("a day of 2004");
            plan.docs.push(DocSpec {
                kind,
                words: length,
                codings: 0,
                speakers,
                coders,
                title,
                filename,
                held_on: day,
                wave: if u8::from(day.month()) <= 6 { 1 } else { 2 },
            });
        }
        // Codings in proportion to length, summing to exactly `codings`.
        let total_words: usize = plan.docs.iter().map(|d| d.words).sum::<usize>().max(1);
        let mut given = 0;
        for d in plan.docs.iter_mut() {
            d.codings = codings * d.words / total_words;
            given += d.codings;
        }
        let n = plan.docs.len().max(1);
        for k in 0..codings.saturating_sub(given) {
            if let Some(d) = plan.docs.get_mut(k % n) {
                d.codings += 1;
            }
        }
        plan
    }

    /// The text of document `i`, as a transcript file would hold it.
    pub fn text(&self, i: usize) -> String {
        let spec = &self.docs[i];
        let mut rng = Rng::derive(self.seed, 3, i as u64);
        let mut w = Writer::new(spec.words * 7);
        let who: Vec<&Person> = spec.speakers.iter().map(|&p| &self.people[p]).collect();
        w.line(&format!("# {}", spec.title));
        w.line(&format!("Date: {}", spec.held_on));
        w.line(&format!(
            "Location: {} (wave {})",
            who[0].locality, spec.wave
        ));
        w.line("");
        let lead = match spec.kind {
            DocumentKind::FocusGroup => "Facilitator",
            _ => "Interviewer",
        };
        let mut seconds = rng.between(2, 40);
        let mut turn = 0usize;
        while w.words < spec.words {
            let asking = turn.is_multiple_of(2);
            let label = if asking {
                lead
            } else if spec.kind == DocumentKind::FocusGroup && rng.chance(0.03) {
                // Someone the transcriber could not tell apart: Unassigned.
                "Unidentified Speaker"
            } else {
                &who[rng.below(who.len())].label
            };
            w.text(&format!(
                "[{:02}:{:02}:{:02}] {label}: ",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            ));
            let before = w.words;
            if asking {
                let n = rng.between(1, 3);
                for k in 0..n {
                    w.sentence(&mut rng, k + 1 == n);
                }
            } else {
                let n = rng.between(2, 14);
                for k in 0..n {
                    if k > 0 && rng.chance(0.06) {
                        // A paragraph break inside the turn.
                        w.line("");
                        w.line("");
                    }
                    w.sentence(&mut rng, false);
                }
            }
            w.line("");
            seconds += (w.words - before) * 2 / 5 + rng.between(1, 4);
            turn += 1;
        }
        // As an import stores it (`domain::text::normalise`): the text is
        // NFC already; trailing white space goes.
        w.out.truncate(w.out.trim_end().len());
        w.out
    }

    /// The codings of document `i`, whose text is `text`: passages of a
    /// sentence to a few paragraphs, a quarter of them on a passage that
    /// already has a coding (another code, or the same code by another
    /// coder), never the same code, coder and range twice.
    pub fn codings(&self, i: usize, text: &str) -> Vec<Mark> {
        let spec = &self.docs[i];
        let mut rng = Rng::derive(self.seed, 4, i as u64);
        let words = word_spans(text);
        let mut out: Vec<Mark> = Vec::with_capacity(spec.codings);
        if words.is_empty() || spec.codings == 0 {
            return out;
        }
        let mut seen: HashSet<(usize, usize, usize, usize)> = HashSet::new();
        let mut tries = 0;
        while out.len() < spec.codings && tries < spec.codings * 20 {
            tries += 1;
            let coder = *rng.pick(&spec.coders);
            let (code, start, end) = if !out.is_empty() && rng.chance(0.25) {
                let other = &out[rng.below(out.len())];
                let code = if rng.chance(0.5) {
                    other.code
                } else {
                    self.pick_code(&mut rng)
                };
                (code, other.start, other.end)
            } else {
                let len = match rng.below(20) {
                    0..=7 => rng.between(8, 30),
                    8..=15 => rng.between(30, 90),
                    16..=18 => rng.between(90, 200),
                    _ => rng.between(200, 500),
                };
                let first = rng.below(words.len());
                let last = (first + len).min(words.len()) - 1;
                (self.pick_code(&mut rng), words[first].0, words[last].1)
            };
            if !seen.insert((code, coder, start, end)) {
                continue;
            }
            let starred = rng.chance(0.01);
            let memo = if rng.chance(0.03) {
                *rng.pick(&MEMOS)
            } else {
                ""
            };
            out.push(Mark {
                code,
                coder,
                start,
                end,
                starred,
                memo,
            });
        }
        out
    }

    /// The code's full path, `Parent / Child`, as the codebook shows it.
    pub fn path(&self, code: usize) -> String {
        let mut names = vec![self.codes[code].name.as_str()];
        let mut at = self.codes[code].parent;
        while let Some(p) = at {
            names.push(&self.codes[p].name);
            at = self.codes[p].parent;
        }
        names.reverse();
        crate::domain::code::join_path(&names)
    }

    fn pick_code(&self, rng: &mut Rng) -> usize {
        rng.weighted(&self.code_weights)
    }
}

/// Code-point ranges of the white-space separated tokens of `text`.
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(text.len() / 5);
    let mut start = None;
    for (i, c) in text.chars().enumerate() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.chars().count()));
    }
    spans
}

fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
    let groups = cumulative(GROUP_SHARE);
    let places = cumulative(LOCALITY_SHARE);
    let mut numbers = [0usize; 3];
    (0..n)
        .map(|i| {
            // The first few cover every group, whatever the draw.
            let group = if i < 3 { i } else { rng.weighted(&groups) };
            numbers[group] += 1;
            Person {
                label: format!("{}{:04}", GROUP_PREFIX[group], numbers[group]),
                group,
                locality: LOCALITIES[if i < 4 { i } else { rng.weighted(&places) }],
                age_band: AGE_BANDS[rng.below(AGE_BANDS.len())],
            }
        })
        .collect()
}

const THEMES: [&str; 12] = [
    "Access to services",
    "Continuity of care",
    "Trust and relationships",
    "Stigma and identity",
    "Carers' needs",
    "Crisis response",
    "Information sharing",
    "Workforce and workload",
    "Housing and money",
    "Medication",
    "Recovery and hope",
    "Partnership working",
];
const FACETS: [&str; 4] = ["Barriers", "Enablers", "Experiences", "Suggestions"];
const ASPECTS: [&str; 20] = [
    "waiting times",
    "being listened to",
    "referral routes",
    "out of hours",
    "paperwork",
    "named worker",
    "transport",
    "cost",
    "family involvement",
    "peer support",
    "language and culture",
    "digital access",
    "confidentiality",
    "staff turnover",
    "joint meetings",
    "discharge",
    "first contact",
    "follow-up",
    "advocacy",
    "physical health",
];
const PALETTE: [&str; 12] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// 12 themes × 4 facets × 5 aspects: 300 codes on three levels.
fn codebook(rng: &mut Rng) -> Vec<CodeSpec> {
    let mut codes = Vec::with_capacity(300);
    for (t, theme) in THEMES.iter().enumerate() {
        let top = codes.len();
        codes.push(CodeSpec {
            parent: None,
            name: (*theme).to_owned(),
            colour: PALETTE[t].to_owned(),
            definition: format!("Anything participants say about {}.", theme.to_lowercase()),
            position: t as i32 + 1,
        });
        for (f, facet) in FACETS.iter().enumerate() {
            let mid = codes.len();
            codes.push(CodeSpec {
                parent: Some(top),
                name: (*facet).to_owned(),
                colour: PALETTE[t].to_owned(),
                definition: format!("{facet} in {}.", theme.to_lowercase()),
                position: f as i32 + 1,
            });
            let mut aspects: Vec<&str> = Vec::with_capacity(5);
            while aspects.len() < 5 {
                let a = *rng.pick(&ASPECTS);
                if !aspects.contains(&a) {
                    aspects.push(a);
                }
            }
            for (k, a) in aspects.iter().enumerate() {
                let mut name = (*a).to_owned();
                name[..1].make_ascii_uppercase();
                codes.push(CodeSpec {
                    parent: Some(mid),
                    name,
                    colour: PALETTE[(t + k + 1) % PALETTE.len()].to_owned(),
                    definition: format!("{facet} to do with {a}."),
                    position: k as i32 + 1,
                });
            }
        }
    }
    codes
}

/// Coders mostly use the leaves, popular codes far more than rare ones.
fn code_popularity(codes: &[CodeSpec]) -> Vec<f64> {
    let depth = |mut i: usize| {
        let mut d = 0;
        while let Some(p) = codes[i].parent {
            i = p;
            d += 1;
        }
        d
    };
    let mut rank = [0usize; 3];
    codes
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let d = depth(i);
            rank[d] += 1;
            let base = [0.25, 0.6, 1.0][d];
            base / (1.0 + rank[d] as f64 / 12.0)
        })
        .collect()
}

const MEMOS: [&str; 6] = [
    "Check against the wave 2 interview.",
    "Strong example; consider for the report.",
    "Ambiguous: could also be Trust and relationships.",
    "Discussed at the coding meeting; keep.",
    "Echoes what the carers' group said.",
    "Negative case?",
];

/// Words, most common first (drawn with a Zipf-like skew), with a few
/// that are not ASCII so positions are code points, not bytes.
const VOCABULARY: &[&str] = &[
    "the",
    "and",
    "to",
    "I",
    "a",
    "of",
    "it",
    "that",
    "was",
    "you",
    "in",
    "we",
    "they",
    "is",
    "just",
    "so",
    "but",
    "with",
    "for",
    "have",
    "not",
    "know",
    "there",
    "were",
    "be",
    "on",
    "like",
    "what",
    "when",
    "me",
    "my",
    "about",
    "would",
    "because",
    "really",
    "at",
    "all",
    "them",
    "then",
    "think",
    "had",
    "get",
    "if",
    "can",
    "more",
    "people",
    "do",
    "one",
    "time",
    "out",
    "from",
    "staff",
    "service",
    "team",
    "care",
    "support",
    "help",
    "week",
    "felt",
    "said",
    "told",
    "someone",
    "nurse",
    "doctor",
    "appointment",
    "letter",
    "phone",
    "waiting",
    "mother",
    "son",
    "daughter",
    "home",
    "ward",
    "crisis",
    "medication",
    "worker",
    "housing",
    "money",
    "benefits",
    "meeting",
    "plan",
    "review",
    "referral",
    "list",
    "months",
    "years",
    "night",
    "day",
    "weekend",
    "again",
    "never",
    "always",
    "sometimes",
    "different",
    "same",
    "better",
    "worse",
    "good",
    "hard",
    "difficult",
    "easy",
    "safe",
    "listened",
    "understood",
    "trust",
    "changed",
    "moved",
    "left",
    "called",
    "came",
    "went",
    "asked",
    "wanted",
    "needed",
    "tried",
    "waited",
    "stayed",
    "explained",
    "remember",
    "honestly",
    "actually",
    "probably",
    "maybe",
    "quite",
    "very",
    "much",
    "little",
    "lot",
    "bit",
    "every",
    "other",
    "first",
    "last",
    "next",
    "new",
    "old",
    "own",
    "family",
    "friends",
    "group",
    "centre",
    "clinic",
    "hospital",
    "GP",
    "council",
    "police",
    "ambulance",
    "carer",
    "manager",
    "psychiatrist",
    "therapist",
    "social",
    "mental",
    "health",
    "services",
    "system",
    "information",
    "records",
    "forms",
    "discharge",
    "follow-up",
    "continuity",
    "relationship",
    "respect",
    "dignity",
    "choice",
    "control",
    "voice",
    "stigma",
    "shame",
    "fear",
    "hope",
    "recovery",
    "progress",
    "setback",
    "relapse",
    "routine",
    "job",
    "work",
    "college",
    "bus",
    "car",
    "miles",
    "town",
    "village",
    "estate",
    "area",
    "local",
    "partnership",
    "commissioners",
    "budget",
    "cuts",
    "pressure",
    "caseload",
    "paperwork",
    "computer",
    "email",
    "text",
    "leaflet",
    "café",
    "naïve",
    "rôle",
    "didn’t",
    "couldn’t",
    "—",
    "2004",
    "twelve",
    "three",
    "six",
    "weeks",
    "hours",
    "minutes",
    "straight",
    "away",
    "back",
    "through",
    "into",
    "over",
    "before",
    "after",
    "while",
    "until",
    "since",
    "during",
    "without",
];

/// A transcript being written, counting code points and words.
struct Writer {
    out: String,
    words: usize,
    zipf: Vec<f64>,
}

impl Writer {
    fn new(capacity: usize) -> Writer {
        Writer {
            out: String::with_capacity(capacity),
            words: 0,
            zipf: cumulative((0..VOCABULARY.len()).map(|r| 1.0 / (r as f64 + 2.0))),
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn text(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn sentence(&mut self, rng: &mut Rng, question: bool) {
        let n = rng.between(5, 24);
        for k in 0..n {
            let word = VOCABULARY[rng.weighted(&self.zipf)];
            if k == 0 {
                let mut chars = word.chars();
                if let Some(c) = chars.next() {
                    self.out.extend(c.to_uppercase());
                    self.out.push_str(chars.as_str());
                }
            } else {
                self.out.push(' ');
                self.out.push_str(word);
            }
            if word != "—" {
                self.words += 1;
            }
            if k + 1 < n && k > 2 && rng.chance(0.06) {
                self.out.push(',');
            }
        }
        self.out.push_str(if question {
            "?"
        } else if rng.chance(0.03) {
            "!"
        } else {
            "."
        });
        self.out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::turns;

    #[test]
    fn the_same_seed_writes_the_same_study() {
        let a = Plan::new(42, 30, 600, 3_000, 3);
        let b = Plan::new(42, 30, 600, 3_000, 3);
        assert_eq!(a.text(7), b.text(7));
        assert_eq!(a.codings(7, &a.text(7)), b.codings(7, &b.text(7)));
        assert_eq!(a.docs.iter().map(|d| d.codings).sum::<usize>(), 3_000);
        assert_eq!(a.codes.len(), 300);
        assert!(a.codes.iter().filter(|c| c.parent.is_none()).count() == 12);
        assert_ne!(a.text(7), Plan::new(43, 30, 600, 3_000, 3).text(7));
    }

    #[test]
    fn transcripts_split_into_the_intended_turns() {
        let plan = Plan::new(1, 40, 800, 0, 2);
        for i in 0..plan.docs.len() {
            let text = plan.text(i);
            assert_eq!(text, crate::domain::text::normalise(&text));
            let words = crate::domain::attribution::word_count(&text);
            assert!(words >= plan.docs[i].words, "{i}: {words}");
            let turns = turns::parse(&text);
            assert!(turns.len() > 4, "{i}: {} turns", turns.len());
            let mut labels: Vec<&str> = turns.iter().filter_map(|t| t.speaker.as_deref()).collect();
            labels.sort();
            labels.dedup();
            let expected: Vec<&str> = plan.docs[i]
                .speakers
                .iter()
                .map(|&p| plan.people[p].label.as_str())
                .collect();
            for l in &labels {
                assert!(
                    ["Interviewer", "Facilitator", "Unidentified Speaker"].contains(l)
                        || expected.contains(l),
                    "{i}: unexpected speaker {l:?}"
                );
            }
            assert!(turns.iter().all(|t| t.time_ms.is_some()));
        }
    }

    #[test]
    fn codings_fit_the_text_and_are_never_doubled() {
        let plan = Plan::new(5, 1, 20_000, 1_000, 3);
        let text = plan.text(0);
        let len = text.chars().count();
        let marks = plan.codings(0, &text);
        assert_eq!(marks.len(), 1_000);
        let mut keys = HashSet::new();
        for m in &marks {
            assert!(m.start < m.end && m.end <= len);
            assert!(keys.insert((m.code, m.coder, m.start, m.end)));
        }
    }
}
