//! Search across a project's transcripts, and "code all hits".
//!
//! A search reads the documents in scope and finds, in Rust, where the
//! query occurs — by word stems from PostgreSQL's text search (`english`),
//! or as an exact phrase — so every hit is a range in code points, exact as
//! the coding page's. By default only participants' speech is searched:
//! not interviewers, not speakers mapped to no one, not speaker labels or
//! headings. "Code all hits" applies a code at the extent of each hit (the
//! match, its sentence or its turn), previewed first (`dry_run`), written
//! as one batch that is undone as one action.

use super::analysis::matrix::document_ids;
use super::{Access, Error, Result};
use crate::domain::attribution;
use crate::domain::ids::{CodeId, CodingId, DocumentId, GroupId};
use crate::domain::project::Role;
use crate::domain::search::{self, Word};
use crate::store::codings::NewCoding;
use crate::store::search::{NewBatch, SpokenTurn, Text};
use crate::store::{self};
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

/// The longest query taken.
pub const MAX_QUERY: usize = 200;
/// The most codings one "code all hits" writes.
pub const MAX_BATCH: usize = 5_000;
/// Characters of context each side of a hit.
const CONTEXT: usize = 70;

/// A search as links and forms write it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    /// The phrase as typed (ignoring case), instead of by word stems.
    #[serde(default, deserialize_with = "super::flag")]
    pub exact: bool,
    /// Document ids, comma separated.
    pub documents: Option<String>,
    /// A stakeholder group's id or name.
    pub group: Option<String>,
    /// `participants` (default) or `all` (interviewers, unmapped speakers
    /// and text outside turns too).
    pub speakers: Option<String>,
}

/// Whose speech is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speakers {
    Participants,
    All,
}

/// A search, checked.
#[derive(Debug, Clone)]
pub struct Search {
    pub q: String,
    pub exact: bool,
    pub documents: Option<Vec<DocumentId>>,
    pub group: Option<(GroupId, String)>,
    pub speakers: Speakers,
}

/// One hit, with its keyword in context and who said it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub document_id: DocumentId,
    pub document_title: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub before: String,
    pub after: String,
    /// The turn's speaker label, its number and time mark.
    pub speaker: Option<String>,
    pub turn: Option<i32>,
    pub participant: Option<String>,
    pub group: Option<String>,
}

/// A page of hits and how many there are in all.
#[derive(Debug, Clone)]
pub struct Found {
    pub search: Search,
    pub items: Vec<Hit>,
    pub total: usize,
    pub documents: usize,
}

/// Check a search: a query of at most [`MAX_QUERY`] characters with a word
/// in it, known documents and group.
pub async fn check(db: &PgPool, access: &Access, query: &SearchQuery) -> Result<Search> {
    let q = query.q.trim();
    if q.is_empty() {
        return Err(Error::invalid("q", "type a word or phrase to search for"));
    }
    if q.chars().count() > MAX_QUERY {
        return Err(Error::invalid(
            "q",
            format!("a search is at most {MAX_QUERY} characters"),
        ));
    }
    if !q.chars().any(char::is_alphanumeric) {
        return Err(Error::invalid("q", "a search needs a letter or a digit"));
    }
    let speakers = match query.speakers.as_deref().map(str::trim) {
        None | Some("") | Some("participants") => Speakers::Participants,
        Some("all") => Speakers::All,
        Some(other) => {
            return Err(Error::invalid(
                "speakers",
                format!("speakers is participants or all, not “{other}”"),
            ));
        }
    };
    let documents = document_ids(query.documents.as_deref())?;
    if let Some(ds) = &documents {
        let known = store::documents::existing(db, access.id(), ds).await?;
        if let Some(missing) = ds.iter().find(|d| !known.contains(d)) {
            return Err(Error::invalid(
                "documents",
                format!("document {missing} is not in this project"),
            ));
        }
    }
    let group = match query
        .group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => None,
        Some(g) => {
            let groups = store::groups::list(db, access.id()).await?;
            let found = groups
                .into_iter()
                .find(|x| x.id.to_string() == g || x.name.to_lowercase() == g.to_lowercase());
            match found {
                Some(x) => Some((x.id, x.name)),
                None => {
                    return Err(Error::invalid(
                        "group",
                        format!("this project has no stakeholder group “{g}”"),
                    ));
                }
            }
        }
    };
    Ok(Search {
        q: q.to_owned(),
        exact: query.exact,
        documents,
        group,
        speakers,
    })
}

/// A stretch of a document that is searched: a turn's speech (after its
/// label), or text outside turns.
#[derive(Debug, Clone, Copy)]
struct Region {
    lo: usize,
    hi: usize,
    /// Index into the document's turns.
    turn: Option<usize>,
}

/// A hit before it is described: document, range, region.
#[derive(Debug, Clone, Copy)]
struct Raw {
    doc: usize,
    start: usize,
    end: usize,
    region: Region,
}

/// What a search read, to describe its hits or code them.
struct Scan {
    texts: Vec<Text>,
    turns: HashMap<DocumentId, Vec<SpokenTurn>>,
    hits: Vec<Raw>,
}

/// Where in a document the search looks.
fn regions(chars: &[char], turns: &[SpokenTurn], search: &Search) -> Vec<Region> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let all = search.speakers == Speakers::All && search.group.is_none();
    for (i, t) in turns.iter().enumerate() {
        let (start, end) = (
            t.start.max(0) as usize,
            (t.end.max(0) as usize).min(chars.len()),
        );
        if all && start > at {
            out.push(Region {
                lo: at,
                hi: start,
                turn: None,
            });
        }
        at = at.max(end);
        let wanted = match &search.group {
            Some((g, _)) => t.group_id == Some(*g) && !t.interviewer,
            None if all => true,
            None => t.participant.is_some() && !t.interviewer,
        };
        if !wanted || start >= end {
            continue;
        }
        let opening: String = chars[start..(start + attribution::OPENING).min(end)]
            .iter()
            .collect();
        let label = t
            .label
            .as_deref()
            .map_or(0, |l| attribution::label_len(&opening, l));
        let mut lo = start + label;
        while lo < end && chars[lo].is_whitespace() {
            lo += 1;
        }
        out.push(Region {
            lo,
            hi: end,
            turn: Some(i),
        });
    }
    if all && at < chars.len() {
        out.push(Region {
            lo: at,
            hi: chars.len(),
            turn: None,
        });
    }
    out
}

/// One document as a search reads it: its characters, the regions
/// searched and (for stems) each region's words.
struct Searched {
    chars: Vec<char>,
    regions: Vec<Region>,
    words: Vec<Vec<Word>>,
}

/// Read the documents in scope and find every hit, in document order.
async fn scan(db: &PgPool, access: &Access, search: &Search) -> Result<Scan> {
    let project = access.id();
    let texts = store::search::texts(db, project, search.documents.as_deref()).await?;
    let mut turns: HashMap<DocumentId, Vec<SpokenTurn>> = HashMap::new();
    for t in store::search::turns(db, project, search.documents.as_deref()).await? {
        turns.entry(t.document).or_default().push(t);
    }
    let no_turns = Vec::new();
    let phrase = if search.exact {
        None
    } else {
        let words = search::query_words(&search.q);
        let stems = store::search::stems(db, &words).await?;
        let phrase = search::stem_phrase(
            words
                .iter()
                .map(|w| stems.get(w).cloned().flatten())
                .collect(),
        )
        .ok_or_else(|| {
            Error::invalid(
                "q",
                "these are all common words that text search ignores; add a word, or search for the exact phrase",
            )
        })?;
        Some(phrase)
    };
    let pattern = search::exact_pattern(&search.q);

    // Each document's searched regions and, for stems, their words.
    let mut per_doc: Vec<Searched> = Vec::new();
    let mut candidates: HashSet<String> = HashSet::new();
    for text in &texts {
        let chars: Vec<char> = text.body.chars().collect();
        let regions = regions(&chars, turns.get(&text.id).unwrap_or(&no_turns), search);
        let words: Vec<Vec<Word>> = match &phrase {
            Some(phrase) => regions
                .iter()
                .map(|r| {
                    let ws = search::words(&chars, r.lo, r.hi);
                    for w in &ws {
                        if search::may_match(&w.lower, phrase) && !candidates.contains(&w.lower) {
                            candidates.insert(w.lower.clone());
                        }
                    }
                    ws
                })
                .collect(),
            None => Vec::new(),
        };
        per_doc.push(Searched {
            chars,
            regions,
            words,
        });
    }
    let stems = match &phrase {
        Some(_) => {
            let list: Vec<String> = candidates.into_iter().collect();
            store::search::stems(db, &list).await?
        }
        None => HashMap::new(),
    };
    let mut hits = Vec::new();
    for (
        doc,
        Searched {
            chars,
            regions,
            words,
        },
    ) in per_doc.iter().enumerate()
    {
        for (k, region) in regions.iter().enumerate() {
            let found = match &phrase {
                Some(phrase) => search::phrase_hits(&words[k], &stems, phrase),
                None => search::exact_hits(chars, region.lo, region.hi, &pattern),
            };
            hits.extend(found.into_iter().map(|(start, end)| Raw {
                doc,
                start,
                end,
                region: *region,
            }));
        }
    }
    Ok(Scan { texts, turns, hits })
}

/// A page of the hits of a search.
pub async fn run(
    db: &PgPool,
    access: &Access,
    query: &SearchQuery,
    limit: usize,
    offset: usize,
) -> Result<Found> {
    let search = check(db, access, query).await?;
    let scan = scan(db, access, &search).await?;
    let documents = {
        let mut seen: Vec<usize> = scan.hits.iter().map(|h| h.doc).collect();
        seen.dedup();
        seen.len()
    };
    let mut items = Vec::new();
    let mut chars: Option<(usize, Vec<char>)> = None;
    for h in scan.hits.iter().skip(offset).take(limit) {
        if chars.as_ref().is_none_or(|(d, _)| *d != h.doc) {
            chars = Some((h.doc, scan.texts[h.doc].body.chars().collect()));
        }
        let Some((_, cs)) = &chars else { continue };
        let text = &scan.texts[h.doc];
        let turn = h
            .region
            .turn
            .and_then(|i| scan.turns.get(&text.id).and_then(|ts| ts.get(i)));
        let (before, after) =
            search::context(cs, h.region.lo, h.region.hi, h.start, h.end, CONTEXT);
        items.push(Hit {
            document_id: text.id,
            document_title: text.title.clone(),
            start: h.start,
            end: h.end,
            text: cs[h.start..h.end].iter().collect(),
            before,
            after,
            speaker: turn.and_then(|t| t.label.clone()),
            turn: turn.map(|t| t.turn_no),
            participant: turn.and_then(|t| t.participant.clone()),
            group: turn.and_then(|t| t.group.clone()),
        });
    }
    Ok(Found {
        total: scan.hits.len(),
        documents,
        search,
        items,
    })
}

/// How much of the text around a hit a code is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    Match,
    Sentence,
    Turn,
}

impl Extent {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim) {
            None | Some("") | Some("match") => Ok(Extent::Match),
            Some("sentence") => Ok(Extent::Sentence),
            Some("turn") => Ok(Extent::Turn),
            Some(other) => Err(Error::invalid(
                "extent",
                format!("extent is match, sentence or turn, not “{other}”"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Extent::Match => "match",
            Extent::Sentence => "sentence",
            Extent::Turn => "turn",
        }
    }
}

/// A hit chosen by ticking it: its document and range as the search gave
/// them.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
pub struct HitRef {
    pub document_id: DocumentId,
    pub start: usize,
    pub end: usize,
}

/// "Code all hits" (or the ticked ones).
#[derive(Debug, Clone)]
pub struct CodeHits {
    pub query: SearchQuery,
    pub code: CodeId,
    pub extent: Extent,
    /// Only these hits; `None` for all.
    pub only: Option<Vec<HitRef>>,
    pub dry_run: bool,
}

/// A coding that "code all hits" writes (or would).
#[derive(Debug, Clone)]
pub struct Planned {
    pub document_id: DocumentId,
    pub document_title: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Already coded so by this coder: not written again.
    pub existing: bool,
}

/// What "code all hits" did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct Coded {
    pub created: usize,
    pub existing: usize,
    /// The batch to undo; `None` for a dry run or when nothing was new.
    pub batch: Option<i64>,
    pub codings: Vec<Planned>,
    pub created_ids: Vec<CodingId>,
}

/// Apply a code to every hit of a search (or the ticked ones) at their
/// extent, as one batch; with `dry_run`, only say what would be written.
pub async fn code_hits(db: &PgPool, access: &Access, req: &CodeHits) -> Result<Coded> {
    access.require(
        Role::Coder,
        "viewers cannot code; ask an owner to make you a coder",
    )?;
    let search = check(db, access, &req.query).await?;
    if !store::codes::is_live(&mut *db.acquire().await?, access.id(), req.code).await? {
        return Err(Error::invalid(
            "code_id",
            format!("code {} is not in this project's codebook", req.code),
        ));
    }
    let scan = scan(db, access, &search).await?;
    let wanted: Option<HashSet<HitRef>> = req.only.as_ref().map(|o| o.iter().copied().collect());
    if let Some(w) = &wanted {
        let found: HashSet<HitRef> = scan
            .hits
            .iter()
            .map(|h| HitRef {
                document_id: scan.texts[h.doc].id,
                start: h.start,
                end: h.end,
            })
            .collect();
        if let Some(x) = w.iter().find(|x| !found.contains(x)) {
            return Err(Error::invalid(
                "hits",
                format!(
                    "{}–{} in document {} is not a hit of this search (the text or the search changed?)",
                    x.start, x.end, x.document_id
                ),
            ));
        }
    }
    // Each hit's extent, once each, in document order.
    let mut planned: Vec<Planned> = Vec::new();
    let mut seen: HashSet<(DocumentId, usize, usize)> = HashSet::new();
    let mut chars: Option<(usize, Vec<char>)> = None;
    for h in &scan.hits {
        let text = &scan.texts[h.doc];
        if wanted.as_ref().is_some_and(|w| {
            !w.contains(&HitRef {
                document_id: text.id,
                start: h.start,
                end: h.end,
            })
        }) {
            continue;
        }
        if chars.as_ref().is_none_or(|(d, _)| *d != h.doc) {
            chars = Some((h.doc, text.body.chars().collect()));
        }
        let Some((_, cs)) = &chars else { continue };
        let (start, end) = match req.extent {
            Extent::Match => (h.start, h.end),
            Extent::Sentence => search::sentence(cs, h.region.lo, h.region.hi, h.start, h.end),
            Extent::Turn => search::trim(cs, h.region.lo, h.region.hi),
        };
        if start >= end || !seen.insert((text.id, start, end)) {
            continue;
        }
        planned.push(Planned {
            document_id: text.id,
            document_title: text.title.clone(),
            start,
            end,
            text: cs[start..end].iter().collect(),
            existing: false,
        });
    }
    if planned.len() > MAX_BATCH {
        return Err(Error::invalid(
            "q",
            format!(
                "this would code {} passages at once, more than {MAX_BATCH}; narrow the search (documents, a group) first",
                planned.len()
            ),
        ));
    }
    let docs: Vec<DocumentId> = {
        let mut d: Vec<DocumentId> = planned.iter().map(|p| p.document_id).collect();
        d.dedup();
        d
    };
    let coded: HashSet<(DocumentId, i32, i32)> =
        store::search::coded(db, access.id(), req.code, access.user_id(), &docs)
            .await?
            .into_iter()
            .collect();
    for p in &mut planned {
        p.existing = coded.contains(&(p.document_id, p.start as i32, p.end as i32));
    }
    let existing = planned.iter().filter(|p| p.existing).count();
    let fresh: Vec<&Planned> = planned.iter().filter(|p| !p.existing).collect();
    if req.dry_run || fresh.is_empty() {
        return Ok(Coded {
            created: if req.dry_run { fresh.len() } else { 0 },
            existing,
            batch: None,
            codings: planned,
            created_ids: Vec::new(),
        });
    }
    let mut tx = db.begin().await?;
    let batch = store::search::start_batch(
        &mut tx,
        access.id(),
        &NewBatch {
            coder: access.user_id(),
            code: req.code,
            query: &search.q,
            exact: search.exact,
            extent: req.extent.as_str(),
        },
    )
    .await?;
    let mut ids = Vec::with_capacity(fresh.len());
    for p in &fresh {
        let new = NewCoding {
            document: p.document_id,
            code: req.code,
            start: p.start as i32,
            end: p.end as i32,
            memo: String::new(),
        };
        if let Some(id) =
            store::codings::add_in(&mut tx, access.id(), access.user_id(), &new).await?
        {
            ids.push(id);
        }
    }
    store::search::finish_batch(&mut tx, access.id(), batch, &ids).await?;
    tx.commit().await?;
    Ok(Coded {
        created: ids.len(),
        existing: planned.len() - ids.len(),
        batch: Some(batch),
        codings: planned,
        created_ids: ids,
    })
}

/// Undo a batch of "code all hits": its coder or an owner removes every
/// coding it wrote that still exists. Answers how many were removed.
pub async fn undo(db: &PgPool, access: &Access, batch: i64) -> Result<i64> {
    let found = store::search::batch(db, access.id(), batch)
        .await?
        .ok_or(Error::NotFound)?;
    if found.coder != access.user_id() && !access.is_owner() {
        return Err(Error::Forbidden(
            "only the coder who made this batch, or an owner, can undo it".into(),
        ));
    }
    if found.undone_at.is_some() {
        return Err(Error::Conflict("this batch was already undone".into()));
    }
    store::search::undo_batch(db, access.id(), batch)
        .await?
        .ok_or_else(|| Error::Conflict("this batch was already undone".into()))
}
