//! Heavy requests — exports, imports, the matrix — take a share of the
//! server, not all of it. A few may run at once in all (a quarter of the
//! database pool, at least two), and each person at most a few of their
//! own; the rest of the pool stays free for everyone's ordinary requests.
//! A request past either share waits its turn, up to a limit: then it is
//! answered 429 (the person's own share) or 503 with `Retry-After` (the
//! server's).

use super::error::AppError;
use super::extract::CurrentUser;
use crate::app::AppState;
use crate::domain::ids::UserId;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, timeout_at};

/// Heavy requests one person may have running at once.
pub const PER_PERSON: usize = 3;
/// How long a heavy request waits for its turn before it is refused.
const WAIT: Duration = Duration::from_secs(20);

/// The server's share of heavy work, and each person's.
pub struct Gate {
    slots: Arc<Semaphore>,
    people: Mutex<HashMap<UserId, Arc<Semaphore>>>,
}

impl Gate {
    /// A gate for a server with a pool of `pool` connections.
    pub fn new(pool: u32) -> Gate {
        Gate {
            slots: Arc::new(Semaphore::new((pool as usize / 4).max(2))),
            people: Mutex::new(HashMap::new()),
        }
    }

    fn person(&self, user: UserId) -> Arc<Semaphore> {
        let mut people = self.people.lock().unwrap_or_else(|e| e.into_inner());
        people
            .entry(user)
            .or_insert_with(|| Arc::new(Semaphore::new(PER_PERSON)))
            .clone()
    }
}

/// Held by a heavy request while it runs: one of the person's slots and one
/// of the server's.
pub struct Heavy {
    _mine: OwnedSemaphorePermit,
    _slot: OwnedSemaphorePermit,
}

impl FromRequestParts<AppState> for Heavy {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let deadline = Instant::now() + WAIT;
        let mine = match timeout_at(deadline, state.heavy.person(user.id).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(AppError::TooManyRequests(format!(
                    "you already have {PER_PERSON} exports, imports or matrices being made; \
                     wait for one to finish"
                )));
            }
        };
        match timeout_at(deadline, state.heavy.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(Heavy {
                _mine: mine,
                _slot: slot,
            }),
            _ => Err(AppError::Busy(
                "the server is busy with other exports and imports; try again in a minute".into(),
            )),
        }
    }
}
