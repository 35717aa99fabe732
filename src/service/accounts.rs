//! Accounts: checking a sign-in against the stored password, with failed
//! attempts per address throttled in the database (so every server agrees).

use super::{Error, Result};
use crate::domain::account;
use crate::domain::ids::UserId;
use crate::store;
use crate::store::users::{Account, User};
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
    /// The password is right but an administrator disabled the account.
    Disabled,
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
        Some(c) if matches && c.disabled => Ok(SignIn::Disabled),
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

/// How long a set-password link works.
pub const LINK_HOURS: i32 = 72;

/// A one-time link to set a password: the path to hand over, and when it
/// stops working.
#[derive(Debug, Clone)]
pub struct PasswordLink {
    pub path: String,
    pub expires_at: time::OffsetDateTime,
}

fn require_admin(actor: &User) -> Result<()> {
    if actor.is_admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only administrators manage accounts".into(),
        ))
    }
}

/// Every account (administrators only).
pub async fn accounts(db: &PgPool, actor: &User) -> Result<Vec<Account>> {
    require_admin(actor)?;
    Ok(store::users::accounts(db).await?)
}

/// A new account without a password, and its one-time link to set one
/// (administrators only).
pub async fn create_account(
    db: &PgPool,
    actor: &User,
    email: &str,
    name: &str,
    admin: bool,
) -> Result<(Account, PasswordLink)> {
    require_admin(actor)?;
    let email = account::Email::parse(email)?;
    let name = account::DisplayName::parse(name)?;
    let user = match store::users::insert(db, &email, &name, "!", admin).await {
        Ok(u) => u,
        Err(e) if store::violated_constraint(&e) == Some(store::users::EMAIL_TAKEN) => {
            return Err(Error::Conflict(format!(
                "an account already uses {}",
                email.as_str()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let link = password_link(db, actor, user.id).await?;
    let made = store::users::account(db, user.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((made, link))
}

/// A fresh one-time link for an account to set its password — for a new
/// account, or one whose owner forgot it (administrators only). Earlier
/// links keep working until used or expired.
pub async fn password_link(db: &PgPool, actor: &User, user: UserId) -> Result<PasswordLink> {
    require_admin(actor)?;
    if store::users::account(db, user).await?.is_none() {
        return Err(Error::NotFound);
    }
    let (token, _) = account::new_token();
    let secret = token.trim_start_matches(account::TOKEN_PREFIX).to_owned();
    let expires_at = store::users::insert_link(
        db,
        user,
        actor.id,
        &account::token_hash(&secret),
        LINK_HOURS,
    )
    .await?;
    Ok(PasswordLink {
        path: format!("/set-password/{secret}"),
        expires_at,
    })
}

/// Disable or enable an account (administrators only; not their own).
pub async fn set_disabled(
    db: &PgPool,
    actor: &User,
    user: UserId,
    disabled: bool,
) -> Result<Account> {
    require_admin(actor)?;
    if user == actor.id && disabled {
        return Err(Error::Conflict(
            "you cannot disable your own account; ask another administrator".into(),
        ));
    }
    if !store::users::set_disabled(db, user, disabled).await? {
        return Err(Error::NotFound);
    }
    store::users::account(db, user)
        .await?
        .ok_or(Error::NotFound)
}

/// Whose a set-password link is, while it works.
pub async fn link_holder(db: &PgPool, secret: &str) -> Result<Option<User>> {
    Ok(store::users::link_holder(db, &account::token_hash(secret)).await?)
}

/// Set a password through a one-time link; the link works once.
pub async fn set_password_by_link(db: &PgPool, secret: &str, password: &str) -> Result<User> {
    let password = account::NewPassword::parse(password)?;
    let hash = tokio::task::spawn_blocking(move || account::hash_password(&password)).await?;
    store::users::use_link(db, &account::token_hash(secret), &hash)
        .await?
        .ok_or_else(|| {
            Error::Conflict(
                "this link was already used or has expired; ask an administrator for a new one"
                    .into(),
            )
        })
}
