//! Who an API token belongs to and what it may do in a project, kept in
//! memory for a short while so that a script's requests do not each wait on
//! the access check's round trip before their own work.
//!
//! Kept correct across servers by PostgreSQL itself: triggers on the tables
//! an access check reads (`api_token`, `app_user`, `project_member`,
//! `project`) send a notification on the [`CHANNEL`] whenever a statement
//! changes them (a token revoked, a role changed, a member removed, an
//! account disabled, a project's settings changed), and every server listens
//! and forgets all it kept. PostgreSQL signals the listeners when the change
//! commits, before it answers the statement that made it, so a server
//! learns of the change while the answer is still on its way to whoever
//! made it.
//!
//! What is kept is trusted only while the listening connection is up: when it
//! drops (a notification may have been missed), everything is forgotten and
//! nothing is kept until it is listening again. Each entry lives at most
//! [`LIFETIME`] besides, so a token's last use is still noted to the minute
//! (`store::projects::access_by_token`). A read that started before a
//! change was announced is not kept (the generation it started under is
//! gone).

use crate::domain::ids::ProjectId;
use crate::store::projects::MemberProject;
use crate::store::users::User;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The channel the triggers of migration `…14_access_notify` notify, and
/// servers' marks (payload `mark:<id>`) too.
pub const CHANNEL: &str = "parley_access";

/// The channel on which listeners acknowledge marks (payload: the mark's id).
const ACKS: &str = "parley_access_ack";

/// How the listening connections name themselves, so that a server can
/// count how many acknowledgements to wait for.
const LISTENER_NAME: &str = "parley access listener";

/// How long a server waits for the others to acknowledge a mark before it
/// answers anyway (a server that stopped reading its notifications).
const SETTLE_AT_MOST: Duration = Duration::from_secs(2);

/// How long a kept answer is used.
pub const LIFETIME: Duration = Duration::from_secs(30);

/// How many (token, project) answers are kept at most; past that, all are
/// forgotten (a few hundred coders make a few hundred).
const MOST: usize = 10_000;

/// What an access check found: the token's account and its membership of
/// the project, if any.
pub type Found = (User, Option<MemberProject>);

type Key = (Vec<u8>, ProjectId);

/// The kept answers of one server.
#[derive(Default)]
pub struct Askers {
    kept: Mutex<HashMap<Key, (Instant, Found)>>,
    /// Bumped on every announced change and every lost connection; an
    /// answer read under an older generation is not kept.
    generation: AtomicU64,
    /// The listening connection is up.
    listening: AtomicBool,
    /// This server's marks awaiting acknowledgement, by id.
    marks: Mutex<HashMap<u64, Arc<Mark>>>,
}

/// Acknowledgements heard of one mark.
#[derive(Default)]
struct Mark {
    heard: AtomicU64,
    changed: tokio::sync::Notify,
}

/// The moment a read of access began: pass it back to [`Askers::keep`].
#[derive(Clone, Copy)]
pub struct Began(u64);

impl Askers {
    /// The kept answer for this token and project, if it is fresh.
    pub fn get(&self, token_hash: &[u8], project: ProjectId) -> Option<Found> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (at, found) = kept.get(&(token_hash.to_vec(), project))?;
        (at.elapsed() < LIFETIME).then(|| found.clone())
    }

    /// Whether changes are being heard (and so answers kept).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Call before reading access from the database.
    pub fn begin(&self) -> Began {
        Began(self.generation.load(Ordering::Acquire))
    }

    /// Keep what a read begun at `began` found, unless a change was
    /// announced (or the connection lost) since.
    pub fn keep(&self, began: Began, token_hash: &[u8], project: ProjectId, found: &Found) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: `forget` bumps the generation under it.
        if self.generation.load(Ordering::Acquire) != began.0 {
            return;
        }
        if kept.len() >= MOST {
            kept.clear();
        }
        kept.insert(
            (token_hash.to_vec(), project),
            (Instant::now(), found.clone()),
        );
    }

    /// Forget everything kept, and any read in flight.
    pub fn forget(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        kept.clear();
    }

    /// Whether a request may change what an access check reads, so that
    /// this server forgets what it kept before answering it (the
    /// notification reaches its own listener soon after, but a next
    /// request may come sooner). Codings, the one frequent change, touch
    /// no table a check reads.
    pub fn may_change_access(method: &Method, path: &str) -> bool {
        !method.is_safe() && !path.split('/').any(|segment| segment == "codings")
    }

    /// Wait until every listening server, this one too, has heard every
    /// change committed so far (see the module's documentation); at most
    /// [`SETTLE_AT_MOST`]. Nothing to wait for while this server does not
    /// listen: it keeps nothing then, and cannot hear acknowledgements.
    pub async fn settle(&self, db: &PgPool) {
        if !self.listening() {
            return;
        }
        let id = getrandom::u64().unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        let mark = Arc::new(Mark::default());
        self.lock_marks().insert(id, mark.clone());
        let waited = tokio::time::timeout(SETTLE_AT_MOST, async {
            // The listeners there are as the mark is sent.
            let listeners =
                crate::store::announce(db, CHANNEL, &format!("mark:{id}"), LISTENER_NAME).await?;
            loop {
                let changed = mark.changed.notified();
                if mark.heard.load(Ordering::Acquire) >= listeners as u64 {
                    return Ok::<_, sqlx::Error>(());
                }
                changed.await;
            }
        })
        .await;
        self.lock_marks().remove(&id);
        match waited {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "access changes: could not announce a mark"),
            Err(_) => tracing::warn!(
                "access changes: not every server acknowledged within {SETTLE_AT_MOST:?}"
            ),
        }
    }

    /// A listener acknowledged mark `id` (ours or another server's).
    fn acknowledged(&self, id: &str) {
        let Ok(id) = id.parse::<u64>() else {
            return;
        };
        if let Some(mark) = self.lock_marks().get(&id) {
            mark.heard.fetch_add(1, Ordering::AcqRel);
            mark.changed.notify_waiters();
        }
    }

    fn lock_marks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Mark>>> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_listening(&self, up: bool) {
        // Forget before going up (what changed while down) and when going
        // down (what may change unheard).
        self.forget();
        self.listening.store(up, Ordering::Release);
        self.forget();
    }

    /// Listen for announced changes for as long as the server runs,
    /// reconnecting after a lost connection (nothing is kept meanwhile).
    pub async fn listen(&self, db: PgPool) {
        let mut wait = Duration::from_millis(100);
        loop {
            match self.listen_once(&db).await {
                Ok(()) => wait = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(error = %e, "access changes: not listening; checking every request");
                }
            }
            self.set_listening(false);
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
    }

    /// One listening connection's life: `Ok` when it was lost after
    /// listening.
    async fn listen_once(&self, db: &PgPool) -> sqlx::Result<()> {
        // Its own connection, not one of the pool's.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(
                (*db.connect_options())
                    .clone()
                    .application_name(LISTENER_NAME),
            )
            .await?;
        let mut listener = PgListener::connect_with(&own).await?;
        // A lost connection ends this life instead of reconnecting quietly:
        // what was announced meanwhile is lost and must be forgotten.
        listener.eager_reconnect(false);
        listener.listen_all([CHANNEL, ACKS]).await?;
        self.set_listening(true);
        loop {
            let Some(heard) = listener.try_recv().await? else {
                return Ok(());
            };
            if heard.channel() == ACKS {
                self.acknowledged(heard.payload());
                continue;
            }
            match heard.payload().strip_prefix("mark:") {
                // Everything committed before the mark has been heard.
                Some(id) => {
                    sqlx::query("select pg_notify($1, $2)")
                        .bind(ACKS)
                        .bind(id)
                        .execute(&mut listener)
                        .await?;
                }
                None => self.forget(),
            }
        }
    }

    #[cfg(test)]
    fn up(&self) {
        self.set_listening(true);
    }
}

/// Middleware: after a request that may have changed access (see
/// [`Askers::may_change_access`]), forget what this server kept and settle
/// with the others ([`Askers::settle`]) before the answer goes out —
/// whoever made the change sees it at their next request, on any server.
pub async fn forget_after_changes(
    State((askers, db)): State<(Arc<Askers>, PgPool)>,
    request: Request,
    next: Next,
) -> Response {
    let changes = Askers::may_change_access(request.method(), request.uri().path());
    let response = next.run(request).await;
    if changes {
        askers.forget();
        askers.settle(&db).await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;

    fn found(name: &str) -> Found {
        (
            User {
                id: UserId(1),
                email: "a@example.org".into(),
                name: name.into(),
                is_admin: false,
            },
            None,
        )
    }

    #[test]
    fn every_change_but_a_codings_forgets() {
        let changes = |m: Method, p: &str| Askers::may_change_access(&m, p);
        assert!(changes(Method::PUT, "/api/v1/projects/1/settings"));
        assert!(changes(Method::PATCH, "/api/v1/projects/1/members/2"));
        assert!(changes(Method::POST, "/account/tokens/3/revoke"));
        assert!(changes(Method::DELETE, "/api/v1/projects/1"));
        assert!(!changes(Method::GET, "/api/v1/projects/1/members"));
        assert!(!changes(Method::POST, "/api/v1/projects/1/codings"));
        assert!(!changes(Method::PATCH, "/api/v1/projects/1/codings/9"));
        assert!(!changes(Method::DELETE, "/api/v1/projects/1/codings/9"));
    }

    #[test]
    fn nothing_is_kept_unless_listening() {
        let askers = Askers::default();
        let began = askers.begin();
        askers.keep(began, b"t", ProjectId(1), &found("Ann"));
        assert!(askers.get(b"t", ProjectId(1)).is_none());
        askers.up();
        let began = askers.begin();
        askers.keep(began, b"t", ProjectId(1), &found("Ann"));
        assert_eq!(askers.get(b"t", ProjectId(1)).unwrap().0.name, "Ann");
        assert!(askers.get(b"t", ProjectId(2)).is_none());
        assert!(askers.get(b"u", ProjectId(1)).is_none());
    }

    #[test]
    fn a_change_forgets_what_was_kept_and_what_was_being_read() {
        let askers = Askers::default();
        askers.up();
        let began = askers.begin();
        askers.keep(began, b"t", ProjectId(1), &found("Ann"));
        let reading = askers.begin();
        askers.forget();
        assert!(askers.get(b"t", ProjectId(1)).is_none());
        // A read begun before the change may have seen the old rows.
        askers.keep(reading, b"t", ProjectId(1), &found("Ann"));
        assert!(askers.get(b"t", ProjectId(1)).is_none());
    }

    #[test]
    fn a_lost_connection_forgets_and_stops_keeping() {
        let askers = Askers::default();
        askers.up();
        let began = askers.begin();
        askers.keep(began, b"t", ProjectId(1), &found("Ann"));
        askers.set_listening(false);
        assert!(askers.get(b"t", ProjectId(1)).is_none());
        let began = askers.begin();
        askers.keep(began, b"t", ProjectId(1), &found("Ann"));
        assert!(askers.get(b"t", ProjectId(1)).is_none());
    }
}
