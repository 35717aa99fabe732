//! Coding: applying a code to a range (checked), changing a coding (who
//! may), and reading the filters of a coding list.

use super::texts::Texts;
use super::{Access, Error, Result};
use crate::domain::ValidationError;
use crate::domain::code;
use crate::domain::ids::{CodeId, CodingId, DocumentId, ProjectId, UserId};
use crate::domain::project::Role;
use crate::store;
use crate::store::codings::{Actor, Coding, CodingChanges, CodingError, Filter, NewCoding, Speech};
use serde::Deserialize;
use sqlx::PgPool;

fn position(field: &'static str, value: i64) -> Result<i32, ValidationError> {
    i32::try_from(value)
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            ValidationError::new(
                field,
                format!("{field} must be a position in the text (0 or more), not {value}"),
            )
        })
}

/// `[start, end)` in code points, checked for order (the bound against the
/// text is checked when the coding is written).
pub fn range(start: i64, end: i64) -> Result<(i32, i32), ValidationError> {
    let (start, end) = (position("start", start)?, position("end", end)?);
    if start >= end {
        return Err(ValidationError::new(
            "end",
            format!(
                "end ({end}) must be after start ({start}): a coding covers at least one character"
            ),
        ));
    }
    Ok((start, end))
}

/// A code to apply to a range, checked and read ahead (see [`prepare`]).
pub use store::codings::Prepared;

/// Check a new coding's range and memo and work out how it splits over the
/// document's speakers, from the document's text and turns (kept in
/// `texts` once read). It needs only the project's id, so it can run while
/// access is checked; [`create`] writes it.
pub async fn prepare(
    db: &PgPool,
    texts: &Texts,
    project: ProjectId,
    document: DocumentId,
    code_id: CodeId,
    (start, end): (i64, i64),
    memo: Option<&str>,
) -> Result<Prepared> {
    let (start, end) = range(start, end)?;
    let memo = code::long_text("memo", memo.unwrap_or(""))?;
    let Some(text) = texts.get(db, project, document).await? else {
        return Err(CodingError::NoSuchDocument(document).into());
    };
    let new = NewCoding {
        document,
        code: code_id,
        start,
        end,
        memo,
    };
    let (window, window_start, turns) = text.window(start as usize, end as usize);
    Ok(Prepared::with_window(
        project,
        new,
        window,
        window_start,
        &turns,
    ))
}

/// Apply a code as the one asking; answers the coding and whether it is
/// new.
pub async fn create(db: &PgPool, access: &Access, coding: Prepared) -> Result<(Coding, bool)> {
    if coding.project() != access.id() {
        return Err(Error::NotFound);
    }
    Ok(store::codings::write(db, access.user_id(), coding).await?)
}

/// What may change on a coding. Absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct CodingInput {
    pub memo: Option<String>,
    pub starred: Option<bool>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub code_id: Option<CodeId>,
}

pub fn actor(access: &Access) -> Actor {
    Actor {
        user: access.user.id,
        owner: access.role() == Role::Owner,
    }
}

pub async fn update(
    db: &PgPool,
    access: &Access,
    id: CodingId,
    input: CodingInput,
) -> Result<Coding> {
    // Another coder's coding, hidden by blind coding, cannot be changed.
    get(db, access, id).await?;
    let range = match (input.start, input.end) {
        (None, None) => None,
        (Some(start), Some(end)) => Some(range(start, end)?),
        _ => {
            return Err(Error::invalid(
                "end",
                "send start and end together to change a coding's range",
            ));
        }
    };
    let changes = CodingChanges {
        memo: input
            .memo
            .as_deref()
            .map(|m| code::long_text("memo", m))
            .transpose()?,
        starred: input.starred,
        range,
        code: input.code_id,
    };
    store::codings::update(db, access.id(), id, actor(access), &changes).await?;
    store::codings::get(db, access.id(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Filters of a coding list, as a query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub code_id: Option<CodeId>,
    /// With `code_id`: also the codings of its sub-codes (`subcodes=1`,
    /// as the pages' links write it, means the same).
    #[serde(default, alias = "subcodes", deserialize_with = "super::flag")]
    pub include_subcodes: bool,
    pub document_id: Option<DocumentId>,
    /// Document ids, comma separated (with or instead of `document_id`).
    pub documents: Option<String>,
    /// A coder's user id.
    pub coder: Option<UserId>,
    /// A group's id or name, `unassigned` for speakers mapped to no one,
    /// or `any` for anyone but an interviewer (a matrix total).
    pub group: Option<String>,
    /// A participant attribute as `name=value` (`locality=North`).
    pub attribute: Option<String>,
    pub starred: Option<bool>,
    /// Only codings that overlap a coding of this code.
    pub overlaps: Option<CodeId>,
}

/// Where an excerpt is, as a reader finds it again: "turn 12, 00:03:12"
/// (the turn it starts in, and its time mark in a captioned transcript).
pub fn location(c: &Coding) -> String {
    match (c.turn, c.time_ms) {
        (Some(t), Some(ms)) => format!(
            "turn {t}, {}",
            crate::domain::turns::clock(ms.max(0) as u64)
        ),
        (Some(t), None) => format!("turn {t}"),
        (None, _) => "before the first turn".into(),
    }
}

/// A coding the member may see (blind coding hides other coders').
pub async fn get(db: &PgPool, access: &Access, id: CodingId) -> Result<Coding> {
    store::codings::get(db, access.id(), id)
        .await?
        .filter(|c| access.may_see(c.coder))
        .ok_or(Error::NotFound)
}

/// The member's tag of a document's codings whose fingerprint is `all`:
/// the coding page's ETag. Blind coding shows a different set, so it is
/// part of the tag (switching it off reloads everyone's).
fn tag(access: &Access, all: &str) -> String {
    match access.sees_only() {
        Some(me) => format!("{all}.only-{me}"),
        None => all.to_owned(),
    }
}

/// A document's codings as the coding page's feed reads them before it
/// knows who asks (alongside the access check): the fingerprint of all of
/// them and, unless a poll only asks whether anything changed, every
/// coder's marks. [`Feed::fingerprint`] and [`Feed::marks`] narrow it to
/// what the member sees.
pub struct Feed {
    document: DocumentId,
    all: String,
    marks: Option<Vec<store::codings::Mark>>,
}

/// Read a document's [`Feed`]: with its marks (one statement reads both),
/// or only its fingerprint.
pub async fn feed(
    db: &PgPool,
    project: ProjectId,
    document: DocumentId,
    with_marks: bool,
) -> Result<Feed> {
    let (all, marks) = if with_marks {
        let (all, marks) = store::codings::feed(db, project, document)
            .await?
            .ok_or(Error::NotFound)?;
        (all, Some(marks))
    } else {
        let all = store::codings::fingerprint(db, project, document)
            .await?
            .ok_or(Error::NotFound)?;
        (all, None)
    };
    Ok(Feed {
        document,
        all,
        marks,
    })
}

impl Feed {
    /// What the member's page knows this state by (its ETag).
    pub fn fingerprint(&self, access: &Access) -> String {
        tag(access, &self.all)
    }

    /// The marks the member may see (read now if the feed has none).
    pub async fn marks(self, db: &PgPool, access: &Access) -> Result<Vec<store::codings::Mark>> {
        let all = match self.marks {
            Some(marks) => marks,
            None => store::codings::marks(db, access.id(), self.document).await?,
        };
        Ok(visible(access, all))
    }
}

/// Of every coder's marks, those the member may see.
pub fn visible(access: &Access, all: Vec<store::codings::Mark>) -> Vec<store::codings::Mark> {
    all.into_iter()
        .filter(|m| access.may_see(m.coder))
        .collect()
}

/// What the coding page shows of a document.
pub struct Workbench {
    pub detail: super::documents::DocumentDetail,
    /// The codebook without counts.
    pub codes: Vec<store::codes::Code>,
    /// Every document's id and title in list order, to move between them.
    pub documents: Vec<(DocumentId, String)>,
    pub members: Vec<store::members::Member>,
    pub fingerprint: String,
    pub marks: Vec<store::codings::Mark>,
    pub memo: String,
    pub participants: Vec<store::participants::Choice>,
    pub groups: Vec<store::groups::Group>,
}

/// The coding page's reads, independent of each other, made at once (on
/// as many connections): the page waits for the slowest, not the sum.
pub async fn workbench(
    db: &PgPool,
    texts: &Texts,
    access: &Access,
    document: DocumentId,
) -> Result<Workbench> {
    let project = access.id();
    let (detail, codes, documents, members, feed, memo, participants, groups) = tokio::try_join!(
        super::documents::detail(db, texts, project, document),
        async { Ok(store::codes::outline(db, project).await?) },
        async { Ok(store::documents::titles(db, project).await?) },
        async { Ok(store::members::list(db, project).await?) },
        feed(db, project, document, true),
        async { Ok(store::memos::get_document(db, project, document).await?) },
        async { Ok(store::participants::choices(db, project).await?) },
        async { Ok::<_, Error>(store::groups::list(db, project).await?) },
    )?;
    let fingerprint = feed.fingerprint(access);
    let marks = feed.marks(db, access).await?;
    Ok(Workbench {
        detail,
        codes,
        documents,
        members,
        fingerprint,
        marks,
        memo: memo.unwrap_or_default(),
        participants,
        groups,
    })
}

/// The codings `query` asks for, `limit` from `offset`, and how many match.
/// `early` is what [`list_early`] read alongside the access check: used
/// when blind coding does not narrow the list, else read again.
pub async fn list(
    db: &PgPool,
    access: &Access,
    query: &ListQuery,
    limit: i64,
    offset: i64,
    early: Option<Early>,
) -> Result<(Vec<Coding>, i64)> {
    let filter = filter(db, access, query).await?;
    if let Some(Early(found)) = early
        && filter.coder.is_none()
    {
        return Ok(found);
    }
    Ok(store::codings::list(db, access.id(), &filter, limit, offset).await?)
}

/// One document's codings, read before it is known who asks: see
/// [`list_early`].
pub struct Early((Vec<Coding>, i64));

/// Read one document's codings with no other filter (the list a script
/// reading a document asks for) before the access check has answered, as
/// if the asker saw every coder's codings; any other list, `None`. Only
/// this list is read early: its cost is bounded by one document, like the
/// document's own text, where another list (a theme across the corpus)
/// could cost a refused asker's request far more than the refusal.
pub async fn list_early(
    db: &PgPool,
    project: ProjectId,
    query: &ListQuery,
    limit: i64,
    offset: i64,
) -> Result<Option<Early>> {
    let ListQuery {
        code_id: None,
        include_subcodes: _,
        document_id: Some(document),
        documents: None,
        coder: None,
        group: None,
        attribute: None,
        starred: None,
        overlaps: None,
    } = query
    else {
        return Ok(None);
    };
    let filter = Filter {
        documents: Some(vec![*document]),
        ..Filter::default()
    };
    let found = store::codings::list(db, project, &filter, limit, offset).await?;
    Ok(Some(Early(found)))
}

/// Turn list filters into a store filter, resolving group names; blind
/// coding narrows it to the member's own codings.
pub async fn filter(db: &PgPool, access: &Access, query: &ListQuery) -> Result<Filter> {
    let project = access.id();
    let coder = access.coder_scope(query.coder)?;
    let codes = match query.code_id {
        None => None,
        Some(id) if query.include_subcodes => {
            let tree = store::codes::outline(db, project).await?;
            Some(store::codes::branch(&tree, id))
        }
        Some(id) => Some(vec![id]),
    };
    let speech = match query
        .group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => None,
        Some(g) if g.eq_ignore_ascii_case("unassigned") => Some(Speech::Unassigned),
        Some(g) if g.eq_ignore_ascii_case("any") => Some(Speech::Anyone),
        Some(g) => {
            let groups = store::groups::list(db, project).await?;
            let found = groups
                .iter()
                .find(|x| x.id.to_string() == g || x.name.eq_ignore_ascii_case(g))
                .ok_or_else(|| {
                    ValidationError::new(
                        "group",
                        format!("there is no group “{g}” in this project"),
                    )
                })?;
            Some(Speech::Group(found.id))
        }
    };
    let attributes = crate::domain::participant::attribute_filters(query.attribute.as_deref())?;
    Ok(Filter {
        codes,
        documents: documents(query)?,
        coder,
        speech,
        attributes,
        starred: query.starred,
        overlapping: query.overlaps,
    })
}

/// The documents a list is narrowed to: `document_id` and `documents`
/// together.
fn documents(query: &ListQuery) -> Result<Option<Vec<DocumentId>>, ValidationError> {
    let listed = super::analysis::matrix::document_ids(query.documents.as_deref())?;
    Ok(match (query.document_id, listed) {
        (None, None) => None,
        (Some(d), None) => Some(vec![d]),
        (one, Some(mut many)) => {
            many.extend(one);
            many.sort();
            many.dedup();
            Some(many)
        }
    })
}

/// One page of a code's excerpts.
pub struct Excerpts {
    /// The live codebook (the page offers moves and merges within it).
    pub tree: Vec<store::codes::Code>,
    pub items: Vec<Coding>,
    pub total: i64,
    /// Why the filters could not be applied, if they could not.
    pub refused: Option<String>,
}

/// The excerpts of `query.code_id`, `limit` from `offset`; a filter the
/// user can fix (an unknown group, a malformed attribute) is reported in
/// [`Excerpts::refused`] with an empty list rather than as an error.
pub async fn excerpts(
    db: &PgPool,
    access: &Access,
    query: &ListQuery,
    limit: i64,
    offset: i64,
) -> Result<Excerpts> {
    let project = access.id();
    let tree = store::codes::tree(db, project, access.sees_only()).await?;
    if query
        .code_id
        .is_some_and(|id| !tree.iter().any(|c| c.id == id))
    {
        return Err(Error::NotFound);
    }
    let (items, total, refused) = match filter(db, access, query).await {
        Ok(f) => {
            let (items, total) = store::codings::list(db, project, &f, limit, offset).await?;
            (items, total, None)
        }
        Err(Error::Invalid(e)) => (Vec::new(), 0, Some(e.to_string())),
        Err(e) => return Err(e),
    };
    Ok(Excerpts {
        tree,
        items,
        total,
        refused,
    })
}
