//! Signing in and out, and the first-run page that creates the first
//! (admin) account while the server has none.

use super::chrome::Chrome;
use super::pages::safe_next;
use crate::app::AppState;
use crate::domain::account::{self, DisplayName, Email, NewPassword};
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, MaybeUser, Query};
use crate::service::accounts::{self, SignIn};
use crate::store;
use crate::store::sessions::USER_KEY;
use crate::store::users::User;
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
        .route("/", get(home))
        .route("/setup", get(show_setup).post(create_first_user))
        .route("/login", get(show_login).post(login))
        .route("/logout", post(logout))
}

/// `/`: your projects, or the way in.
async fn home(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Result<Redirect> {
    Ok(Redirect::to(match user {
        Some(_) => "/projects",
        None if store::users::any_exist(&state.db).await? => "/login",
        None => "/setup",
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    chrome: Chrome,
    error: Option<String>,
    name: String,
    email: String,
    min_password: usize,
}

async fn show_setup(State(state): State<AppState>, chrome: Chrome) -> Result<Response> {
    if store::users::any_exist(&state.db).await? {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(SetupPage {
        chrome,
        error: None,
        name: String::new(),
        email: String::new(),
        min_password: NewPassword::MIN_CHARS,
    }
    .into_response())
}

#[derive(Deserialize)]
struct SetupForm {
    name: String,
    email: String,
    password: String,
    password_again: String,
}

/// The parsed form, or what to tell the user.
fn parse_new_account(form: &SetupForm) -> Result<(DisplayName, Email, NewPassword), AppError> {
    let name = DisplayName::parse(&form.name)?;
    let email = Email::parse(&form.email)?;
    let password = NewPassword::parse(&form.password)?;
    if form.password != form.password_again {
        return Err(AppError::BadRequest("the two passwords differ".into()));
    }
    Ok((name, email, password))
}

async fn create_first_user(
    State(state): State<AppState>,
    chrome: Chrome,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response> {
    let (name, email, password) = match parse_new_account(&form) {
        Ok(parsed) => parsed,
        Err(e) => {
            let page = SetupPage {
                chrome,
                error: Some(e.to_string()),
                name: form.name,
                email: form.email,
                min_password: NewPassword::MIN_CHARS,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let hash = tokio::task::spawn_blocking(move || account::hash_password(&password)).await?;
    match store::users::insert_first(&state.db, &email, &name, &hash).await? {
        Some(user) => {
            sign_in(&session, &user).await?;
            super::pages::done(
                &session,
                "/projects",
                format!("Welcome, {}. Create your first project.", user.name),
            )
            .await
            .map(IntoResponse::into_response)
        }
        // Someone else finished the first-run page first.
        None => Ok(Redirect::to("/login").into_response()),
    }
}

pub(super) async fn sign_in(session: &Session, user: &User) -> Result<()> {
    // A new session id at sign-in defeats session fixation.
    session.cycle_id().await?;
    session.insert(USER_KEY, user.id).await?;
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn show_login(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    if chrome.user.is_some() {
        return Ok(Redirect::to(safe_next(q.next.as_deref())).into_response());
    }
    if !store::users::any_exist(&state.db).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    Ok(LoginPage {
        chrome,
        error: None,
        email: String::new(),
        next: safe_next(q.next.as_deref()).to_owned(),
    }
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    chrome: Chrome,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let next = safe_next(form.next.as_deref()).to_owned();
    let refuse =
        |status: StatusCode, error: String, chrome: Chrome, email: String, next: String| {
            (
                status,
                LoginPage {
                    chrome,
                    error: Some(error),
                    email,
                    next,
                },
            )
                .into_response()
        };

    match accounts::sign_in(&state.db, &form.email, form.password).await? {
        SignIn::Welcome(user) => {
            sign_in(&session, &user).await?;
            Ok(Redirect::to(&next).into_response())
        }
        SignIn::Throttled { minutes } => {
            let mut res = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins for this address. Wait {minutes} minutes, then try again."
                ),
                chrome,
                form.email,
                next,
            );
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (minutes * 60).into());
            Ok(res)
        }
        SignIn::Disabled => Ok(refuse(
            StatusCode::FORBIDDEN,
            "This account is disabled. Ask an administrator to enable it again.".into(),
            chrome,
            form.email,
            next,
        )),
        SignIn::Refused => Ok(refuse(
            StatusCode::UNAUTHORIZED,
            "That e-mail and password do not match an account.".into(),
            chrome,
            form.email,
            next,
        )),
    }
}

async fn logout(session: Session) -> Result<Redirect> {
    session.flush().await?;
    Ok(Redirect::to("/login"))
}
