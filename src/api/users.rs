//! `/api/v1/users`: accounts, for administrators. A new account comes with
//! a one-time link to set its password (hand it over; no e-mail needed).

use crate::app::AppState;
use crate::domain::ids::UserId;
use crate::http::error::Result;
use crate::http::extract::{CurrentUser, Json, Path};
use crate::service::accounts::{self, PasswordLink};
use crate::store::users::Account;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, patch, post};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{user_id}", patch(update))
        .route("/users/{user_id}/password-link", post(new_link))
}

#[derive(Debug, Serialize)]
struct User {
    id: UserId,
    email: String,
    name: String,
    is_admin: bool,
    disabled: bool,
    has_password: bool,
    projects: i64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
}

impl From<Account> for User {
    fn from(a: Account) -> Self {
        User {
            id: a.id,
            email: a.email,
            name: a.name,
            is_admin: a.is_admin,
            disabled: a.disabled,
            has_password: a.has_password,
            projects: a.projects,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize)]
struct Users {
    items: Vec<User>,
    total: usize,
}

async fn list(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> Result<Json<Users>> {
    let items: Vec<User> = accounts::accounts(&state.db, &me)
        .await?
        .into_iter()
        .map(User::from)
        .collect();
    Ok(Json(Users {
        total: items.len(),
        items,
    }))
}

#[derive(Debug, Serialize)]
struct Link {
    /// The one-time link, whole: the server's public address (or, without
    /// `PARLEY_PUBLIC_URL`, the address this request was sent to) and
    /// `set_password_path`.
    set_password_url: String,
    set_password_path: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
}

impl Link {
    fn new(state: &AppState, headers: &HeaderMap, l: PasswordLink) -> Self {
        let origin = match state.config.public_url.as_deref() {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1");
                format!("http://{host}")
            }
        };
        Link {
            set_password_url: format!("{origin}{}", l.path),
            set_password_path: l.path,
            expires_at: l.expires_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    name: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Serialize)]
struct Created {
    user: User,
    #[serde(flatten)]
    link: Link,
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    headers: HeaderMap,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<Created>)> {
    let (user, link) =
        accounts::create_account(&state.db, &me, &body.email, &body.name, body.admin).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            user: user.into(),
            link: Link::new(&state, &headers, link),
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    disabled: bool,
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(user): Path<UserId>,
    Json(body): Json<Change>,
) -> Result<Json<User>> {
    Ok(Json(
        accounts::set_disabled(&state.db, &me, user, body.disabled)
            .await?
            .into(),
    ))
}

async fn new_link(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    headers: HeaderMap,
    Path(user): Path<UserId>,
) -> Result<(StatusCode, Json<Link>)> {
    let link = accounts::password_link(&state.db, &me, user).await?;
    Ok((StatusCode::CREATED, Json(Link::new(&state, &headers, link))))
}
