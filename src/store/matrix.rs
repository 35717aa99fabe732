//! The theme matrix, counted in PostgreSQL from `coding_part` (how each
//! coding splits over speakers) and the current speaker mapping.
//!
//! Attribution, as docs/COUNTING.md states it: a coding belongs to every
//! participant whose turns it covers (interviewer turns never count); a
//! coding that covers no participant but some unmapped speaker or unlabelled
//! text belongs to "Unassigned". A coding spanning two columns counts once
//! in each and once in the total; with roll-up, a code's row counts the
//! codings of its whole branch, each once.

use crate::domain::ids::{DocumentId, ProjectId, UserId};
use crate::domain::matrix::{Columns, Counts, Slot};
use sqlx::PgPool;
use std::collections::HashMap;

/// Which codings and participants a matrix counts.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub coder: Option<UserId>,
    pub documents: Option<Vec<DocumentId>>,
    /// Only participants with this attribute value (Unassigned drops out).
    pub attribute: Option<(String, String)>,
}

/// Counts per code (each code's own codings, or its branch's with
/// `rollup`) and slot, plus each code's total.
#[derive(Debug, Default)]
pub struct Tally {
    pub cells: HashMap<(i64, Slot), Counts>,
    pub totals: HashMap<i64, Counts>,
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

pub async fn tally(
    pool: &PgPool,
    project: ProjectId,
    by: &Columns,
    rollup: bool,
    scope: &Scope,
) -> sqlx::Result<Tally> {
    let documents: Option<Vec<i64>> = scope
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    let (filter_name, filter_value) = scope.attribute.clone().unzip();
    let rows = sqlx::query!(
        r#"
        with recursive closure as (
            select code_id as ancestor, code_id
            from code where project_id = $1 and deleted_at is null
          union all
            select cl.ancestor, c.code_id
            from code c join closure cl on c.parent_id = cl.code_id
            where $2 and c.deleted_at is null
        ),
        att as (
            select g.coding_id, g.code_id, g.document_id, s.participant_id,
                   sum(cp.words)::bigint as words
            from coding g
            join coding_part cp on cp.coding_id = g.coding_id
            left join speaker s on s.document_id = g.document_id and s.label = cp.label
            where g.project_id = $1 and s.is_interviewer is not true
              and ($3::bigint is null or g.coder_id = $3)
              and ($4::bigint[] is null or g.document_id = any($4))
            group by g.coding_id, g.code_id, g.document_id, s.participant_id
        ),
        -- Unassigned only for codings that reach no participant; a window
        -- over each coding's rows says so without a self-join.
        flagged as (
            select a.*, bool_or(a.participant_id is not null)
                            over (partition by a.coding_id) as reaches_someone
            from att a
        ),
        attributed as (
            select coding_id, code_id, document_id, participant_id, words
            from flagged
            where participant_id is not null or not reaches_someone
        ),
        cells as (
            select a.coding_id, a.code_id, a.document_id, a.participant_id, a.words,
                   a.participant_id is null as unassigned,
                   case when $8 then p.group_id end as group_id,
                   case when $9 then p.attributes ->> $5::text end as attr_value
            from attributed a
            left join participant p on p.participant_id = a.participant_id
            where $6::text is null or p.attributes ->> $6::text = $7::text
        )
        select cl.ancestor as "code_id!",
               grouping(c.unassigned, c.group_id, c.attr_value) <> 0 as "total!",
               c.unassigned as "unassigned?", c.group_id as "group_id?", c.attr_value as "attr_value?",
               count(distinct c.coding_id) as "references!",
               count(distinct c.participant_id) as "cases!",
               count(distinct c.document_id) as "documents!",
               coalesce(sum(c.words), 0)::bigint as "words!"
        from cells c
        join closure cl on cl.code_id = c.code_id
        group by grouping sets ((cl.ancestor, c.unassigned, c.group_id, c.attr_value), (cl.ancestor))
        "#,
        project as ProjectId,
        rollup,
        scope.coder as Option<UserId>,
        documents.as_deref() as Option<&[i64]>,
        by.attribute().unwrap_or(""),
        filter_name,
        filter_value,
        by.by_group(),
        by.attribute().is_some()
    )
    .fetch_all(pool)
    .await?;
    let mut tally = Tally::default();
    for r in rows {
        let counts = Counts {
            references: r.references,
            cases: r.cases,
            documents: r.documents,
            words: r.words,
        };
        if r.total {
            tally.totals.insert(r.code_id, counts);
            continue;
        }
        let key = slot(by, r.unassigned.unwrap_or(false), r.group_id, r.attr_value);
        tally.cells.insert((r.code_id, key), counts);
    }
    Ok(tally)
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
