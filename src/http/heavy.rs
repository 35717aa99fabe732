//! Heavy requests — exports, imports, the matrix — take a share of the
//! server, not all of it. A few may run at once in all (a quarter of the
//! database pool, at least two), and each person may run a few of their own;
//! the rest of the pool stays free for everyone's ordinary requests. Past
//! the person's share the answer is 429 at once; when the server's share is
//! taken, a request waits a little, then gets 503 with `Retry-After`.

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

/// Heavy requests one person may have running at once.
pub const PER_PERSON: usize = 3;
/// How long a heavy request waits for the server's share before 503.
const WAIT: Duration = Duration::from_secs(20);

/// The server's share of heavy work, and who holds it.
pub struct Gate {
    slots: Arc<Semaphore>,
    running: Mutex<HashMap<UserId, usize>>,
}

impl Gate {
    /// A gate for a server with a pool of `pool` connections.
    pub fn new(pool: u32) -> Gate {
        Gate {
            slots: Arc::new(Semaphore::new((pool as usize / 4).max(2))),
            running: Mutex::new(HashMap::new()),
        }
    }
}

/// Held by a heavy request while it runs: one of the server's slots and one
/// of the person's.
pub struct Heavy {
    gate: Arc<Gate>,
    user: UserId,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Heavy {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.user);
            }
        }
    }
}

impl FromRequestParts<AppState> for Heavy {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let gate = state.heavy.clone();
        {
            let mut running = gate.running.lock().unwrap_or_else(|e| e.into_inner());
            let mine = running.entry(user.id).or_insert(0);
            if *mine >= PER_PERSON {
                return Err(AppError::TooManyRequests(format!(
                    "you already have {PER_PERSON} exports, imports or matrices being made; \
                     wait for one to finish"
                )));
            }
            *mine += 1;
        }
        // From here a drop gives the person's slot back.
        let slot = tokio::time::timeout(WAIT, gate.slots.clone().acquire_owned()).await;
        let release = |gate: &Gate| {
            let mut running = gate.running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = running.get_mut(&user.id) {
                *n -= 1;
            }
        };
        match slot {
            Ok(Ok(slot)) => Ok(Heavy {
                gate,
                user: user.id,
                _slot: slot,
            }),
            _ => {
                release(&gate);
                Err(AppError::Busy(
                    "the server is busy with other exports and imports; try again in a minute"
                        .into(),
                ))
            }
        }
    }
}
