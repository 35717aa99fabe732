//! The theme matrix: codes × columns (stakeholder groups, the values of an
//! attribute, or both combined), counted by docs/COUNTING.md's rules. The
//! store attributes each coding to participants (in SQL, kept in memory per
//! project); [`count`] counts those attributions, and the rest of this
//! module names the choices and assembles the table (column order, labels,
//! N, percentages) so the rules live in one tested place.

use super::ValidationError;
use serde::Serialize;
use std::collections::HashMap;

/// What the columns are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    Group,
    Attribute(String),
    GroupAndAttribute(String),
}

impl Columns {
    /// `group`, `attr:NAME`, or `group,attr:NAME`.
    pub fn parse(raw: &str) -> Result<Columns, ValidationError> {
        let raw = raw.trim();
        let attr = |s: &str| -> Result<String, ValidationError> {
            let name = s.trim();
            if name.is_empty() {
                Err(ValidationError::new(
                    "columns",
                    "name the attribute, e.g. columns=attr:locality",
                ))
            } else {
                Ok(name.to_owned())
            }
        };
        if raw.is_empty() || raw.eq_ignore_ascii_case("group") {
            return Ok(Columns::Group);
        }
        if let Some(name) = raw.strip_prefix("attr:") {
            return Ok(Columns::Attribute(attr(name)?));
        }
        if let Some(rest) = raw.strip_prefix("group,")
            && let Some(name) = rest.trim().strip_prefix("attr:")
        {
            return Ok(Columns::GroupAndAttribute(attr(name)?));
        }
        Err(ValidationError::new(
            "columns",
            format!("columns must be group, attr:NAME or group,attr:NAME (not “{raw}”)"),
        ))
    }

    pub fn by_group(&self) -> bool {
        matches!(self, Columns::Group | Columns::GroupAndAttribute(_))
    }

    pub fn attribute(&self) -> Option<&str> {
        match self {
            Columns::Group => None,
            Columns::Attribute(a) | Columns::GroupAndAttribute(a) => Some(a),
        }
    }

    pub fn as_param(&self) -> String {
        match self {
            Columns::Group => "group".into(),
            Columns::Attribute(a) => format!("attr:{a}"),
            Columns::GroupAndAttribute(a) => format!("group,attr:{a}"),
        }
    }
}

/// What a cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    References,
    Cases,
    CasesPct,
    Documents,
    Words,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::References,
        Measure::Cases,
        Measure::CasesPct,
        Measure::Documents,
        Measure::Words,
    ];

    pub fn parse(raw: &str) -> Result<Measure, ValidationError> {
        Measure::ALL
            .into_iter()
            .find(|m| m.as_str() == raw.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "measure",
                    format!("measure must be references, cases, cases_pct, documents or words (not “{}”)", raw.trim()),
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::References => "references",
            Measure::Cases => "cases",
            Measure::CasesPct => "cases_pct",
            Measure::Documents => "documents",
            Measure::Words => "words",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Measure::References => "References",
            Measure::Cases => "Cases",
            Measure::CasesPct => "Cases %",
            Measure::Documents => "Documents",
            Measure::Words => "Words",
        }
    }
}

/// Where an attributed coding falls: a participant's group and attribute
/// value (as the columns ask for them), or Unassigned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub unassigned: bool,
    /// `Some(None)`: a participant without a group.
    pub group: Option<Option<i64>>,
    /// `Some(None)`: a participant without this attribute.
    pub value: Option<Option<String>>,
}

/// The four counts of a cell (cases % is derived from cases and N).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub references: i64,
    pub cases: i64,
    pub documents: i64,
    pub words: i64,
}

/// One column of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// Stable within a request: the group name, the attribute value,
    /// `group|value`, or `Unassigned`.
    pub key: String,
    pub label: String,
    /// N: participants in the column who speak in the documents counted
    /// (`None` for Unassigned, which is no one).
    pub participants: Option<i64>,
    #[serde(skip)]
    pub slot: Slot,
    /// The group's id, if the column is (or includes) a group.
    pub group_id: Option<i64>,
    /// The attribute value, if the column is (or includes) one.
    pub value: Option<String>,
}

/// A stakeholder group as the matrix needs it.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub id: i64,
    pub name: String,
}

pub const UNASSIGNED: &str = "Unassigned";
pub const NO_GROUP: &str = "(no group)";
pub const NO_VALUE: &str = "(no value)";

/// The columns, in order: groups by their position (all of them, even
/// empty), values sorted, combinations of both; "(no group)" / "(no value)"
/// when participants without one appear; Unassigned last, when anything
/// was attributed to it.
pub fn columns(
    by: &Columns,
    groups: &[GroupInfo],
    n: &HashMap<Slot, i64>,
    seen: &[Slot],
) -> Vec<Column> {
    let mut slots: Vec<Slot> = Vec::new();
    let in_use = |s: &Slot| n.contains_key(s) || seen.contains(s);
    let mut values: Vec<Option<String>> = n
        .keys()
        .chain(seen.iter())
        .filter(|s| !s.unassigned)
        .filter_map(|s| s.value.clone())
        .collect();
    values.sort_by(|a, b| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => natural(x).cmp(&natural(y)),
    });
    values.dedup();
    let group_ids: Vec<Option<i64>> = groups
        .iter()
        .map(|g| Some(g.id))
        .chain(std::iter::once(None))
        .collect();
    match by {
        Columns::Group => {
            for g in &group_ids {
                let s = Slot {
                    unassigned: false,
                    group: Some(*g),
                    value: None,
                };
                if g.is_some() || in_use(&s) {
                    slots.push(s);
                }
            }
        }
        Columns::Attribute(_) => {
            for v in &values {
                slots.push(Slot {
                    unassigned: false,
                    group: None,
                    value: Some(v.clone()),
                });
            }
        }
        Columns::GroupAndAttribute(_) => {
            for g in &group_ids {
                for v in &values {
                    let s = Slot {
                        unassigned: false,
                        group: Some(*g),
                        value: Some(v.clone()),
                    };
                    if in_use(&s) {
                        slots.push(s);
                    }
                }
            }
        }
    }
    let unassigned = Slot {
        unassigned: true,
        group: by.by_group().then_some(None),
        value: by.attribute().map(|_| None),
    };
    if seen.contains(&unassigned) {
        slots.push(unassigned);
    }
    slots
        .into_iter()
        .map(|slot| {
            let group_name = |g: Option<i64>| match g {
                Some(id) => groups
                    .iter()
                    .find(|x| x.id == id)
                    .map_or_else(|| format!("group {id}"), |x| x.name.clone()),
                None => NO_GROUP.to_owned(),
            };
            let value_name = |v: &Option<String>| v.clone().unwrap_or_else(|| NO_VALUE.to_owned());
            let (key, label) = if slot.unassigned {
                (UNASSIGNED.to_owned(), UNASSIGNED.to_owned())
            } else {
                match (&slot.group, &slot.value) {
                    (Some(g), None) => (group_name(*g), group_name(*g)),
                    (None, Some(v)) => (value_name(v), value_name(v)),
                    (Some(g), Some(v)) => (
                        format!("{}|{}", group_name(*g), value_name(v)),
                        format!("{} · {}", group_name(*g), value_name(v)),
                    ),
                    (None, None) => (String::new(), String::new()),
                }
            };
            Column {
                key,
                label,
                participants: (!slot.unassigned).then(|| n.get(&slot).copied().unwrap_or(0)),
                group_id: slot.group.flatten(),
                value: slot.value.clone().flatten(),
                slot,
            }
        })
        .collect()
}

/// Sort "Wave 10" after "Wave 9": digits compare as numbers.
fn natural(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.extend(c.to_lowercase());
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// Cases % — cases ÷ N × 100 — the one place it is computed (`None` where
/// there is no N: Unassigned, or a column with nobody in it).
pub fn cases_pct(cases: i64, participants: Option<i64>) -> Option<f64> {
    participants
        .filter(|n| *n > 0)
        .map(|n| cases as f64 * 100.0 / n as f64)
}

/// A cell's value for a measure.
pub fn value(counts: Counts, measure: Measure, participants: Option<i64>) -> Option<f64> {
    Some(match measure {
        Measure::References => counts.references as f64,
        Measure::Cases => counts.cases as f64,
        Measure::Documents => counts.documents as f64,
        Measure::Words => counts.words as f64,
        Measure::CasesPct => return cases_pct(counts.cases, participants),
    })
}

/// One coding's share of one participant (or of no one: Unassigned), as
/// docs/COUNTING.md attributes it: interviewer turns left out, and the
/// Unassigned row only for a coding that reaches no participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributed {
    pub coding: i64,
    pub code: i64,
    pub coder: i64,
    /// `None`: Unassigned.
    pub participant: Option<i64>,
    pub words: i64,
}

/// What counting needs to know of a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub group: Option<i64>,
    /// The value of the columns' attribute.
    pub value: Option<String>,
    /// Passes the attribute filter (true when there is none).
    pub included: bool,
}

/// The counts of a matrix: per (code, slot) and per code in total.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub cells: HashMap<(i64, Slot), Counts>,
    pub totals: HashMap<i64, Counts>,
}

/// What to count.
pub struct Scope<'a> {
    pub columns: &'a Columns,
    /// Each live code's row codes: itself, and with roll-up its ancestors.
    /// Codings of codes not here (in the trash) are not counted.
    pub rows_of: &'a HashMap<i64, Vec<i64>>,
    pub people: &'a HashMap<i64, Person>,
    pub coder: Option<i64>,
    /// With an attribute filter, only included participants count and
    /// Unassigned drops out.
    pub filtered: bool,
}

/// Count attributions, document by document (`docs` yields each document's
/// id and its attributions, a coding's rows together): references are
/// distinct codings, cases distinct participants, documents distinct
/// documents, words summed — per cell and per code in total, each coding
/// counted once per cell however many of the cell's participants it
/// reaches.
pub fn count<'a>(
    docs: impl IntoIterator<Item = (i64, &'a [Attributed])>,
    scope: &Scope<'_>,
) -> Tally {
    let docs: Vec<&[Attributed]> = docs.into_iter().map(|(_, rows)| rows).collect();
    let numbering = Numbering::new(scope);
    // Documents are independent: count halves (or more) on their own
    // threads and add the counters up. Small matrices stay on one.
    let rows: usize = docs.iter().map(|d| d.len()).sum();
    let threads = if rows < 50_000 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let chunk = docs.len().div_ceil(threads).max(1);
    let mut parts = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .skip(1)
            .map(|part| {
                let numbering = &numbering;
                s.spawn(move || Counter::over(scope, numbering, part))
            })
            .collect();
        let first = Counter::over(scope, &numbering, docs.chunks(chunk).next().unwrap_or(&[]));
        let mut parts = vec![first];
        parts.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        parts
    });
    let mut total = parts.remove(0);
    for part in parts {
        total.add(part);
    }
    total.tally()
}

/// Integer ids looked up by offset in a vector when they are close
/// together (as a project's codes and participants are), else hashed.
enum IdIndex<T> {
    Dense { min: i64, slots: Vec<Option<T>> },
    Sparse(HashMap<i64, T>),
}

impl<T> IdIndex<T> {
    fn new(entries: Vec<(i64, T)>) -> IdIndex<T> {
        let (Some(min), Some(max)) = (
            entries.iter().map(|e| e.0).min(),
            entries.iter().map(|e| e.0).max(),
        ) else {
            return IdIndex::Sparse(HashMap::new());
        };
        let span = max.abs_diff(min);
        if span > 4 * entries.len() as u64 + 4096 {
            return IdIndex::Sparse(entries.into_iter().collect());
        }
        let mut slots: Vec<Option<T>> = (0..=span).map(|_| None).collect();
        for (id, v) in entries {
            slots[id.abs_diff(min) as usize] = Some(v);
        }
        IdIndex::Dense { min, slots }
    }

    fn get(&self, id: i64) -> Option<&T> {
        match self {
            IdIndex::Dense { min, slots } => {
                let at = usize::try_from(id.checked_sub(*min)?).ok()?;
                slots.get(at)?.as_ref()
            }
            IdIndex::Sparse(map) => map.get(&id),
        }
    }
}

/// Everything numbered densely, so that counting is array arithmetic, not
/// hashing: slots (columns), people, and the matrix's rows.
struct Numbering {
    slots: Vec<Slot>,
    unassigned: u32,
    /// A participant's number (for the cases bitsets) and slot (`None`:
    /// excluded by the attribute filter).
    people: IdIndex<(usize, Option<u32>)>,
    /// Each person's slot, by number.
    slot_of_person: Vec<Option<u32>>,
    /// A row's code.
    row_ids: Vec<i64>,
    /// A code's rows: itself and, rolled up, its ancestors.
    rows_of: IdIndex<Vec<usize>>,
}

impl Numbering {
    fn new(scope: &Scope<'_>) -> Numbering {
        let by_group = scope.columns.by_group();
        let by_value = scope.columns.attribute().is_some();
        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of: HashMap<(bool, Option<i64>, Option<String>), u32> = HashMap::new();
        let mut intern = |unassigned: bool, group: Option<i64>, value: Option<String>| -> u32 {
            // Only what the columns distinguish.
            let key = (
                unassigned,
                if by_group { group } else { None },
                if by_value { value } else { None },
            );
            if let Some(&i) = slot_of.get(&key) {
                return i;
            }
            let i = slots.len() as u32;
            slots.push(Slot {
                unassigned,
                group: by_group.then_some(if unassigned { None } else { key.1 }),
                value: by_value.then(|| if unassigned { None } else { key.2.clone() }),
            });
            slot_of.insert(key, i);
            i
        };
        let unassigned = intern(true, None, None);
        let mut people = Vec::with_capacity(scope.people.len());
        let mut slot_of_person = Vec::with_capacity(scope.people.len());
        for (n, (&id, person)) in scope.people.iter().enumerate() {
            let slot = person
                .included
                .then(|| intern(false, person.group, person.value.clone()));
            people.push((id, (n, slot)));
            slot_of_person.push(slot);
        }
        let mut row_ids: Vec<i64> = Vec::new();
        let mut row_of: HashMap<i64, usize> = HashMap::new();
        let mut rows_of = Vec::with_capacity(scope.rows_of.len());
        for (&code, rows) in scope.rows_of {
            let dense = rows
                .iter()
                .map(|r| {
                    *row_of.entry(*r).or_insert_with(|| {
                        row_ids.push(*r);
                        row_ids.len() - 1
                    })
                })
                .collect();
            rows_of.push((code, dense));
        }
        Numbering {
            slots,
            unassigned,
            people: IdIndex::new(people),
            slot_of_person,
            row_ids,
            rows_of: IdIndex::new(rows_of),
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Cell {
    references: i64,
    words: i64,
    documents: i64,
}

/// The count in progress.
struct Counter<'s> {
    scope: &'s Scope<'s>,
    n: &'s Numbering,
    n_slots: usize,
    words_per_set: usize,
    /// `row × slot`.
    cells: Vec<Cell>,
    totals: Vec<Cell>,
    /// Per row, a bitset of the people reached.
    cases: Vec<u64>,
    /// The current document's (row, slot) cells and rows.
    doc_cells: Vec<usize>,
    doc_rows: Vec<usize>,
    /// The slots the current coding reached (a coding counts once per cell).
    reached: Vec<u32>,
}

impl<'s> Counter<'s> {
    /// A counter of `docs` (each a document's attributions).
    fn over(scope: &'s Scope<'s>, n: &'s Numbering, docs: &[&[Attributed]]) -> Counter<'s> {
        let mut counter = Counter::new(scope, n);
        for rows in docs {
            counter.document(rows);
        }
        counter
    }

    fn new(scope: &'s Scope<'s>, n: &'s Numbering) -> Counter<'s> {
        let (n_slots, n_rows) = (n.slots.len(), n.row_ids.len());
        let words_per_set = scope.people.len().div_ceil(64);
        Counter {
            scope,
            n,
            n_slots,
            words_per_set,
            cells: vec![Cell::default(); n_rows * n_slots],
            totals: vec![Cell::default(); n_rows],
            cases: vec![0u64; n_rows * words_per_set],
            doc_cells: Vec::new(),
            doc_rows: Vec::new(),
            reached: Vec::with_capacity(4),
        }
    }

    /// One document's attributions, a coding's rows together.
    fn document(&mut self, rows: &[Attributed]) {
        self.doc_cells.clear();
        self.doc_rows.clear();
        let mut i = 0;
        while i < rows.len() {
            let coding = rows[i].coding;
            let mut j = i + 1;
            while j < rows.len() && rows[j].coding == coding {
                j += 1;
            }
            self.coding(&rows[i..j]);
            i = j;
        }
        self.doc_cells.sort_unstable();
        self.doc_cells.dedup();
        for &k in &self.doc_cells {
            self.cells[k].documents += 1;
        }
        self.doc_rows.sort_unstable();
        self.doc_rows.dedup();
        for &a in &self.doc_rows {
            self.totals[a].documents += 1;
        }
    }

    /// One coding: its rows (one per participant or Unassigned).
    fn coding(&mut self, group: &[Attributed]) {
        if self.scope.coder.is_some_and(|c| c != group[0].coder) {
            return;
        }
        let Some(code_rows) = self.n.rows_of.get(group[0].code) else {
            return;
        };
        let (n_slots, words_per_set) = (self.n_slots, self.words_per_set);
        self.reached.clear();
        let mut words = 0;
        for r in group {
            let slot = match r.participant {
                None if self.scope.filtered => continue,
                None => self.n.unassigned,
                Some(p) => {
                    let Some(&(n, Some(slot))) = self.n.people.get(p) else {
                        continue;
                    };
                    for &a in code_rows {
                        self.cases[a * words_per_set + n / 64] |= 1 << (n % 64);
                    }
                    slot
                }
            };
            words += r.words;
            for &a in code_rows {
                self.cells[a * n_slots + slot as usize].words += r.words;
            }
            if !self.reached.contains(&slot) {
                self.reached.push(slot);
            }
        }
        if self.reached.is_empty() {
            return;
        }
        for &a in code_rows {
            self.totals[a].references += 1;
            self.totals[a].words += words;
            self.doc_rows.push(a);
            for &slot in &self.reached {
                let k = a * n_slots + slot as usize;
                self.cells[k].references += 1;
                self.doc_cells.push(k);
            }
        }
    }

    /// The counts per cell and per code; cases from each row's people,
    /// per slot and in all.
    /// Add another counter's documents (disjoint from this one's).
    fn add(&mut self, other: Counter<'_>) {
        for (c, o) in self.cells.iter_mut().zip(&other.cells) {
            c.references += o.references;
            c.words += o.words;
            c.documents += o.documents;
        }
        for (c, o) in self.totals.iter_mut().zip(&other.totals) {
            c.references += o.references;
            c.words += o.words;
            c.documents += o.documents;
        }
        for (c, o) in self.cases.iter_mut().zip(&other.cases) {
            *c |= o;
        }
    }

    fn tally(self) -> Tally {
        let slot_of_person = &self.n.slot_of_person;
        let (n_slots, words_per_set) = (self.n_slots, self.words_per_set);
        let mut tally = Tally::default();
        for (a, &code) in self.n.row_ids.iter().enumerate() {
            let mut per_slot = vec![0i64; n_slots];
            let mut all = 0;
            for (w, &bits) in self.cases[a * words_per_set..(a + 1) * words_per_set]
                .iter()
                .enumerate()
            {
                let mut bits = bits;
                while bits != 0 {
                    let n = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    all += 1;
                    if let Some(slot) = slot_of_person[n] {
                        per_slot[slot as usize] += 1;
                    }
                }
            }
            for (slot, c) in self.cells[a * n_slots..(a + 1) * n_slots]
                .iter()
                .enumerate()
            {
                if c.references == 0 && c.words == 0 {
                    continue;
                }
                let counts = Counts {
                    references: c.references,
                    cases: per_slot[slot],
                    documents: c.documents,
                    words: c.words,
                };
                tally
                    .cells
                    .insert((code, self.n.slots[slot].clone()), counts);
            }
            let t = self.totals[a];
            if t.references > 0 {
                let counts = Counts {
                    references: t.references,
                    cases: all,
                    documents: t.documents,
                    words: t.words,
                };
                tally.totals.insert(code, counts);
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(coding: i64, code: i64, participant: Option<i64>, words: i64) -> Attributed {
        Attributed {
            coding,
            code,
            coder: 1,
            participant,
            words,
        }
    }

    fn person(group: i64, value: &str) -> Person {
        Person {
            group: Some(group),
            value: Some(value.into()),
            included: true,
        }
    }

    #[test]
    fn a_coding_counts_once_per_cell_and_once_in_the_total() {
        // Coding 1 reaches two staff (group 1) and a carer (group 3);
        // coding 2 reaches no one (Unassigned); coding 3 is in the trash.
        let doc = [
            row(1, 10, Some(100), 5),
            row(1, 10, Some(101), 7),
            row(1, 10, Some(300), 2),
            row(2, 10, None, 4),
            row(3, 99, Some(100), 9),
        ];
        let people = HashMap::from([
            (100, person(1, "North")),
            (101, person(1, "South")),
            (300, person(3, "North")),
        ]);
        let rows_of = HashMap::from([(10, vec![10, 1]), (1, vec![1])]);
        let by = Columns::Group;
        let scope = Scope {
            columns: &by,
            rows_of: &rows_of,
            people: &people,
            coder: None,
            filtered: false,
        };
        let t = count([(7, &doc[..])], &scope);
        let slot = |g: i64| Slot {
            unassigned: false,
            group: Some(Some(g)),
            value: None,
        };
        let unassigned = Slot {
            unassigned: true,
            group: Some(None),
            value: None,
        };
        let staff = t.cells[&(10, slot(1))];
        assert_eq!(
            (staff.references, staff.cases, staff.documents, staff.words),
            (1, 2, 1, 12)
        );
        assert_eq!(t.cells[&(10, slot(3))].references, 1);
        assert_eq!(t.cells[&(10, unassigned.clone())].references, 1);
        assert_eq!(t.cells[&(10, unassigned)].cases, 0);
        let total = t.totals[&10];
        assert_eq!(
            (total.references, total.cases, total.documents, total.words),
            (2, 3, 1, 18)
        );
        // Rolled up into the parent, the same numbers; the trashed code's
        // coding counts nowhere.
        assert_eq!(t.totals[&1], total);
        assert!(!t.totals.contains_key(&99));
    }

    #[test]
    fn counting_on_several_threads_adds_up_to_counting_on_one() {
        // Enough rows for the threaded path; people and codes with ids far
        // apart too, so both kinds of id index are used.
        let mut docs: Vec<(i64, Vec<Attributed>)> = Vec::new();
        let mut coding = 0;
        let mut rng = 7u64;
        let mut next = |n: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        let people_ids: Vec<i64> = (0..40)
            .map(|i| if i % 2 == 0 { i } else { i * 1_000_000 })
            .collect();
        for d in 0..300 {
            let mut rows = Vec::new();
            for _ in 0..250 {
                coding += 1;
                let code = [10, 11, 12, 5_000_000][next(4) as usize];
                for _ in 0..=next(2) {
                    let participant = (next(10) > 0).then(|| people_ids[next(40) as usize]);
                    rows.push(row(coding, code, participant, next(50) as i64 + 1));
                }
            }
            docs.push((d, rows));
        }
        let people: HashMap<i64, Person> = people_ids
            .iter()
            .map(|&p| (p, person(p % 3, if p % 5 == 0 { "North" } else { "South" })))
            .collect();
        let rows_of = HashMap::from([
            (10, vec![10, 1]),
            (11, vec![11, 1]),
            (12, vec![12]),
            (5_000_000, vec![5_000_000]),
        ]);
        let by = Columns::GroupAndAttribute("locality".into());
        let scope = Scope {
            columns: &by,
            rows_of: &rows_of,
            people: &people,
            coder: None,
            filtered: false,
        };
        let threaded = count(docs.iter().map(|(d, r)| (*d, r.as_slice())), &scope);
        let numbering = Numbering::new(&scope);
        let slices: Vec<&[Attributed]> = docs.iter().map(|(_, r)| r.as_slice()).collect();
        let single = Counter::over(&scope, &numbering, &slices).tally();
        assert!(threaded.totals[&1].references > 0);
        assert_eq!(threaded, single);
        // Each half alone, added up by hand, gives the same again.
        let (a, b) = slices.split_at(slices.len() / 3);
        let mut first = Counter::over(&scope, &numbering, a);
        first.add(Counter::over(&scope, &numbering, b));
        assert_eq!(first.tally(), single);
    }

    #[test]
    fn filters_drop_other_coders_and_excluded_people_and_unassigned() {
        let mut other = row(2, 10, Some(101), 3);
        other.coder = 2;
        let doc = [
            row(1, 10, Some(100), 5),
            row(1, 10, Some(101), 1),
            other,
            row(3, 10, None, 4),
        ];
        let mut people = HashMap::from([(100, person(1, "North")), (101, person(2, "South"))]);
        people.get_mut(&101).unwrap().included = false;
        let rows_of = HashMap::from([(10, vec![10])]);
        let by = Columns::Attribute("locality".into());
        let scope = Scope {
            columns: &by,
            rows_of: &rows_of,
            people: &people,
            coder: Some(1),
            filtered: true,
        };
        let t = count([(7, &doc[..])], &scope);
        assert_eq!(t.cells.len(), 1, "{:?}", t.cells);
        let north = Slot {
            unassigned: false,
            group: None,
            value: Some(Some("North".into())),
        };
        assert_eq!(t.cells[&(10, north)].words, 5);
        assert_eq!(t.totals[&10].references, 1);
        assert_eq!(t.totals[&10].cases, 1);
    }

    #[test]
    fn columns_parameters_parse() {
        assert_eq!(Columns::parse("group").unwrap(), Columns::Group);
        assert_eq!(Columns::parse("").unwrap(), Columns::Group);
        assert_eq!(
            Columns::parse("attr:locality").unwrap(),
            Columns::Attribute("locality".into())
        );
        assert_eq!(
            Columns::parse("group,attr:locality").unwrap(),
            Columns::GroupAndAttribute("locality".into())
        );
        assert!(Columns::parse("attr:").is_err());
        assert!(Columns::parse("locality").is_err());
        for c in [
            Columns::Group,
            Columns::Attribute("a b".into()),
            Columns::GroupAndAttribute("x".into()),
        ] {
            assert_eq!(Columns::parse(&c.as_param()).unwrap(), c);
        }
    }

    #[test]
    fn measures_parse() {
        for m in Measure::ALL {
            assert_eq!(Measure::parse(m.as_str()).unwrap(), m);
        }
        assert!(Measure::parse("percent").is_err());
    }

    fn groups() -> Vec<GroupInfo> {
        vec![
            GroupInfo {
                id: 1,
                name: "Staff".into(),
            },
            GroupInfo {
                id: 2,
                name: "Service user".into(),
            },
            GroupInfo {
                id: 3,
                name: "Carer".into(),
            },
        ]
    }

    #[test]
    fn group_columns_keep_every_group_and_add_unassigned_when_used() {
        let slot = |g: Option<i64>| Slot {
            unassigned: false,
            group: Some(g),
            value: None,
        };
        let n = HashMap::from([(slot(Some(1)), 4), (slot(Some(3)), 2)]);
        let un = Slot {
            unassigned: true,
            group: Some(None),
            value: None,
        };
        let cols = columns(&Columns::Group, &groups(), &n, std::slice::from_ref(&un));
        let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["Staff", "Service user", "Carer", "Unassigned"]);
        assert_eq!(cols[0].participants, Some(4));
        assert_eq!(cols[1].participants, Some(0));
        assert_eq!(cols[3].participants, None);
        let cols = columns(&Columns::Group, &groups(), &n, &[]);
        assert_eq!(
            cols.len(),
            3,
            "no Unassigned column when nothing was unassigned"
        );
        let n = HashMap::from([(slot(None), 1)]);
        let cols = columns(&Columns::Group, &groups(), &n, &[]);
        assert_eq!(cols.last().unwrap().key, NO_GROUP);
    }

    #[test]
    fn attribute_columns_sort_values_naturally_and_pair_with_groups() {
        let slot = |g: Option<Option<i64>>, v: Option<&str>| Slot {
            unassigned: false,
            group: g,
            value: Some(v.map(str::to_owned)),
        };
        let n = HashMap::from([
            (slot(None, Some("Wave 10")), 1),
            (slot(None, Some("Wave 9")), 2),
            (slot(None, None), 1),
        ]);
        let cols = columns(&Columns::Attribute("wave".into()), &groups(), &n, &[]);
        let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["Wave 9", "Wave 10", NO_VALUE]);

        let n = HashMap::from([
            (slot(Some(Some(1)), Some("North")), 2),
            (slot(Some(Some(3)), Some("South")), 1),
        ]);
        let seen = [slot(Some(Some(2)), Some("North"))];
        let cols = columns(
            &Columns::GroupAndAttribute("locality".into()),
            &groups(),
            &n,
            &seen,
        );
        let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["Staff|North", "Service user|North", "Carer|South"]);
        assert_eq!(cols[0].label, "Staff · North");
        assert_eq!(cols[1].participants, Some(0));
    }

    #[test]
    fn cases_percent_needs_a_population() {
        let c = Counts {
            references: 9,
            cases: 7,
            documents: 5,
            words: 120,
        };
        assert_eq!(value(c, Measure::References, Some(12)), Some(9.0));
        let pct = value(c, Measure::CasesPct, Some(12)).unwrap();
        assert!((pct - 58.333).abs() < 0.001);
        assert_eq!(value(c, Measure::CasesPct, None), None);
        assert_eq!(value(c, Measure::CasesPct, Some(0)), None);
        assert_eq!(value(c, Measure::Words, None), Some(120.0));
    }
}
