//! Accounts, for administrators: create one and hand over its one-time
//! set-password link (no e-mail server needed), disable and enable, a new
//! link for someone who forgot their password. And the public page that
//! such a link opens.

use super::chrome::Chrome;
use super::pages::{back_with, done, when};
use crate::app::AppState;
use crate::domain::account::NewPassword;
use crate::domain::ids::UserId;
use crate::http::error::{AppError, Result};
use crate::http::extract::{CurrentUser, Form, Path, Query};
use crate::service::accounts::{self, PasswordLink};
use crate::store::users::Account;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_form))
        .route("/admin/users/{user_id}/disable", post(disable_form))
        .route("/admin/users/{user_id}/enable", post(enable_form))
        .route("/admin/users/{user_id}/link", post(link_form))
        .route(
            "/set-password/{secret}",
            get(set_password_page).post(set_password_form),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    me: UserId,
    accounts: Vec<Account>,
    /// A link just made: whose, and the link.
    made: Option<(String, PasswordLink)>,
    /// The create form's values.
    email: String,
    name: String,
}

impl UsersPage {
    fn expires(link: &PasswordLink) -> String {
        when(link.expires_at)
    }
}

#[derive(Deserialize, Default)]
struct Prefill {
    email: Option<String>,
}

async fn users_page(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    chrome: Chrome,
    Query(prefill): Query<Prefill>,
) -> Result<UsersPage> {
    let accounts = accounts::accounts(&state.db, &me).await?;
    Ok(UsersPage {
        chrome,
        me: me.id,
        accounts,
        made: None,
        email: prefill.email.unwrap_or_default(),
        name: String::new(),
    })
}

#[derive(Deserialize)]
struct NewAccountForm {
    email: String,
    name: String,
    admin: Option<String>,
}

/// Create an account and show its link on the answering page (it is not
/// stored, so it cannot be shown again — a new one can be made).
async fn create_form(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    session: Session,
    chrome: Chrome,
    Form(form): Form<NewAccountForm>,
) -> Result<Response> {
    let made = accounts::create_account(
        &state.db,
        &me,
        &form.email,
        &form.name,
        form.admin.is_some(),
    )
    .await;
    match made {
        Ok((account, link)) => Ok(UsersPage {
            me: me.id,
            accounts: accounts::accounts(&state.db, &me).await?,
            made: Some((account.name, link)),
            email: String::new(),
            name: String::new(),
            chrome,
        }
        .into_response()),
        Err(e) => Ok(back_with(&session, "/admin/users", e)
            .await?
            .into_response()),
    }
}

async fn link_form(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    chrome: Chrome,
    Path(user): Path<UserId>,
) -> Result<UsersPage> {
    let link = accounts::password_link(&state.db, &me, user).await?;
    let accounts = accounts::accounts(&state.db, &me).await?;
    let name = accounts
        .iter()
        .find(|a| a.id == user)
        .map_or_else(String::new, |a| a.name.clone());
    Ok(UsersPage {
        chrome,
        me: me.id,
        accounts,
        made: Some((name, link)),
        email: String::new(),
        name: String::new(),
    })
}

async fn switch(
    state: &AppState,
    me: &crate::store::users::User,
    session: &Session,
    user: UserId,
    disabled: bool,
) -> Result<Redirect> {
    match accounts::set_disabled(&state.db, me, user, disabled).await {
        Ok(a) if disabled => {
            done(
                session,
                "/admin/users",
                format!("{} is disabled: they cannot sign in, and their sessions and API tokens stop working.", a.name),
            )
            .await
        }
        Ok(a) => done(session, "/admin/users", format!("{} can sign in again.", a.name)).await,
        Err(e) => back_with(session, "/admin/users", e).await,
    }
}

async fn disable_form(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    session: Session,
    Path(user): Path<UserId>,
) -> Result<Redirect> {
    switch(&state, &me, &session, user, true).await
}

async fn enable_form(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    session: Session,
    Path(user): Path<UserId>,
) -> Result<Redirect> {
    switch(&state, &me, &session, user, false).await
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    /// Whose account, or `None` when the link no longer works.
    holder: Option<(String, String)>,
    error: Option<String>,
    min_password: usize,
}

async fn set_password_page(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(secret): Path<String>,
) -> Result<Response> {
    let holder = accounts::link_holder(&state.db, &secret).await?;
    let status = if holder.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok((
        status,
        SetPasswordPage {
            chrome,
            holder: holder.map(|u| (u.name, u.email)),
            error: None,
            min_password: NewPassword::MIN_CHARS,
        },
    )
        .into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    password_again: String,
}

/// Set the password, sign in, and go to the projects.
async fn set_password_form(
    State(state): State<AppState>,
    chrome: Chrome,
    session: Session,
    Path(secret): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let refuse = |holder: Option<(String, String)>, message: String, status: StatusCode| {
        (
            status,
            SetPasswordPage {
                chrome: chrome.clone(),
                holder,
                error: Some(message),
                min_password: NewPassword::MIN_CHARS,
            },
        )
            .into_response()
    };
    let Some(holder) = accounts::link_holder(&state.db, &secret).await? else {
        return Ok(refuse(
            None,
            "This link was already used or has expired.".into(),
            StatusCode::GONE,
        ));
    };
    let who = Some((holder.name.clone(), holder.email.clone()));
    if form.password != form.password_again {
        return Ok(refuse(
            who,
            "The two passwords differ.".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match accounts::set_password_by_link(&state.db, &secret, &form.password).await {
        Ok(user) => {
            super::auth::sign_in(&session, &user).await?;
            Ok(done(
                &session,
                "/projects",
                format!("Welcome, {}. Your password is set.", user.name),
            )
            .await?
            .into_response())
        }
        // Used by someone else a moment ago.
        Err(crate::service::Error::Conflict(m)) => Ok(refuse(None, m, StatusCode::GONE)),
        Err(e) => {
            let e = AppError::from(e);
            Ok(refuse(who, e.to_string(), e.status()))
        }
    }
}
