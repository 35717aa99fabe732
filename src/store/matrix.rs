//! The theme matrix: each coding attributed in PostgreSQL from
//! `coding_part` (how it splits over speakers) and the current speaker
//! mapping, kept in memory ([`Attributions`]) and counted by
//! [`crate::domain::matrix::count`]; N and co-occurrence in SQL.
//!
//! Attribution, as docs/COUNTING.md states it: a coding belongs to every
//! participant whose turns it covers (interviewer turns never count); a
//! coding that covers no participant but some unmapped speaker or unlabelled
//! text belongs to "Unassigned". A coding spanning two columns counts once
//! in each and once in the total; with roll-up, a code's row counts the
//! codings of its whole branch, each once.

use crate::domain::ids::{DocumentId, ProjectId, UserId};
use crate::domain::matrix::{Attributed, Columns, Person, Slot};
use futures_util::TryStreamExt;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Which codings and participants a matrix counts.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub coder: Option<UserId>,
    pub documents: Option<Vec<DocumentId>>,
    /// Only participants with this attribute value (Unassigned drops out).
    pub attribute: Option<(String, String)>,
}

pub use crate::domain::matrix::Tally;

/// A look at the database's clock: the current snapshot (as text), the
/// time, and which documents changed in transactions that a previous look
/// (`since`: its snapshot and time) could not see.
pub struct Look {
    pub snapshot: String,
    pub now: OffsetDateTime,
    pub dirty: Vec<i64>,
}

/// The current snapshot and time, with the documents of `project` whose
/// codings or speakers changed in transactions invisible to `since`.
pub async fn look(
    pool: &PgPool,
    project: ProjectId,
    since: Option<(&str, OffsetDateTime)>,
) -> sqlx::Result<Look> {
    let Some((snapshot, looked)) = since else {
        let r =
            sqlx::query!(r#"select pg_current_snapshot()::text as "snapshot!", now() as "now!""#)
                .fetch_one(pool)
                .await?;
        return Ok(Look {
            snapshot: r.snapshot,
            now: r.now,
            dirty: Vec::new(),
        });
    };
    let r = sqlx::query!(
        r#"
        select pg_current_snapshot()::text as "snapshot!", now() as "now!",
               array(select distinct document_id from matrix_change
                     where project_id = $1 and at > $2::timestamptz - interval '1 hour'
                       and not pg_visible_in_snapshot(xid, $3::text::pg_snapshot))
                 as "dirty!"
        "#,
        project as ProjectId,
        looked,
        snapshot
    )
    .fetch_one(pool)
    .await?;
    Ok(Look {
        snapshot: r.snapshot,
        now: r.now,
        dirty: r.dirty,
    })
}

/// One coding's attribution to one participant (or to Unassigned), as
/// [`load`] reads it.
struct LoadRow {
    document_id: i64,
    coding_id: i64,
    code_id: i64,
    coder_id: i64,
    participant_id: Option<i64>,
    words: i64,
}

/// Attribute the codings of `documents` (all with `None`) as
/// docs/COUNTING.md says: words per participant, interviewer turns left
/// out, Unassigned only for a coding that reaches no participant.
///
/// Two shapes of one rule: the whole project joins every coding with its
/// parts at once (hash joins over the tables); a few documents look up each
/// coding's parts by its key (a plain join was planned as a scan of every
/// part in the database: 220 ms for 20 documents of a million-coding
/// corpus, against 60 ms).
pub async fn load(
    pool: &PgPool,
    project: ProjectId,
    documents: Option<&[i64]>,
) -> sqlx::Result<HashMap<i64, Arc<Vec<Attributed>>>> {
    let rows = match documents {
        None => sqlx::query_as!(
            LoadRow,
            r#"
            with att as (
                select g.coding_id, g.code_id, g.coder_id, g.document_id, s.participant_id,
                       sum(cp.words)::bigint as words
                from coding g
                join coding_part cp on cp.coding_id = g.coding_id
                left join speaker s on s.document_id = g.document_id and s.label = cp.label
                where g.project_id = $1 and s.is_interviewer is not true
                group by g.coding_id, g.code_id, g.coder_id, g.document_id, s.participant_id
            ),
            -- Unassigned only for codings that reach no participant; a window
            -- over each coding's rows says so without a self-join.
            flagged as (
                select a.*, bool_or(a.participant_id is not null)
                                over (partition by a.coding_id) as reaches_someone
                from att a
            )
            select document_id as "document_id!", coding_id as "coding_id!",
                   code_id as "code_id!", coder_id as "coder_id!",
                   participant_id, words as "words!"
            from flagged
            where participant_id is not null or not reaches_someone
            order by document_id, coding_id
            "#,
            project as ProjectId
        )
        .fetch(pool),
        Some(documents) => sqlx::query_as!(
            LoadRow,
            r#"
            select g.document_id, g.coding_id, g.code_id, g.coder_id,
                   a.participant_id as "participant_id?", a.words as "words!"
            from coding g
            -- An aggregate per coding: never flattened into a join of
            -- every part, so each coding's parts are read by its key.
            cross join lateral (
                select s.participant_id, sum(cp.words)::bigint as words,
                       bool_or(s.participant_id is not null) over () as reaches_someone
                from coding_part cp
                left join speaker s on s.document_id = g.document_id and s.label = cp.label
                where cp.coding_id = g.coding_id and s.is_interviewer is not true
                group by s.participant_id
            ) a
            where g.project_id = $1 and g.document_id = any($2)
              and (a.participant_id is not null or not a.reaches_someone)
            order by g.document_id, g.coding_id
            "#,
            project as ProjectId,
            documents
        )
        .fetch(pool),
    };
    by_document(rows).await
}

/// Gather [`load`]'s rows (ordered by document) into each document's list.
async fn by_document(
    mut rows: impl futures_util::Stream<Item = sqlx::Result<LoadRow>> + Unpin,
) -> sqlx::Result<HashMap<i64, Arc<Vec<Attributed>>>> {
    let mut docs: HashMap<i64, Vec<Attributed>> = HashMap::new();
    let mut current: Option<(i64, Vec<Attributed>)> = None;
    while let Some(r) = rows.try_next().await? {
        let row = Attributed {
            coding: r.coding_id,
            code: r.code_id,
            coder: r.coder_id,
            participant: r.participant_id,
            words: r.words,
        };
        match current.as_mut() {
            Some((d, list)) if *d == r.document_id => list.push(row),
            _ => {
                if let Some((d, list)) = current.take() {
                    docs.insert(d, list);
                }
                current = Some((r.document_id, vec![row]));
            }
        }
    }
    if let Some((d, list)) = current {
        docs.insert(d, list);
    }
    Ok(docs
        .into_iter()
        .map(|(d, mut list)| {
            list.shrink_to_fit();
            (d, Arc::new(list))
        })
        .collect())
}

/// The project's participants as the count needs them: group, value of
/// the column attribute `by` (if any), and whether the attribute filter
/// `filter` (`name`, `value`) lets them in.
pub async fn people(
    pool: &PgPool,
    project: ProjectId,
    by: Option<&str>,
    filter: Option<&(String, String)>,
) -> sqlx::Result<HashMap<i64, Person>> {
    let (filter_name, filter_value) = filter.cloned().unzip();
    Ok(sqlx::query!(
        r#"
        select participant_id as "id!", group_id, attributes ->> $2::text as value,
               coalesce($3::text is null or attributes ->> $3::text = $4::text, false)
                 as "included!"
        from participant where project_id = $1
        "#,
        project as ProjectId,
        by.unwrap_or(""),
        filter_name,
        filter_value
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|p| {
        (
            p.id,
            Person {
                group: p.group_id,
                value: p.value,
                included: p.included,
            },
        )
    })
    .collect())
}

/// How long change rows are kept, and so how old a copy of the
/// attributions (in a server's memory or in `matrix_copy`) can be and still
/// be brought up to date from them. A look also rereads the hour before
/// the last, for transactions that were still open.
pub const CHANGES_KEPT_DAYS: i32 = 8;

/// Prune change rows no server still needs, and kept copies too old to be
/// brought up to date (see [`Attributions`]).
pub async fn prune_changes(pool: &PgPool) -> sqlx::Result<u64> {
    let changes = sqlx::query!(
        "delete from matrix_change where at < now() - make_interval(days => $1)",
        CHANGES_KEPT_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    sqlx::query!(
        "delete from matrix_copy where looked < now() - make_interval(days => $1 - 1)",
        CHANGES_KEPT_DAYS
    )
    .execute(pool)
    .await?;
    Ok(changes)
}

/// A project's attributions as a server kept them (see
/// [`crate::formats::attributions`]): every change visible in `snapshot`
/// is in `data`.
pub struct Kept {
    pub snapshot: String,
    pub looked: OffsetDateTime,
    pub data: Vec<u8>,
}

/// The project's kept attributions, unless they are too old to bring up to
/// date from the change log.
pub async fn kept(pool: &PgPool, project: ProjectId) -> sqlx::Result<Option<Kept>> {
    sqlx::query_as!(
        Kept,
        r#"
        select snapshot, looked, data from matrix_copy
        where project_id = $1 and looked > now() - make_interval(days => $2 - 1)
        "#,
        project as ProjectId,
        CHANGES_KEPT_DAYS
    )
    .fetch_optional(pool)
    .await
}

/// Keep the project's attributions as of `snapshot`, unless a copy at
/// least as new is kept already (servers write theirs when they like).
pub async fn keep(
    pool: &PgPool,
    project: ProjectId,
    snapshot: &str,
    looked: OffsetDateTime,
    data: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"
        insert into matrix_copy (project_id, snapshot, looked, data)
        select $1, $2, $3, $4 where exists (select 1 from project where project_id = $1)
        on conflict (project_id) do update
           set snapshot = excluded.snapshot, looked = excluded.looked,
               data = excluded.data, saved_at = now()
         where matrix_copy.looked < excluded.looked
        "#,
        project as ProjectId,
        snapshot,
        looked,
        data
    )
    .execute(pool)
    .await?;
    Ok(())
}

fn slot(by: &Columns, unassigned: bool, group: Option<i64>, value: Option<String>) -> Slot {
    Slot {
        unassigned,
        group: by
            .by_group()
            .then_some(if unassigned { None } else { group }),
        value: by
            .attribute()
            .map(|_| if unassigned { None } else { value }),
    }
}

/// N per slot: participants who speak (are mapped to a speaker) in the
/// documents counted, and all of them together under `None`.
pub async fn population(
    pool: &PgPool,
    project: ProjectId,
    by: &Columns,
    scope: &Scope,
) -> sqlx::Result<(HashMap<Slot, i64>, i64)> {
    let documents: Option<Vec<i64>> = scope
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    let (filter_name, filter_value) = scope.attribute.clone().unzip();
    let rows = sqlx::query!(
        r#"
        select p.group_id, p.attributes ->> $2::text as attr_value, count(*) as "n!"
        from participant p
        where p.project_id = $1
          and exists (select 1 from speaker s
                      where s.participant_id = p.participant_id
                        and ($3::bigint[] is null or s.document_id = any($3)))
          and ($4::text is null or p.attributes ->> $4::text = $5::text)
        group by 1, 2
        "#,
        project as ProjectId,
        by.attribute().unwrap_or(""),
        documents.as_deref() as Option<&[i64]>,
        filter_name,
        filter_value
    )
    .fetch_all(pool)
    .await?;
    let mut n: HashMap<Slot, i64> = HashMap::new();
    let mut total = 0;
    for r in rows {
        total += r.n;
        *n.entry(slot(by, false, r.group_id, r.attr_value))
            .or_default() += r.n;
    }
    Ok((n, total))
}

/// Code × code: how many pairs of codings (one of each code, same document)
/// share at least one character, and in how many participants both codes
/// occur. Keys are `(a, b)` with `a < b`; the diagonal `(a, a)` holds a
/// code's own codings and cases.
#[derive(Debug, Default)]
pub struct Cooccurrence {
    pub overlaps: HashMap<(i64, i64), i64>,
    pub cases: HashMap<(i64, i64), i64>,
}

pub async fn cooccurrence(
    pool: &PgPool,
    project: ProjectId,
    scope: &Scope,
) -> sqlx::Result<Cooccurrence> {
    let documents: Option<Vec<i64>> = scope
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    let (filter_name, filter_value) = scope.attribute.clone().unzip();
    let overlaps = sqlx::query!(
        r#"
        with live as (
            select g.coding_id, g.code_id, g.document_id, g.start_pos, g.end_pos
            from coding g join code c on c.code_id = g.code_id and c.deleted_at is null
            where g.project_id = $1
              and ($2::bigint is null or g.coder_id = $2)
              and ($3::bigint[] is null or g.document_id = any($3))
        )
        select a.code_id as "a!", b.code_id as "b!", count(*) as "n!"
        from live a
        join live b on b.document_id = a.document_id and a.code_id < b.code_id
                   and a.start_pos < b.end_pos and b.start_pos < a.end_pos
        group by a.code_id, b.code_id
        union all
        select code_id, code_id, count(*) from live group by code_id
        "#,
        project as ProjectId,
        scope.coder as Option<UserId>,
        documents.as_deref() as Option<&[i64]>
    )
    .fetch_all(pool)
    .await?;
    let cases = sqlx::query!(
        r#"
        with att as (
            select distinct g.code_id, s.participant_id
            from coding g
            join code c on c.code_id = g.code_id and c.deleted_at is null
            join coding_part cp on cp.coding_id = g.coding_id
            join speaker s on s.document_id = g.document_id and s.label = cp.label
            join participant p on p.participant_id = s.participant_id
            where g.project_id = $1 and not s.is_interviewer
              and ($2::bigint is null or g.coder_id = $2)
              and ($3::bigint[] is null or g.document_id = any($3))
              and ($4::text is null or p.attributes ->> $4::text = $5::text)
        )
        select a.code_id as "a!", b.code_id as "b!", count(*) as "n!"
        from att a join att b on a.participant_id = b.participant_id and a.code_id <= b.code_id
        group by a.code_id, b.code_id
        "#,
        project as ProjectId,
        scope.coder as Option<UserId>,
        documents.as_deref() as Option<&[i64]>,
        filter_name,
        filter_value
    )
    .fetch_all(pool)
    .await?;
    Ok(Cooccurrence {
        overlaps: overlaps.into_iter().map(|r| ((r.a, r.b), r.n)).collect(),
        cases: cases.into_iter().map(|r| ((r.a, r.b), r.n)).collect(),
    })
}

/// Up to `n` projects whose matrix is likely to be asked for soon: those
/// whose kept copy was written last (a server counted them recently).
/// Reads `matrix_copy`'s rows only, not the project's codings.
pub async fn likely(pool: &PgPool, n: i64) -> sqlx::Result<Vec<ProjectId>> {
    sqlx::query_scalar!(
        r#"
        select project_id as "id!: ProjectId" from matrix_copy
        order by saved_at desc
        limit $1
        "#,
        n
    )
    .fetch_all(pool)
    .await
}
