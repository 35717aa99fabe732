//! What every page's frame shows: who is signed in and the one-time
//! messages queued for this browser.

use crate::app::AppState;
use crate::http::error::{AppError, Result};
use crate::http::extract::{MaybeUser, session};
use crate::store::users::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// A one-time message shown on the next page ("Project created").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

const FLASH_KEY: &str = "flash";

/// Queue a message for the next page this browser loads.
pub async fn flash(session: &Session, ok: bool, text: impl Into<String>) -> Result<()> {
    let mut queued: Vec<Flash> = session.get(FLASH_KEY).await?.unwrap_or_default();
    queued.push(Flash {
        ok,
        text: text.into(),
    });
    session.insert(FLASH_KEY, queued).await?;
    Ok(())
}

/// What every page's frame shows: who is signed in, and pending messages.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub user: Option<User>,
    pub flashes: Vec<Flash>,
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let session = session(parts, state).await?;
        // Removing marks the session changed (and so written): only when
        // there is something to remove.
        let flashes = match session.get::<Vec<Flash>>(FLASH_KEY).await? {
            Some(_) => session
                .remove::<Vec<Flash>>(FLASH_KEY)
                .await?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Chrome { user, flashes })
    }
}
