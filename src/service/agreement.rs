//! Intercoder agreement as a team uses it: the report (κ, α, percent
//! agreement, with bootstrap intervals) for chosen coders, documents and
//! codes; two coders' codings of one code side by side; and adjudication,
//! which settles each stretch where they differ into the project's
//! consensus set. The rules are in [`crate::domain::agreement`]; this module
//! reads, checks who may do what, and writes decisions.

use super::{Access, Error, Result};
use crate::domain::ValidationError;
use crate::domain::agreement::{
    self as rules, Decision, Figures, Ranges, Side, Stretch, Tally, Unit, Units,
};
use crate::domain::ids::{CodeId, DocumentId, UserId};
use crate::domain::project::Role;
use crate::store;
use crate::store::agreement::{Coded, Measured, Recorded};
use crate::store::codes::Code;
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// Bootstrap resamples when the request names none.
pub const DEFAULT_BOOTSTRAP: usize = 1_000;
pub const MAX_BOOTSTRAP: usize = 10_000;

/// An agreement request as a query string (pages, API and exports alike).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AgreementQuery {
    /// User ids, comma separated: two or more.
    pub coders: Option<String>,
    /// `character`, `word` (default) or `turn`.
    pub unit: Option<String>,
    pub documents: Option<String>,
    pub codes: Option<String>,
    pub rollup: Option<String>,
    /// Resamples for the intervals (0: none).
    pub bootstrap: Option<String>,
    pub seed: Option<String>,
}

/// A parsed agreement request.
#[derive(Debug, Clone)]
pub struct Request {
    pub coders: Vec<UserId>,
    pub unit: Unit,
    pub documents: Option<Vec<DocumentId>>,
    pub codes: Option<Vec<CodeId>>,
    pub rollup: bool,
    pub bootstrap: usize,
    pub seed: u64,
}

pub use super::analysis::matrix::ids;

fn number<T: FromStr>(field: &'static str, raw: Option<&str>) -> Result<Option<T>> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<T>().map_err(|_| {
                Error::invalid(field, format!("{field} must be a whole number (not “{r}”)"))
            })
        })
        .transpose()
}

impl AgreementQuery {
    pub fn parse(&self) -> Result<Request> {
        let coders = ids::<UserId>("coders", self.coders.as_deref())?.unwrap_or_default();
        let unit = match self
            .unit
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => Unit::Word,
            Some(raw) => Unit::parse(raw).ok_or_else(|| {
                Error::invalid(
                    "unit",
                    format!("unit must be character, word or turn (not “{raw}”)"),
                )
            })?,
        };
        let bootstrap =
            number::<usize>("bootstrap", self.bootstrap.as_deref())?.unwrap_or(DEFAULT_BOOTSTRAP);
        if bootstrap > MAX_BOOTSTRAP {
            return Err(Error::invalid(
                "bootstrap",
                format!("bootstrap is at most {MAX_BOOTSTRAP} resamples"),
            ));
        }
        let seed = match number::<u64>("seed", self.seed.as_deref())? {
            Some(seed) => seed,
            None => random_seed()?,
        };
        let rollup = super::analysis::matrix::flag("rollup", self.rollup.as_deref())?;
        Ok(Request {
            coders,
            unit,
            documents: ids("documents", self.documents.as_deref())?,
            codes: ids("codes", self.codes.as_deref())?,
            rollup,
            bootstrap,
            seed,
        })
    }
}

fn random_seed() -> Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
    // Small enough to copy by hand from a page into a report.
    Ok(u64::from_le_bytes(bytes) % 1_000_000)
}

/// A coder as the report names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coder {
    pub id: UserId,
    pub name: String,
}

/// One code's figures.
#[derive(Debug, Clone)]
pub struct CodeFigures {
    pub code: Code,
    pub figures: Figures,
}

/// The agreement report.
#[derive(Debug, Clone)]
pub struct Report {
    pub unit: Unit,
    pub coders: Vec<Coder>,
    pub documents: Vec<Measured>,
    pub rollup: bool,
    pub bootstrap: usize,
    pub seed: u64,
    pub codes: Vec<CodeFigures>,
    pub pooled: Figures,
}

/// Whether `access` may compare coders: anyone in an open project; while
/// coding is blind, owners and the adjudicator only.
pub fn may_compare(access: &Access) -> Result<()> {
    let s = access.project.settings;
    if s.blind && !access.is_owner() && s.adjudicator != Some(access.user_id()) {
        return Err(Error::Forbidden(
            "coding is blind in this project: only owners and the adjudicator compare coders"
                .into(),
        ));
    }
    Ok(())
}

/// Whether `access` may settle disagreements: owners and the adjudicator.
pub fn may_adjudicate(access: &Access) -> Result<()> {
    if !access.is_owner() && access.project.settings.adjudicator != Some(access.user_id()) {
        return Err(Error::Forbidden(
            "only owners and the adjudicator an owner chose settle disagreements".into(),
        ));
    }
    Ok(())
}

/// The coders, checked: two to ten members, each once.
async fn coders(db: &PgPool, access: &Access, ids: &[UserId]) -> Result<Vec<Coder>> {
    if ids.len() < 2 {
        return Err(Error::invalid(
            "coders",
            "choose at least two coders to compare (coders=ID,ID)",
        ));
    }
    if ids.len() > rules::MAX_CODERS {
        return Err(Error::invalid(
            "coders",
            format!("compare at most {} coders at once", rules::MAX_CODERS),
        ));
    }
    let members = store::members::list(db, access.id()).await?;
    let mut seen = HashSet::new();
    ids.iter()
        .map(|&id| {
            if !seen.insert(id) {
                return Err(Error::invalid(
                    "coders",
                    format!("coder {id} is named twice"),
                ));
            }
            members
                .iter()
                .find(|m| m.user_id == id)
                .map(|m| Coder {
                    id,
                    name: m.name.clone(),
                })
                .ok_or_else(|| {
                    Error::invalid(
                        "coders",
                        format!("user {id} is not a member of this project"),
                    )
                })
        })
        .collect()
}

/// The documents asked for (all when none are), each checked.
async fn documents(
    db: &PgPool,
    access: &Access,
    only: Option<&[DocumentId]>,
) -> Result<Vec<Measured>> {
    let found = store::agreement::documents(db, access.id(), only).await?;
    if let Some(only) = only
        && let Some(missing) = only.iter().find(|d| !found.iter().any(|f| f.id == **d))
    {
        return Err(Error::invalid(
            "documents",
            format!("document {missing} is not in this project"),
        ));
    }
    Ok(found)
}

/// The codes asked for (every live code when none are), each checked, and
/// for each code id the report rows its codings count in.
async fn codes(
    db: &PgPool,
    access: &Access,
    only: Option<&[CodeId]>,
    rollup: bool,
) -> Result<(Vec<Code>, HashMap<CodeId, Vec<usize>>)> {
    let outline = store::codes::outline(db, access.id()).await?;
    let chosen: Vec<Code> = match only {
        None => outline.clone(),
        Some(ids) => ids
            .iter()
            .map(|id| {
                outline
                    .iter()
                    .find(|c| c.id == *id)
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(
                            "codes",
                            format!("code {id} is not a live code of this project"),
                        )
                    })
            })
            .collect::<Result<_>>()?,
    };
    let children = store::codes::children(&outline);
    let mut rows: HashMap<CodeId, Vec<usize>> = HashMap::new();
    for (row, code) in chosen.iter().enumerate() {
        let branch = if rollup {
            store::codes::branch_in(&children, code.id)
        } else {
            vec![code.id]
        };
        for id in branch {
            rows.entry(id).or_default().push(row);
        }
    }
    Ok((chosen, rows))
}

/// The units of each document, in the order of `documents`.
async fn units(
    db: &PgPool,
    access: &Access,
    unit: Unit,
    documents: &[Measured],
) -> Result<Vec<Units>> {
    let ids: Vec<DocumentId> = documents.iter().map(|d| d.id).collect();
    Ok(match unit {
        Unit::Character => documents
            .iter()
            .map(|d| Units::Characters(d.chars.max(0) as usize))
            .collect(),
        Unit::Word => {
            let bodies: HashMap<DocumentId, String> =
                store::agreement::bodies(db, access.id(), &ids)
                    .await?
                    .into_iter()
                    .collect();
            tokio::task::spawn_blocking(move || {
                ids.iter()
                    .map(|id| {
                        Units::Spans(bodies.get(id).map(|b| rules::words(b)).unwrap_or_default())
                    })
                    .collect()
            })
            .await?
        }
        Unit::Turn => {
            let mut by_doc: HashMap<DocumentId, Vec<(usize, usize)>> = HashMap::new();
            for (doc, start, end) in
                store::agreement::participant_turns(db, access.id(), &ids).await?
            {
                by_doc
                    .entry(doc)
                    .or_default()
                    .push((start as usize, end as usize));
            }
            ids.iter()
                .map(|id| Units::Spans(by_doc.remove(id).unwrap_or_default()))
                .collect()
        }
    })
}

/// The agreement report for a request.
pub async fn report(db: &PgPool, access: &Access, req: &Request) -> Result<Report> {
    may_compare(access)?;
    let coders = coders(db, access, &req.coders).await?;
    let documents = documents(db, access, req.documents.as_deref()).await?;
    let (codes, rows) = codes(db, access, req.codes.as_deref(), req.rollup).await?;
    let coder_ids: Vec<UserId> = coders.iter().map(|c| c.id).collect();
    let doc_ids: Vec<DocumentId> = documents.iter().map(|d| d.id).collect();
    let coded = store::agreement::coded(db, access.id(), &coder_ids, &doc_ids).await?;
    let units = units(db, access, req.unit, &documents).await?;
    let count = Counting {
        units,
        documents: doc_ids,
        coders: coder_ids,
        rows,
        codes: codes.len(),
    };
    let (bootstrap, seed) = (req.bootstrap, req.seed);
    let (per_code, pooled) =
        tokio::task::spawn_blocking(move || count.figures(&coded, bootstrap, seed)).await?;
    Ok(Report {
        unit: req.unit,
        coders,
        documents,
        rollup: req.rollup,
        bootstrap,
        seed,
        codes: codes
            .into_iter()
            .zip(per_code)
            .map(|(code, figures)| CodeFigures { code, figures })
            .collect(),
        pooled,
    })
}

/// What counting needs, with the codings' ids turned into positions.
struct Counting {
    units: Vec<Units>,
    documents: Vec<DocumentId>,
    coders: Vec<UserId>,
    rows: HashMap<CodeId, Vec<usize>>,
    codes: usize,
}

impl Counting {
    /// Each report row's ranges per document and coder.
    /// `[row][document][coder]`.
    fn ranges(&self, coded: &[Coded]) -> Vec<Vec<Vec<Ranges>>> {
        let doc_at: HashMap<DocumentId, usize> = self
            .documents
            .iter()
            .enumerate()
            .map(|(i, d)| (*d, i))
            .collect();
        let coder_at: HashMap<UserId, usize> = self
            .coders
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i))
            .collect();
        let m = self.coders.len();
        let mut out = vec![vec![vec![Vec::new(); m]; self.documents.len()]; self.codes];
        for c in coded {
            let (Some(&d), Some(&k), Some(rows)) = (
                doc_at.get(&c.document),
                coder_at.get(&c.coder),
                self.rows.get(&c.code),
            ) else {
                continue;
            };
            for &row in rows {
                out[row][d][k].push((c.start as usize, c.end as usize));
            }
        }
        out
    }

    /// Figures per report row and pooled over rows.
    fn figures(&self, coded: &[Coded], bootstrap: usize, seed: u64) -> (Vec<Figures>, Figures) {
        let m = self.coders.len();
        let ranges = self.ranges(coded);
        let resamples = rules::resamples(self.documents.len(), bootstrap, seed);
        let mut pooled_docs = vec![Tally::empty(m); self.documents.len()];
        let mut per_code = Vec::with_capacity(self.codes);
        for row in &ranges {
            let per_doc: Vec<Tally> = row
                .iter()
                .zip(&self.units)
                .map(|(coded, units)| rules::tally(units, coded))
                .collect();
            for (pooled, t) in pooled_docs.iter_mut().zip(&per_doc) {
                pooled.add(t, 1);
            }
            per_code.push(summarise(&per_doc, &resamples, m));
        }
        let pooled = summarise(&pooled_docs, &resamples, m);
        (per_code, pooled)
    }
}

fn summarise(per_doc: &[Tally], resamples: &[Vec<u32>], m: usize) -> Figures {
    let mut total = Tally::empty(m);
    for t in per_doc {
        total.add(t, 1);
    }
    rules::figures(&total, &rules::draw(per_doc, resamples, m))
}

/// Two coders' codings of one code in one document, side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub document: Measured,
    pub text: String,
    pub code: Code,
    pub a: Coder,
    pub b: Coder,
    /// Where each coded: A only, B only, both.
    pub sides: Vec<(usize, usize, Side)>,
    pub stretches: Vec<Stretch>,
    /// What was decided here already, newest first.
    pub decisions: Vec<Recorded>,
}

impl Comparison {
    pub fn disagreements(&self) -> impl Iterator<Item = &Stretch> {
        self.stretches.iter().filter(|s| !s.agreed())
    }
}

/// What one side-by-side view shows.
#[derive(Debug, Clone, Copy)]
pub struct Pairing {
    pub document: DocumentId,
    pub code: CodeId,
    pub a: UserId,
    pub b: UserId,
}

async fn pair_codings(
    db: &PgPool,
    access: &Access,
    p: &Pairing,
) -> Result<(Vec<(usize, usize)>, Vec<(usize, usize)>)> {
    let coded = store::agreement::coded(db, access.id(), &[p.a, p.b], &[p.document]).await?;
    let of = |coder: UserId| {
        coded
            .iter()
            .filter(|c| c.code == p.code && c.coder == coder)
            .map(|c| (c.start as usize, c.end as usize))
            .collect::<Vec<_>>()
    };
    Ok((of(p.a), of(p.b)))
}

/// The code, checked to be live in the project.
async fn code(db: &PgPool, access: &Access, id: CodeId) -> Result<Code> {
    store::codes::outline(db, access.id())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            Error::invalid(
                "code",
                format!("code {id} is not a live code of this project"),
            )
        })
}

/// Two coders' codings of a code in a document, with their stretches.
pub async fn compare(db: &PgPool, access: &Access, p: &Pairing) -> Result<Comparison> {
    may_compare(access)?;
    let mut pair = coders(db, access, &[p.a, p.b]).await?;
    let document = documents(db, access, Some(&[p.document]))
        .await?
        .pop()
        .ok_or(Error::NotFound)?;
    let code = code(db, access, p.code).await?;
    let text = store::documents::text(db, access.id(), p.document)
        .await?
        .ok_or(Error::NotFound)?;
    let (a, b) = pair_codings(db, access, p).await?;
    let decisions = store::agreement::decisions(db, access.id(), Some(p.document), 200)
        .await?
        .into_iter()
        .filter(|d| d.code_id == p.code)
        .collect();
    let b_coder = pair.pop().ok_or(Error::NotFound)?;
    let a_coder = pair.pop().ok_or(Error::NotFound)?;
    Ok(Comparison {
        document,
        text,
        code,
        a: a_coder,
        b: b_coder,
        sides: rules::sides(&a, &b),
        stretches: rules::stretches(&a, &b),
        decisions,
    })
}

/// One decision about one stretch, as sent.
#[derive(Debug, Clone)]
pub struct Ruling {
    pub pairing: Pairing,
    pub start: usize,
    pub end: usize,
    pub decision: Decision,
}

/// What a decision did.
#[derive(Debug, Clone)]
pub struct Settled {
    pub decided: usize,
    /// Consensus codings written.
    pub written: usize,
    pub consensus: UserId,
}

/// Refuse comparing the consensus set with a coder when settling: the
/// consensus is what decisions make, not one of the sides.
fn sides_are_coders(access: &Access, (a, b): (UserId, UserId)) -> Result<()> {
    if let Some(consensus) = access.project.settings.consensus
        && (a == consensus || b == consensus)
    {
        return Err(Error::invalid(
            "coders",
            "decisions settle two coders' codings; the consensus set is what they make",
        ));
    }
    Ok(())
}

/// Settle one stretch between two coders into the consensus set.
pub async fn adjudicate(db: &PgPool, access: &Access, r: &Ruling) -> Result<Settled> {
    may_adjudicate(access)?;
    sides_are_coders(access, (r.pairing.a, r.pairing.b))?;
    coders(db, access, &[r.pairing.a, r.pairing.b]).await?;
    code(db, access, r.pairing.code).await?;
    documents(db, access, Some(&[r.pairing.document])).await?;
    let (a, b) = pair_codings(db, access, &r.pairing).await?;
    let stretch = rules::stretches(&a, &b)
        .into_iter()
        .find(|s| s.start == r.start && s.end == r.end)
        .ok_or_else(|| {
            Error::Conflict(
                "the codings here changed since the page was drawn (no stretch starts and ends \
                 there now); reload and decide again"
                    .into(),
            )
        })?;
    if r.decision == Decision::Agreed && !stretch.agreed() {
        return Err(Error::invalid(
            "decision",
            "the coders differ here: keep A's, keep B's, keep both or drop",
        ));
    }
    let decision = decision(&r.pairing, &stretch, r.decision);
    let (written, consensus) =
        store::agreement::decide(db, access.id(), access.user_id(), &[decision]).await?;
    Ok(Settled {
        decided: 1,
        written,
        consensus,
    })
}

fn decision(p: &Pairing, s: &Stretch, d: Decision) -> store::agreement::Decision {
    store::agreement::Decision {
        document: p.document,
        code: p.code,
        coders: (p.a, p.b),
        extent: (s.start as i32, s.end as i32),
        decision: d.as_str(),
        keep: s
            .keep(d)
            .into_iter()
            .map(|(s, e)| (s as i32, e as i32))
            .collect(),
    }
}

/// Copy every stretch the two coders coded alike (and nobody decided yet)
/// into the consensus set, for the chosen documents and codes.
pub async fn accept_agreed(
    db: &PgPool,
    access: &Access,
    pair: (UserId, UserId),
    only_documents: Option<&[DocumentId]>,
    only_codes: Option<&[CodeId]>,
) -> Result<Settled> {
    may_adjudicate(access)?;
    sides_are_coders(access, pair)?;
    coders(db, access, &[pair.0, pair.1]).await?;
    let docs = documents(db, access, only_documents).await?;
    let (codes, _) = codes(db, access, only_codes, false).await?;
    let wanted: HashSet<CodeId> = codes.iter().map(|c| c.id).collect();
    let doc_ids: Vec<DocumentId> = docs.iter().map(|d| d.id).collect();
    let coded = store::agreement::coded(db, access.id(), &[pair.0, pair.1], &doc_ids).await?;
    let done = store::agreement::decided(db, access.id(), pair).await?;
    let mut by_place: HashMap<(DocumentId, CodeId), (Ranges, Ranges)> = HashMap::new();
    for c in coded.iter().filter(|c| wanted.contains(&c.code)) {
        let place = by_place.entry((c.document, c.code)).or_default();
        let side = if c.coder == pair.0 {
            &mut place.0
        } else {
            &mut place.1
        };
        side.push((c.start as usize, c.end as usize));
    }
    let mut decisions = Vec::new();
    for ((document, code), (a, b)) in by_place {
        let p = Pairing {
            document,
            code,
            a: pair.0,
            b: pair.1,
        };
        for s in rules::stretches(&a, &b).iter().filter(|s| s.agreed()) {
            if !done.contains(&(document, code, s.start as i32, s.end as i32)) {
                decisions.push(decision(&p, s, Decision::Agreed));
            }
        }
    }
    let (written, consensus) =
        store::agreement::decide(db, access.id(), access.user_id(), &decisions).await?;
    Ok(Settled {
        decided: decisions.len(),
        written,
        consensus,
    })
}

/// The project's decisions, newest first.
pub async fn decisions(db: &PgPool, access: &Access, limit: i64) -> Result<Vec<Recorded>> {
    may_compare(access)?;
    Ok(store::agreement::decisions(db, access.id(), None, limit).await?)
}

/// Owners switch blind coding and choose who adjudicates besides them.
pub async fn set_settings(
    db: &PgPool,
    access: &Access,
    blind: Option<bool>,
    adjudicator: Option<Option<UserId>>,
) -> Result<store::projects::Settings> {
    access.require(
        Role::Owner,
        "only an owner changes how the project is coded",
    )?;
    let current = access.project.settings;
    let adjudicator = adjudicator.unwrap_or(current.adjudicator);
    if let Some(id) = adjudicator {
        let member = store::members::get(db, access.id(), id).await?;
        if member.is_none_or(|m| m.role < Role::Coder) || current.consensus == Some(id) {
            return Err(Error::Invalid(ValidationError::new(
                "adjudicator",
                format!("user {id} is not a coder or owner of this project"),
            )));
        }
    }
    let blind = blind.unwrap_or(current.blind);
    store::projects::set_settings(db, access.id(), blind, adjudicator).await?;
    Ok(store::projects::Settings {
        blind,
        adjudicator,
        consensus: current.consensus,
    })
}
