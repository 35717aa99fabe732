//! The account page: who you are, your password, your API tokens.

use super::chrome::Chrome;
use super::pages::{back_with, done, when};
use crate::app::AppState;
use crate::domain::account::{self, NewPassword};
use crate::domain::ids::TokenId;
use crate::http::error::{AppError, Result};
use crate::http::extract::{CurrentUser, Form, Path};
use crate::service::accounts::{self, MAX_TOKENS_AN_HOUR, NewToken};
use crate::store;
use crate::store::users::User;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{token_id}/revoke", post(revoke_token))
}

struct TokenRow {
    id: TokenId,
    name: String,
    created: String,
    last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/show.html")]
struct AccountPage {
    chrome: Chrome,
    user: User,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    min_password: usize,
}

async fn show_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    chrome: Chrome,
) -> Result<AccountPage> {
    account_page(&state, user, chrome, None).await
}

/// The account page; `new_token` is shown once, in this answer only.
async fn account_page(
    state: &AppState,
    user: User,
    chrome: Chrome,
    new_token: Option<String>,
) -> Result<AccountPage> {
    let tokens = store::tokens::list(&state.db, user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: when(t.created_at),
            last_used: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
        })
        .collect();
    Ok(AccountPage {
        chrome,
        user,
        tokens,
        new_token,
        min_password: NewPassword::MIN_CHARS,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    password: String,
    password_again: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Redirect> {
    let stored = store::users::password_hash(&state.db, user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let current = form.current;
    let matches =
        tokio::task::spawn_blocking(move || account::verify_password(&current, &stored)).await?;
    let parsed = if !matches {
        Err(AppError::BadRequest(
            "your current password is not right".into(),
        ))
    } else if form.password != form.password_again {
        Err(AppError::BadRequest("the two new passwords differ".into()))
    } else {
        NewPassword::parse(&form.password).map_err(AppError::from)
    };
    let password = match parsed {
        Ok(p) => p,
        Err(e) => return back_with(&session, "/account", e).await,
    };
    let hash = tokio::task::spawn_blocking(move || account::hash_password(&password)).await?;
    store::users::set_password(&state.db, user.id, &hash).await?;
    store::sessions::delete_other_sessions(&state.db, user.id, session.id()).await?;
    done(
        &session,
        "/account",
        "Password changed. Your other sessions were signed out.",
    )
    .await
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Tokens are for scripts: a handful is plenty, and a flood of them is
/// someone using a stolen session. The new token is shown on the page this
/// request answers with — never kept in the session or anywhere else.
async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    chrome: Chrome,
    session: Session,
    Form(form): Form<TokenForm>,
) -> Result<Response> {
    match accounts::create_token(&state.db, user.id, &form.name).await {
        Ok(NewToken::Made(token)) => Ok(account_page(&state, user, chrome, Some(token))
            .await?
            .into_response()),
        Ok(NewToken::TooMany) => Err(AppError::TooManyRequests(format!(
            "at most {MAX_TOKENS_AN_HOUR} API tokens can be made in an hour; \
             revoke unused ones, or wait"
        ))),
        Err(e) => Ok(back_with(&session, "/account", e).await?.into_response()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(token): Path<TokenId>,
) -> Result<Redirect> {
    if !store::tokens::delete(&state.db, user.id, token).await? {
        return Err(AppError::NotFound);
    }
    done(
        &session,
        "/account",
        "Token revoked: scripts using it can no longer sign in.",
    )
    .await
}
