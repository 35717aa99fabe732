//! The extractors of both HTTP doors. Body and path extractors wrap axum's so that a rejection
//! is an [`AppError`] (JSON under /api, a page elsewhere). Access control is
//! here too, in one place: [`CurrentUser`] says who is asking, and
//! [`ProjectAccess`] says what they may do in the project named by the path's
//! `{project_id}` — a handler that takes one cannot forget to check.

use super::askers::Askers;
use super::error::{AppError, Result};
use crate::app::AppState;
use crate::domain::account::token_hash;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::Role;
use crate::service::Access;
use crate::store;
use crate::store::sessions::USER_KEY;
use crate::store::users::User;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;
use tower_sessions::Session;

/// JSON body in, JSON out; a bad body is a 400/415/422 JSON error.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A urlencoded form body.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

/// Path parameters; one that does not parse is a 404.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Query parameters; bad ones are a 400.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// The signed-in user: from an API token (`Authorization: Bearer …`) or
/// from the browser session. Rejects with 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(found) = parts.extensions.get::<CurrentUser>() {
            return Ok(found.clone());
        }
        let user = match credential(parts, state).await? {
            Credential::Token(hash) => store::tokens::user_for(&state.db, &hash).await?,
            Credential::Session(id) => store::users::get(&state.db, id).await?,
        };
        let user = CurrentUser(user.ok_or(AppError::Unauthorized)?);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// What a request says about who sends it: an API token's hash, or the
/// user id its session holds.
enum Credential {
    Token(Vec<u8>),
    Session(UserId),
}

/// The request's credential; 401 without one (or with a malformed
/// `Authorization`).
async fn credential(parts: &mut Parts, state: &AppState) -> Result<Credential> {
    match parts.headers.get(AUTHORIZATION) {
        Some(value) => {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .ok_or(AppError::Unauthorized)?;
            Ok(Credential::Token(token_hash(token)))
        }
        None => {
            let session = session(parts, state).await?;
            match session.get::<UserId>(USER_KEY).await? {
                Some(id) => {
                    keep_alive(&session).await?;
                    Ok(Credential::Session(id))
                }
                None => Err(AppError::Unauthorized),
            }
        }
    }
}

/// The session key holding the day a signed-in session was last seen.
const SEEN_KEY: &str = "seen_day";

/// Sessions end after two weeks without use. A request changes nothing in
/// the session, so nothing is written — except once a day, when the day it
/// was last seen is noted, which writes the record and moves its expiry on.
async fn keep_alive(session: &Session) -> Result<()> {
    let today = time::OffsetDateTime::now_utc().unix_timestamp() / 86_400;
    if session.get::<i64>(SEEN_KEY).await? != Some(today) {
        session.insert(SEEN_KEY, today).await?;
    }
    Ok(())
}

/// The signed-in user if there is one (pages that anyone may see).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(CurrentUser(user)) => Ok(MaybeUser(Some(user))),
            Err(AppError::Unauthorized) => Ok(MaybeUser(None)),
            Err(other) => Err(other),
        }
    }
}

pub async fn session(parts: &mut Parts, state: &AppState) -> Result<Session> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, msg)| AppError::internal(anyhow::anyhow!("session layer missing: {msg}")))
}

/// The least role an extractor demands.
pub trait MinRole: Send + Sync + 'static {
    const ROLE: Role;
    const REFUSED: &'static str;
}

/// Role markers for [`ProjectAccess`].
pub mod need {
    use super::{MinRole, Role};

    /// Any member: reading.
    pub struct Member;
    /// Coders and owners: changing the project's content.
    pub struct Coder;
    /// Owners: members, settings, deleting.
    pub struct Owner;

    impl MinRole for Member {
        const ROLE: Role = Role::Viewer;
        const REFUSED: &'static str = "members only";
    }
    impl MinRole for Coder {
        const ROLE: Role = Role::Coder;
        const REFUSED: &'static str = "viewers can read this project but not change it";
    }
    impl MinRole for Owner {
        const ROLE: Role = Role::Owner;
        const REFUSED: &'static str = "only an owner of the project can do this";
    }
}

/// The project named by `{project_id}` in the path, for a user who holds at
/// least role `R` in it. Not a member (or no such project, or an id that is
/// not a number): 404, so ids reveal nothing. A member below `R`: 403.
/// Derefs to the use cases' [`Access`].
pub struct ProjectAccess<R: MinRole = need::Member> {
    access: Access,
    role: PhantomData<R>,
}

impl<R: MinRole> ProjectAccess<R> {
    pub fn into_inner(self) -> Access {
        self.access
    }
}

impl<R: MinRole> std::ops::Deref for ProjectAccess<R> {
    type Target = Access;

    fn deref(&self) -> &Access {
        &self.access
    }
}

impl<R: MinRole> FromRequestParts<AppState> for ProjectAccess<R> {
    type Rejection = AppError;

    /// Who asks and their role in the project are read in one round trip
    /// (after the session's own, for a browser).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let asker = Asker::of(parts, state).await?;
        let access = asker
            .check::<R>(state.db.clone(), state.askers.clone())
            .await?;
        parts
            .extensions
            .insert(CurrentUser(access.access.user.clone()));
        Ok(access)
    }
}

/// The project named by the path, its access (as for [`ProjectAccess`])
/// being checked while the handler starts on a read that needs only the
/// project's id: [`Checking::alongside`] runs both at once — the check's
/// round trip no longer comes before the data's — and hands the read over
/// only to someone the check lets in.
pub struct Checking<R: MinRole = need::Member> {
    project: ProjectId,
    check: std::pin::Pin<Box<dyn Future<Output = Result<ProjectAccess<R>>> + Send>>,
}

impl<R: MinRole> Checking<R> {
    /// The project the path names (not yet known to be theirs).
    pub fn project(&self) -> ProjectId {
        self.project
    }

    /// Run `read` alongside the check. A refusal wins over whatever the
    /// read found; the read's own error comes second.
    pub async fn alongside<T, E>(
        self,
        read: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<(ProjectAccess<R>, T)>
    where
        AppError: From<E>,
    {
        let (access, read) = tokio::join!(self.check, read);
        Ok((access?, read?))
    }
}

impl<R: MinRole + 'static> FromRequestParts<AppState> for Checking<R> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let asker = Asker::of(parts, state).await?;
        let project = asker.project;
        let (db, askers) = (state.db.clone(), state.askers.clone());
        Ok(Checking {
            project,
            check: Box::pin(asker.check::<R>(db, askers)),
        })
    }
}

/// Who a request says it comes from, and the project its path names.
struct Asker {
    known: Option<User>,
    credential: Option<Credential>,
    project: ProjectId,
}

impl Asker {
    /// No credential: 401; a project id that is not a number: 404.
    async fn of(parts: &mut Parts, state: &AppState) -> Result<Asker> {
        let known = parts
            .extensions
            .get::<CurrentUser>()
            .map(|CurrentUser(user)| user.clone());
        let credential = match known {
            Some(_) => None,
            None => Some(credential(parts, state).await?),
        };
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let project: ProjectId = params
            .iter()
            .find(|(name, _)| *name == "project_id")
            .and_then(|(_, value)| value.parse().ok())
            .ok_or(AppError::NotFound)?;
        Ok(Asker {
            known,
            credential,
            project,
        })
    }

    /// Their role in the project, at least `R`. Not a member (or no such
    /// project): 404; a member below `R`: 403.
    async fn check<R: MinRole>(
        self,
        db: sqlx::PgPool,
        askers: Arc<Askers>,
    ) -> Result<ProjectAccess<R>> {
        let id = self.project;
        let (user, project) = match (self.known, self.credential) {
            (Some(user), _) => {
                let project = store::projects::get_for_member(&db, id, user.id).await?;
                (user, project)
            }
            (None, Some(Credential::Token(hash))) => match askers.get(&hash, id) {
                Some(found) => found,
                None => {
                    let began = askers.begin();
                    let found = store::projects::access_by_token(&db, &hash, id)
                        .await?
                        .ok_or(AppError::Unauthorized)?;
                    askers.keep(began, &hash, id, &found);
                    found
                }
            },
            (None, Some(Credential::Session(user))) => {
                store::projects::access_by_user(&db, user, id)
                    .await?
                    .ok_or(AppError::Unauthorized)?
            }
            (None, None) => return Err(AppError::Unauthorized),
        };
        let project = project.ok_or(AppError::NotFound)?;
        if project.role < R::ROLE {
            return Err(AppError::Forbidden(R::REFUSED.into()));
        }
        Ok(ProjectAccess {
            access: Access { user, project },
            role: PhantomData,
        })
    }
}
