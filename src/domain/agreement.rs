//! Intercoder agreement: how far coders who coded the same documents agree,
//! as a reviewer asks for it — percent agreement, Cohen's κ for each pair of
//! coders and Krippendorff's α (nominal) for any number, per code and pooled
//! over codes, with bootstrap confidence intervals that resample documents.
//!
//! The decisions are binary: for each unit (a character, a word or a
//! participant's turn, see [`Unit`]) and code, each coder applied the code or
//! did not. Units are counted by interval arithmetic over each coder's
//! codings, never one by one, so a million-word corpus costs what its
//! codings cost. Everything that a statistic needs from a document is a
//! [`Tally`], and tallies add: a pooled figure or a bootstrap resample is a
//! sum of tallies.

use serde::{Deserialize, Serialize};

/// What one decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Every code point of the text.
    Character,
    /// Every word: a run of non-space characters with a letter or digit.
    Word,
    /// Every turn of a speaker who is not an interviewer.
    Turn,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Character, Unit::Word, Unit::Turn];

    pub fn parse(raw: &str) -> Option<Unit> {
        match raw {
            "character" => Some(Unit::Character),
            "word" => Some(Unit::Word),
            "turn" => Some(Unit::Turn),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Character => "character",
            Unit::Word => "word",
            Unit::Turn => "turn",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Unit::Character => "characters",
            Unit::Word => "words",
            Unit::Turn => "turns",
        }
    }
}

/// The most coders one report compares (45 pairs).
pub const MAX_CODERS: usize = 10;

/// The units of one document: code-point ranges, sorted and not
/// overlapping. Characters are not listed one by one: unit `i` is the
/// character at `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Units {
    Characters(usize),
    Spans(Vec<(usize, usize)>),
}

impl Units {
    pub fn len(&self) -> usize {
        match self {
            Units::Characters(n) => *n,
            Units::Spans(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The units `[first, last)` that the code-point range `[start, end)`
    /// touches by at least one character (empty when it touches none).
    pub fn touched(&self, start: usize, end: usize) -> (usize, usize) {
        match self {
            Units::Characters(n) => (start.min(*n), end.min(*n)),
            Units::Spans(spans) => {
                let first = spans.partition_point(|&(_, e)| e <= start);
                let last = spans.partition_point(|&(s, _)| s < end);
                (first, last.max(first))
            }
        }
    }
}

/// The words of a text as code-point ranges: maximal runs of non-white-space
/// characters that hold a letter or a digit (as counted everywhere else,
/// [`super::attribution::word_count`]).
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut wordy = false;
    let mut i = 0;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if let Some(s) = start.take()
                && wordy
            {
                out.push((s, i));
            }
        } else {
            if start.is_none() {
                start = Some(i);
                wordy = false;
            }
            wordy |= ch.is_alphanumeric();
        }
        i += 1;
    }
    if let Some(s) = start
        && wordy
    {
        out.push((s, i));
    }
    out
}

/// Two coders' decisions over some units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub both: u64,
    pub only_a: u64,
    pub only_b: u64,
    pub neither: u64,
}

impl Pair {
    pub fn units(&self) -> u64 {
        self.both + self.only_a + self.only_b + self.neither
    }

    fn add(&mut self, other: &Pair, times: u64) {
        self.both += other.both * times;
        self.only_a += other.only_a * times;
        self.only_b += other.only_b * times;
        self.neither += other.neither * times;
    }

    /// Cohen's κ = (p_o − p_e) / (1 − p_e), p_e from each coder's own rate;
    /// `None` when 1 − p_e is 0 (both coders made one and the same decision
    /// throughout) or there are no units.
    pub fn kappa(&self) -> Option<f64> {
        let n = self.units() as f64;
        if n == 0.0 {
            return None;
        }
        let p_o = (self.both + self.neither) as f64 / n;
        let a = (self.both + self.only_a) as f64 / n;
        let b = (self.both + self.only_b) as f64 / n;
        let p_e = a * b + (1.0 - a) * (1.0 - b);
        let room = 1.0 - p_e;
        // Exact zero only: with integer counts, 1 − p_e is either 0 or at
        // least 1/n², far above rounding error.
        if room.abs() < 1e-15 {
            return None;
        }
        Some((p_o - p_e) / room)
    }
}

/// Everything the statistics need from some units, for `m` coders: how many
/// units, how many of them exactly `k` coders applied the code to
/// (`applied[k]`, `k` = 0..=m), and each pair's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub applied: Vec<u64>,
    /// In the order of [`pairs`].
    pub pairs: Vec<Pair>,
}

/// The pairs of `m` coders, `(i, j)` with `i < j`, in order.
pub fn pairs(m: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..m).flat_map(move |i| (i + 1..m).map(move |j| (i, j)))
}

impl Tally {
    pub fn empty(coders: usize) -> Tally {
        Tally {
            applied: vec![0; coders + 1],
            pairs: vec![Pair::default(); coders * coders.saturating_sub(1) / 2],
        }
    }

    pub fn coders(&self) -> usize {
        self.applied.len() - 1
    }

    pub fn units(&self) -> u64 {
        self.applied.iter().sum()
    }

    /// Add `times` copies of `other` (a bootstrap draws a document more
    /// than once).
    pub fn add(&mut self, other: &Tally, times: u64) {
        for (a, b) in self.applied.iter_mut().zip(&other.applied) {
            *a += b * times;
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            a.add(b, times);
        }
    }

    /// Units on which every coder made the same decision, in percent.
    pub fn percent(&self) -> Option<f64> {
        let n = self.units();
        if n == 0 {
            return None;
        }
        let m = self.coders();
        let same = self.applied[0] + self.applied[m];
        Some(100.0 * same as f64 / n as f64)
    }

    /// Krippendorff's α for nominal data, every coder deciding every unit:
    /// α = 1 − (n − 1)·o₀₁ / (n₀·n₁), with o₀₁ the coincidences of "applied"
    /// with "not applied" and n₀, n₁ the pairable values of each kind.
    /// `None` when the expected disagreement is 0 (one value throughout) or
    /// there are fewer than two coders.
    pub fn alpha(&self) -> Option<f64> {
        let m = self.coders();
        if m < 2 {
            return None;
        }
        let mf = m as f64;
        let (mut o01, mut n1) = (0.0, 0.0);
        for (k, &units) in self.applied.iter().enumerate() {
            let (k, units) = (k as f64, units as f64);
            o01 += units * k * (mf - k) / (mf - 1.0);
            n1 += units * k;
        }
        let n = self.units() as f64 * mf;
        let n0 = n - n1;
        if n0 == 0.0 || n1 == 0.0 {
            return None;
        }
        Some(1.0 - (n - 1.0) * o01 / (n0 * n1))
    }
}

/// What each of `coders` coded in one document, for one code: code-point
/// ranges, in any order, overlapping or not.
pub fn tally(units: &Units, coded: &[Vec<(usize, usize)>]) -> Tally {
    let m = coded.len();
    debug_assert!(m <= MAX_CODERS);
    // +1 at a touched range's first unit, −1 past its last, per coder.
    let mut events: Vec<(usize, usize, i32)> = Vec::new();
    for (coder, ranges) in coded.iter().enumerate() {
        for &(start, end) in ranges {
            let (first, last) = units.touched(start, end);
            if first < last {
                events.push((first, coder, 1));
                events.push((last, coder, -1));
            }
        }
    }
    events.sort_unstable();
    let mut tally = Tally::empty(m);
    let mut depth = vec![0i32; m];
    let mut at = 0usize;
    let mut covered = 0u64;
    let mut i = 0;
    while i < events.len() {
        let pos = events[i].0;
        if pos > at {
            let mask: u32 = (0..m)
                .filter(|&c| depth[c] > 0)
                .fold(0, |mask, c| mask | 1 << c);
            if mask != 0 {
                let len = (pos - at) as u64;
                covered += len;
                tally.count(mask, len);
            }
            at = pos;
        }
        while i < events.len() && events[i].0 == pos {
            depth[events[i].1] += events[i].2;
            i += 1;
        }
    }
    let rest = units.len() as u64 - covered;
    tally.applied[0] += rest;
    for pair in &mut tally.pairs {
        pair.neither += rest;
    }
    tally
}

impl Tally {
    /// `len` units on which exactly the coders in `mask` applied the code.
    fn count(&mut self, mask: u32, len: u64) {
        self.applied[mask.count_ones() as usize] += len;
        let m = self.coders();
        for (pair, (a, b)) in self.pairs.iter_mut().zip(pairs(m)) {
            match (mask >> a & 1 == 1, mask >> b & 1 == 1) {
                (true, true) => pair.both += len,
                (true, false) => pair.only_a += len,
                (false, true) => pair.only_b += len,
                (false, false) => pair.neither += len,
            }
        }
    }
}

/// A statistic with its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
}

/// The figures for one code, or pooled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub units: u64,
    pub percent: Option<f64>,
    /// Krippendorff's α over all coders.
    pub alpha: Estimate,
    /// Each pair's table and κ, in the order of [`pairs`]; with two coders,
    /// the one pair.
    pub pairs: Vec<PairFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairFigures {
    pub a: usize,
    pub b: usize,
    pub table: Pair,
    pub kappa: Estimate,
}

/// Figures from a tally, with intervals from `draws` (the same tally summed
/// over each bootstrap resample of documents).
pub fn figures(total: &Tally, draws: &[Tally]) -> Figures {
    let m = total.coders();
    let pairs = pairs(m)
        .enumerate()
        .map(|(p, (a, b))| PairFigures {
            a,
            b,
            table: total.pairs[p],
            kappa: Estimate {
                value: total.pairs[p].kappa(),
                ci: interval(draws.iter().filter_map(|d| d.pairs[p].kappa())),
            },
        })
        .collect();
    Figures {
        units: total.units(),
        percent: total.percent(),
        alpha: Estimate {
            value: total.alpha(),
            ci: interval(draws.iter().filter_map(Tally::alpha)),
        },
        pairs,
    }
}

/// The 2.5th and 97.5th percentiles (linear between order statistics, as
/// numpy's default), or `None` without values.
pub fn interval(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    Some((quantile(&v, 0.025), quantile(&v, 0.975)))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Bootstrap resamples of `documents` documents: how often each is drawn
/// in each resample (`documents` draws with replacement, per resample).
/// The same `seed` gives the same resamples.
pub fn resamples(documents: usize, count: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = SplitMix64(seed);
    (0..count)
        .map(|_| {
            let mut times = vec![0u32; documents];
            for _ in 0..documents {
                times[rng.below(documents as u64) as usize] += 1;
            }
            times
        })
        .collect()
}

/// Sum `per_document` tallies over each resample.
pub fn draw(per_document: &[Tally], resamples: &[Vec<u32>], coders: usize) -> Vec<Tally> {
    resamples
        .iter()
        .map(|times| {
            let mut sum = Tally::empty(coders);
            for (tally, &t) in per_document.iter().zip(times) {
                if t > 0 {
                    sum.add(tally, u64::from(t));
                }
            }
            sum
        })
        .collect()
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast generator whose
/// stream is fixed by its seed, so a reported interval can be reproduced
/// exactly. Statistical quality is ample for resampling; nothing secret
/// depends on it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift, with rejection).
    fn below(&mut self, n: u64) -> u64 {
        loop {
            let m = u128::from(self.next()) * u128::from(n);
            if (m as u64) >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }
}

/// Code-point ranges `[start, end)`.
pub type Ranges = Vec<(usize, usize)>;

/// The union of ranges as sorted, disjoint ranges (touching ones joined):
/// the characters a coder applied a code to.
pub fn coverage(ranges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut sorted: Vec<(usize, usize)> = ranges.iter().copied().filter(|(s, e)| s < e).collect();
    sorted.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(sorted.len());
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// A stretch of text where two coders' codings of one code meet: a maximal
/// run of codings (of either coder) linked by sharing a character. It is a
/// disagreement unless both coders covered exactly the same characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stretch {
    pub start: usize,
    pub end: usize,
    /// What each coder covered inside it ([`coverage`]).
    pub a: Vec<(usize, usize)>,
    pub b: Vec<(usize, usize)>,
}

impl Stretch {
    pub fn agreed(&self) -> bool {
        self.a == self.b
    }

    /// What a decision keeps of it.
    pub fn keep(&self, decision: Decision) -> Vec<(usize, usize)> {
        match decision {
            Decision::KeepA | Decision::Agreed => self.a.clone(),
            Decision::KeepB => self.b.clone(),
            Decision::KeepBoth => coverage(&[self.a.clone(), self.b.clone()].concat()),
            Decision::Drop => Vec::new(),
        }
    }
}

/// The stretches of two coders' codings of one code in one document, in
/// text order.
pub fn stretches(a: &[(usize, usize)], b: &[(usize, usize)]) -> Vec<Stretch> {
    let mut all: Vec<(usize, usize, bool)> = a
        .iter()
        .map(|&(s, e)| (s, e, true))
        .chain(b.iter().map(|&(s, e)| (s, e, false)))
        .filter(|(s, e, _)| s < e)
        .collect();
    all.sort_unstable();
    let mut out: Vec<Stretch> = Vec::new();
    let mut current: Option<(usize, usize, [Ranges; 2])> = None;
    for (s, e, is_a) in all {
        let cur = match current.as_mut() {
            Some(cur) if s < cur.1 => cur,
            _ => {
                out.extend(current.take().map(finish));
                current.insert((s, e, [Vec::new(), Vec::new()]))
            }
        };
        cur.1 = cur.1.max(e);
        cur.2[usize::from(!is_a)].push((s, e));
    }
    out.extend(current.map(finish));
    out
}

fn finish((start, end, [a, b]): (usize, usize, [Ranges; 2])) -> Stretch {
    Stretch {
        start,
        end,
        a: coverage(&a),
        b: coverage(&b),
    }
}

/// Who coded a piece of text, for showing two coders side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    OnlyA,
    OnlyB,
    Both,
}

/// The text split where either coder's coverage starts or stops: pieces
/// `[start, end)` coded by A only, B only or both (uncoded text is left out).
pub fn sides(a: &[(usize, usize)], b: &[(usize, usize)]) -> Vec<(usize, usize, Side)> {
    let (a, b) = (coverage(a), coverage(b));
    let mut cuts: Vec<usize> = a.iter().chain(&b).flat_map(|&(s, e)| [s, e]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let inside = |set: &[(usize, usize)], at: usize| {
        let i = set.partition_point(|&(_, e)| e <= at);
        i < set.len() && set[i].0 <= at
    };
    let mut out: Vec<(usize, usize, Side)> = Vec::new();
    for w in cuts.windows(2) {
        let side = match (inside(&a, w[0]), inside(&b, w[0])) {
            (true, true) => Side::Both,
            (true, false) => Side::OnlyA,
            (false, true) => Side::OnlyB,
            (false, false) => continue,
        };
        match out.last_mut() {
            Some(last) if last.1 == w[0] && last.2 == side => last.1 = w[1],
            _ => out.push((w[0], w[1], side)),
        }
    }
    out
}

/// How an adjudicator settles a stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    KeepA,
    KeepB,
    KeepBoth,
    Drop,
    /// Both coders coded it alike: the consensus takes it as it is.
    Agreed,
}

impl Decision {
    pub fn parse(raw: &str) -> Option<Decision> {
        match raw {
            "keep_a" => Some(Decision::KeepA),
            "keep_b" => Some(Decision::KeepB),
            "keep_both" => Some(Decision::KeepBoth),
            "drop" => Some(Decision::Drop),
            "agreed" => Some(Decision::Agreed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::KeepA => "keep_a",
            Decision::KeepB => "keep_b",
            Decision::KeepBoth => "keep_both",
            Decision::Drop => "drop",
            Decision::Agreed => "agreed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tally of 0/1 vectors, one per coder, unit by unit.
    fn naive(vectors: &[Vec<u8>]) -> Tally {
        let m = vectors.len();
        let mut t = Tally::empty(m);
        let units = vectors[0].len();
        for u in 0..units {
            let mask = vectors
                .iter()
                .enumerate()
                .filter(|(_, v)| v[u] == 1)
                .fold(0u32, |mask, (c, _)| mask | 1 << c);
            t.count(mask, 1);
        }
        t
    }

    /// Runs of 1s as character ranges.
    fn runs(v: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, &x) in v.iter().chain([0].iter()).enumerate() {
            match (x, start) {
                (1, None) => start = Some(i),
                (0, Some(s)) => {
                    out.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// scikit-learn's `cohen_kappa_score` and the `krippendorff` package on
    /// the same vectors (scripts/reference/agreement.py made the fixture).
    #[test]
    fn figures_equal_the_reference_implementations() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/agreement/vectors.json"))
                .unwrap();
        let cases = fixture["cases"].as_array().unwrap();
        assert!(cases.len() >= 20);
        let close = |got: Option<f64>, want: &serde_json::Value, what: &str| match want.as_f64() {
            Some(want) => {
                let got = got.unwrap_or_else(|| panic!("{what}: got null, want {want}"));
                assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
            }
            None => assert_eq!(got, None, "{what}: want null"),
        };
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let vectors: Vec<Vec<u8>> = serde_json::from_value(case["coders"].clone()).unwrap();
            let coded: Vec<_> = vectors.iter().map(|v| runs(v)).collect();
            let t = tally(&Units::Characters(vectors[0].len()), &coded);
            assert_eq!(t, naive(&vectors), "{name}");
            let f = figures(&t, &[]);
            close(f.alpha.value, &case["alpha"], &format!("{name} alpha"));
            for (want, got) in case["pairs"].as_array().unwrap().iter().zip(&f.pairs) {
                assert_eq!(want["a"].as_u64(), Some(got.a as u64));
                assert_eq!(want["b"].as_u64(), Some(got.b as u64));
                close(got.kappa.value, &want["kappa"], &format!("{name} kappa"));
            }
        }
    }

    #[test]
    fn words_are_runs_with_a_letter_or_digit() {
        let text = "Well — I said “no”, 🙂 naïve 42";
        let spans = words(text);
        let got: Vec<String> = spans
            .iter()
            .map(|&(s, e)| text.chars().skip(s).take(e - s).collect())
            .collect();
        assert_eq!(got, ["Well", "I", "said", "“no”,", "naïve", "42"]);
        assert_eq!(
            spans.len(),
            crate::domain::attribution::word_count(text),
            "the same words as counting uses"
        );
    }

    #[test]
    fn a_range_touches_the_units_it_overlaps_by_one_character() {
        let units = Units::Spans(vec![(0, 4), (5, 9), (10, 14)]);
        assert_eq!(units.touched(3, 6), (0, 2));
        assert_eq!(units.touched(4, 5), (1, 1), "the gap between words");
        assert_eq!(units.touched(9, 10), (2, 2));
        assert_eq!(units.touched(0, 14), (0, 3));
        assert_eq!(units.touched(13, 20), (2, 3));
        assert_eq!(Units::Characters(10).touched(8, 12), (8, 10));
    }

    #[test]
    fn interval_arithmetic_equals_counting_unit_by_unit() {
        let a = [0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1];
        let b = [0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1];
        let c = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1];
        let vectors = vec![a.to_vec(), b.to_vec(), c.to_vec()];
        let coded: Vec<_> = vectors.iter().map(|v| runs(v)).collect();
        assert_eq!(tally(&Units::Characters(12), &coded), naive(&vectors));
    }

    #[test]
    fn overlapping_codings_of_one_coder_count_a_unit_once() {
        let coded = vec![vec![(0, 6), (2, 4), (5, 8)], vec![(1, 3)]];
        let t = tally(&Units::Characters(10), &coded);
        assert_eq!(
            t.pairs[0],
            Pair {
                both: 2,
                only_a: 6,
                only_b: 0,
                neither: 2
            }
        );
        assert_eq!(t.applied, vec![2, 6, 2]);
    }

    #[test]
    fn kappa_and_alpha_of_textbook_tables() {
        // Perfect agreement with both values present.
        let perfect = Pair {
            both: 5,
            only_a: 0,
            only_b: 0,
            neither: 5,
        };
        assert_eq!(perfect.kappa(), Some(1.0));
        // Nothing coded by anyone: no κ.
        let nothing = Pair {
            neither: 7,
            ..Pair::default()
        };
        assert_eq!(nothing.kappa(), None);
        let t = Tally {
            applied: vec![7, 0, 0],
            pairs: vec![nothing],
        };
        assert_eq!(t.alpha(), None);
        assert_eq!(t.percent(), Some(100.0));
        // Cohen (1960)-style: 20 both, 5 + 10 disagreements, 15 neither.
        let p = Pair {
            both: 20,
            only_a: 5,
            only_b: 10,
            neither: 15,
        };
        let k = p.kappa().unwrap();
        assert!((k - 0.4).abs() < 1e-12, "{k}");
    }

    #[test]
    fn the_same_seed_gives_the_same_resamples() {
        let a = resamples(7, 50, 42);
        assert_eq!(a, resamples(7, 50, 42));
        assert_ne!(a, resamples(7, 50, 43));
        assert!(a.iter().all(|r| r.iter().sum::<u32>() == 7));
        // Each document is drawn about as often as any other.
        let mut drawn = vec![0u32; 7];
        for r in resamples(7, 2000, 1) {
            for (d, t) in r.iter().enumerate() {
                drawn[d] += t;
            }
        }
        assert!(
            drawn.iter().all(|&n| (1800..2200).contains(&n)),
            "{drawn:?}"
        );
    }

    #[test]
    fn stretches_link_codings_that_share_a_character() {
        // A: two touching codings; B: one over both, then a lone B coding.
        let a = [(0, 5), (5, 9), (20, 25)];
        let b = [(0, 9), (9, 12), (30, 31)];
        let got = stretches(&a, &b);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!((got[0].start, got[0].end), (0, 9));
        assert!(got[0].agreed(), "same characters, differently cut");
        assert_eq!(
            (got[1].start, got[1].end),
            (9, 12),
            "touching is not sharing"
        );
        assert_eq!(got[1].a, vec![]);
        assert_eq!(got[2].b, vec![]);
        assert!(!got[3].agreed());
        // Nested: B inside A.
        let nested = stretches(&[(0, 20)], &[(5, 8)]);
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].keep(Decision::KeepB), vec![(5, 8)]);
        assert_eq!(nested[0].keep(Decision::KeepBoth), vec![(0, 20)]);
        assert_eq!(nested[0].keep(Decision::Drop), vec![]);
    }

    #[test]
    fn sides_split_the_text_where_coverage_changes() {
        let got = sides(&[(0, 10)], &[(5, 15), (20, 22)]);
        assert_eq!(
            got,
            vec![
                (0, 5, Side::OnlyA),
                (5, 10, Side::Both),
                (10, 15, Side::OnlyB),
                (20, 22, Side::OnlyB)
            ]
        );
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v: Vec<f64> = (0..=10).map(f64::from).collect();
        assert_eq!(interval(v.into_iter()), Some((0.25, 9.75)));
        assert_eq!(interval(std::iter::empty()), None);
    }
}
