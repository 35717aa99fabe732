//! Accounts: checking a sign-in against the stored password, with failed
//! attempts per address throttled in the database (so every server agrees).

use super::Result;
use crate::domain::account;
use crate::domain::ids::UserId;
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
    // The attempt is counted before the password is checked, so guesses
    // sent together are counted together; a right password clears it.
    if !store::throttle::take_guess(db, email).await? {
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
        _ => Ok(SignIn::Refused),
    }
}

/// API tokens one account may make in an hour.
pub const MAX_TOKENS_AN_HOUR: i64 = 10;

/// A new API token, shown once: its plain text is never stored.
pub enum NewToken {
    Made(String),
    /// [`MAX_TOKENS_AN_HOUR`] were made in the last hour.
    TooMany,
}

/// Make an API token for `user`, within the hourly limit (checked and
/// written in one step, so simultaneous requests cannot pass it together).
pub async fn create_token(db: &PgPool, user: UserId, name: &str) -> Result<NewToken> {
    let name = account::token_name(name)?;
    let (token, hash) = account::new_token();
    Ok(
        match store::tokens::insert_limited(db, user, &name, &hash, MAX_TOKENS_AN_HOUR).await? {
            Some(_) => NewToken::Made(token),
            None => NewToken::TooMany,
        },
    )
}
