//! Every coding's attribution, kept in memory per project so that the
//! matrix is counted without a million-row join per request, and the count
//! itself (pure, in `domain::matrix`) run off the async threads. The SQL —
//! loading attributions, asking which documents changed — is in
//! `store::matrix`.

use super::super::Result;
use crate::domain::ids::ProjectId;
use crate::domain::matrix::{self, Attributed, Columns, Scope as CountScope, Tally};
use crate::store;
use crate::store::codes::Code;
use crate::store::matrix::Scope;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Every coding's attribution, per project and document, kept in memory so
/// that the matrix is counted without a million-row join per request (see
/// docs/PERFORMANCE.md). Each request first asks `matrix_change` which
/// documents changed since this server last looked (triggers record every
/// write to codings — their parts are only written with them — and to
/// speaker mappings) and reloads only those. A project not yet in memory
/// starts from the copy a server last kept in `matrix_copy` and catches up
/// the same way; only without one is every coding attributed afresh. Several
/// servers may share one database: each keeps its own copy in memory, and
/// any may start from the one kept in the database.
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
    /// When this copy was last written to `matrix_copy`, if ever, and
    /// whether it changed since.
    kept: Option<Instant>,
    unkept: bool,
}

/// A copy not refreshed for this long is loaded again: change rows are
/// kept for [`store::matrix::CHANGES_KEPT_DAYS`] days.
const STALE_AFTER: Duration =
    Duration::from_secs((store::matrix::CHANGES_KEPT_DAYS as u64 - 1) * 24 * 3600);
/// A changed copy is written to the database at most this often.
const KEEP_EVERY: Duration = Duration::from_secs(5 * 60);
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
        if copy
            .as_ref()
            .is_none_or(|c| c.taken.elapsed() >= STALE_AFTER)
        {
            *copy = Some(start(pool, project).await?);
        }
        let c = copy.as_mut().expect("a copy was just made");
        let look = store::matrix::look(pool, project, Some((&c.snapshot, c.looked))).await?;
        if many(look.dirty.len(), c.docs.len()) {
            // Most documents changed (an old kept copy, a bulk import):
            // one pass over the project beats reading them one by one.
            c.docs = Arc::new(store::matrix::load(pool, project, None).await?);
            c.unkept = true;
        } else if !look.dirty.is_empty() {
            let mut fresh = store::matrix::load(pool, project, Some(&look.dirty)).await?;
            let mut docs = (*c.docs).clone();
            for d in &look.dirty {
                match fresh.remove(d) {
                    Some(rows) => docs.insert(*d, rows),
                    None => docs.remove(d),
                };
            }
            c.docs = Arc::new(docs);
            c.unkept = true;
        }
        c.snapshot = look.snapshot;
        c.looked = look.now;
        c.taken = Instant::now();
        if c.unkept && c.kept.is_none_or(|t| t.elapsed() >= KEEP_EVERY) {
            c.kept = Some(Instant::now());
            c.unkept = false;
            tokio::spawn(keep(
                pool.clone(),
                project,
                c.snapshot.clone(),
                c.looked,
                c.docs.clone(),
            ));
        }
        Ok(c.docs.clone())
    }
}

/// Whether `dirty` changed documents, of the `kept` a copy holds, are
/// better reloaded with the whole project: reading codings by key costs a
/// few times more per coding than the whole project's hash join.
fn many(dirty: usize, kept: usize) -> bool {
    dirty > 200 && dirty * 4 > kept
}

/// A project's copy to start from: the kept one when there is one recent
/// enough to catch up from (the caller then looks for what changed since),
/// else every coding attributed afresh.
async fn start(pool: &PgPool, project: ProjectId) -> sqlx::Result<Copy> {
    if let Some(kept) = store::matrix::kept(pool, project).await? {
        let decoded = tokio::task::spawn_blocking(move || {
            crate::formats::attributions::decode(&kept.data)
                .map(|docs| (kept.snapshot, kept.looked, docs))
        })
        .await;
        match decoded {
            Ok(Some((snapshot, looked, docs))) => {
                return Ok(Copy {
                    snapshot,
                    looked,
                    taken: Instant::now(),
                    docs: Arc::new(docs.into_iter().map(|(d, r)| (d, Arc::new(r))).collect()),
                    kept: Some(Instant::now()),
                    unkept: false,
                });
            }
            _ => tracing::warn!(%project, "the kept matrix copy is unreadable; loading afresh"),
        }
    }
    let look = store::matrix::look(pool, project, None).await?;
    let docs = Arc::new(store::matrix::load(pool, project, None).await?);
    Ok(Copy {
        snapshot: look.snapshot,
        looked: look.now,
        taken: Instant::now(),
        docs,
        kept: None,
        unkept: true,
    })
}

/// Write a copy to `matrix_copy` (in the background: a failure only means
/// the next start loads afresh).
async fn keep(
    pool: PgPool,
    project: ProjectId,
    snapshot: String,
    looked: OffsetDateTime,
    docs: Arc<Documents>,
) {
    let started = Instant::now();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::formats::attributions::encode(docs.iter().map(|(d, r)| (*d, r.as_slice())))
    })
    .await;
    let result = match bytes {
        Ok(bytes) => store::matrix::keep(&pool, project, &snapshot, looked, &bytes)
            .await
            .map(|()| bytes.len()),
        Err(e) => {
            tracing::warn!(error = %e, %project, "could not encode the matrix copy");
            return;
        }
    };
    match result {
        Ok(size) => tracing::debug!(
            %project,
            kb = size / 1024,
            ms = started.elapsed().as_millis() as u64,
            "matrix copy kept"
        ),
        Err(e) => tracing::warn!(error = %e, %project, "could not keep the matrix copy"),
    }
}

impl Attributions {
    /// Load the attributions of the projects likely to be counted soon,
    /// one after another, so the first matrix after a start does not wait
    /// for a cold load. Run in the background at start; a request for one
    /// of them meanwhile waits for that project's load only.
    pub async fn warm(&self, pool: &PgPool) {
        let projects = match store::matrix::likely(pool, KEEP as i64).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot choose projects to warm");
                return;
            }
        };
        let started = Instant::now();
        for project in &projects {
            if let Err(e) = self.current(pool, *project).await {
                tracing::warn!(error = %e, %project, "cannot warm a project's matrix");
            }
        }
        tracing::info!(
            projects = projects.len(),
            ms = started.elapsed().as_millis() as u64,
            "matrix attributions loaded"
        );
    }
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
) -> Result<Tally> {
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
    let people =
        store::matrix::people(pool, project, by.attribute(), scope.attribute.as_ref()).await?;
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
    .await?;
    Ok(tally)
}
