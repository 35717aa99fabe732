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
use crate::domain::matrix::{self, Attributed, Columns, Person, Scope as CountScope, Slot};
use crate::store::codes::Code;
use futures_util::TryStreamExt;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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

/// Every coding's attribution, per project and document, kept in memory so
/// that the matrix is counted without a million-row join per request (see
/// docs/PERFORMANCE.md). Each request first asks `matrix_change` which
/// documents changed since this server last looked (triggers record every
/// write to codings — their parts are only written with them — and to
/// speaker mappings) and reloads only those; a copy older than
/// [`STALE_AFTER`], or not yet made, is loaded whole. Several servers may share one database: each keeps its own copy.
#[derive(Default)]
pub struct Attributions {
    /// Each project's copy (behind its own lock, so one project's load
    /// does not hold up another's count) and when it was last asked for.
    projects: Mutex<HashMap<ProjectId, (Shared, Instant)>>,
}

type Shared = Arc<tokio::sync::Mutex<Option<Copy>>>;

/// Documents' attributions, a coding's rows together.
pub type Documents = HashMap<i64, Arc<Vec<Attributed>>>;

struct Copy {
    /// The snapshot (as text) whose changes this copy holds.
    snapshot: String,
    /// The database's clock when it was taken.
    looked: OffsetDateTime,
    taken: Instant,
    docs: Arc<Documents>,
}

/// A copy not refreshed for this long is loaded whole again: change rows
/// are pruned after two hours, and a look covers the hour before the last.
const STALE_AFTER: Duration = Duration::from_secs(50 * 60);
/// Projects kept in memory (the least recently counted go first).
const KEEP: usize = 8;

impl Attributions {
    /// The project's attributions as of now.
    pub async fn current(&self, pool: &PgPool, project: ProjectId) -> sqlx::Result<Arc<Documents>> {
        let slot = {
            let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
            let slot = projects
                .entry(project)
                .or_insert_with(|| (Arc::default(), Instant::now()));
            slot.1 = Instant::now();
            let slot = slot.0.clone();
            if projects.len() > KEEP
                && let Some(oldest) = projects
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(p, _)| *p)
            {
                projects.remove(&oldest);
            }
            slot
        };
        let mut copy = slot.lock().await;
        match copy.as_mut() {
            Some(c) if c.taken.elapsed() < STALE_AFTER => {
                let look = sqlx::query!(
                    r#"
                    select pg_current_snapshot()::text as "snapshot!", now() as "now!",
                           array(select distinct document_id from matrix_change
                                 where project_id = $1 and at > $2::timestamptz - interval '1 hour'
                                   and not pg_visible_in_snapshot(xid, $3::text::pg_snapshot))
                             as "dirty!"
                    "#,
                    project as ProjectId,
                    c.looked,
                    c.snapshot
                )
                .fetch_one(pool)
                .await?;
                if !look.dirty.is_empty() {
                    let mut fresh = load(pool, project, Some(&look.dirty)).await?;
                    let mut docs = (*c.docs).clone();
                    for d in &look.dirty {
                        match fresh.remove(d) {
                            Some(rows) => docs.insert(*d, rows),
                            None => docs.remove(d),
                        };
                    }
                    c.docs = Arc::new(docs);
                }
                c.snapshot = look.snapshot;
                c.looked = look.now;
                c.taken = Instant::now();
                Ok(c.docs.clone())
            }
            _ => {
                let look = sqlx::query!(
                    r#"select pg_current_snapshot()::text as "snapshot!", now() as "now!""#
                )
                .fetch_one(pool)
                .await?;
                let docs = Arc::new(load(pool, project, None).await?);
                *copy = Some(Copy {
                    snapshot: look.snapshot,
                    looked: look.now,
                    taken: Instant::now(),
                    docs: docs.clone(),
                });
                Ok(docs)
            }
        }
    }
}

/// Attribute the codings of `documents` (all with `None`) as
/// docs/COUNTING.md says: words per participant, interviewer turns left
/// out, Unassigned only for a coding that reaches no participant.
async fn load(
    pool: &PgPool,
    project: ProjectId,
    documents: Option<&[i64]>,
) -> sqlx::Result<Documents> {
    let mut rows = sqlx::query!(
        r#"
        with att as (
            select g.coding_id, g.code_id, g.coder_id, g.document_id, s.participant_id,
                   sum(cp.words)::bigint as words
            from coding g
            join coding_part cp on cp.coding_id = g.coding_id
            left join speaker s on s.document_id = g.document_id and s.label = cp.label
            where g.project_id = $1 and s.is_interviewer is not true
              and ($2::bigint[] is null or g.document_id = any($2))
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
        project as ProjectId,
        documents
    )
    .fetch(pool);
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

/// Count the matrix: the attributions in memory, the live codes (`codes`,
/// as [`crate::store::codes::outline`] reads them) and the participants as
/// they are now.
pub async fn tally(
    pool: &PgPool,
    attributions: &Attributions,
    project: ProjectId,
    codes: &[Code],
    by: &Columns,
    rollup: bool,
    scope: &Scope,
) -> sqlx::Result<Tally> {
    let docs = attributions.current(pool, project).await?;
    let parent: HashMap<i64, Option<i64>> = codes
        .iter()
        .map(|c| (c.id.0, c.parent_id.map(|p| p.0)))
        .collect();
    let rows_of: HashMap<i64, Vec<i64>> = codes
        .iter()
        .map(|c| {
            let mut rows = vec![c.id.0];
            let mut at = c.parent_id.map(|p| p.0);
            while rollup && let Some(p) = at {
                // A parent in the trash ends the branch (its codes are gone).
                let Some(&up) = parent.get(&p) else { break };
                rows.push(p);
                at = up;
            }
            (c.id.0, rows)
        })
        .collect();
    let (filter_name, filter_value) = scope.attribute.clone().unzip();
    let people = sqlx::query!(
        r#"
        select participant_id as "id!", group_id, attributes ->> $2::text as value,
               coalesce($3::text is null or attributes ->> $3::text = $4::text, false)
                 as "included!"
        from participant where project_id = $1
        "#,
        project as ProjectId,
        by.attribute().unwrap_or(""),
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
    .collect();
    let wanted: Option<HashSet<i64>> = scope
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    let by = by.clone();
    let coder = scope.coder.map(|c| c.0);
    let filtered = scope.attribute.is_some();
    // Counting a million attributions is CPU work: off the async threads.
    let tally = tokio::task::spawn_blocking(move || {
        let scope = CountScope {
            columns: &by,
            rows_of: &rows_of,
            people: &people,
            coder,
            filtered,
        };
        matrix::count(
            docs.iter()
                .filter(|(d, _)| wanted.as_ref().is_none_or(|w| w.contains(d)))
                .map(|(d, rows)| (*d, rows.as_slice())),
            &scope,
        )
    })
    .await
    .map_err(|e| sqlx::Error::Protocol(format!("the matrix count failed: {e}")))?;
    Ok(tally)
}

/// Prune change rows no server still needs (see [`Attributions`]).
pub async fn prune_changes(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("delete from matrix_change where at < now() - interval '2 hours'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
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
