//! Accounts: checking a sign-in against the stored password, with failed
//! attempts per address throttled in the database (so every server agrees).

use super::Result;
use crate::domain::account;
use crate::store;
use crate::store::users::User;
use sqlx::PgPool;

/// What a sign-in attempt came to.
pub enum SignIn {
    Welcome(User),
    /// Too many failures for this address lately: wait this many minutes.
    Throttled {
        minutes: i32,
    },
    /// The e-mail and password do not match an account.
    Refused,
}

/// Check an e-mail and password. Unknown addresses are checked against a
/// dummy hash, so the time taken does not say which addresses exist.
pub async fn sign_in(db: &PgPool, email: &str, password: String) -> Result<SignIn> {
    if store::throttle::recent_failures(db, email).await? >= store::throttle::MAX_FAILURES {
        return Ok(SignIn::Throttled {
            minutes: store::throttle::WINDOW_MINUTES,
        });
    }
    let credentials = store::users::credentials(db, email).await?;
    let stored = credentials
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| account::dummy_hash().to_owned());
    let matches =
        tokio::task::spawn_blocking(move || account::verify_password(&password, &stored)).await?;
    match credentials {
        Some(c) if matches => {
            store::throttle::clear(db, email).await?;
            Ok(SignIn::Welcome(c.user))
        }
        _ => {
            store::throttle::record_failure(db, email).await?;
            Ok(SignIn::Refused)
        }
    }
}
