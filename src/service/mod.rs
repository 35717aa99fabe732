//! The use cases: what a researcher can do with Parley, one module per
//! capability, shared by the three doors (pages in `web`, JSON in `api`,
//! the command line in `cli`). A use case takes the pool (and, for the
//! matrix, the kept attributions), the acting member ([`Access`]) and
//! already-parsed input, and answers domain or store values or an [`Error`]
//! of this layer. Nothing here knows about HTTP: a door maps [`Error`] to
//! its own answer (a status and page, a JSON body, a message and exit code).

pub mod accounts;
pub mod agreement;
pub mod analysis;
pub mod codebook;
pub mod coding;
pub mod documents;
pub mod exchange;
pub mod exports;
pub mod participants;
pub mod projects;
pub mod search;
pub mod surveys;
pub mod texts;
pub mod transcripts;

use crate::domain::ValidationError;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::Role;
use crate::store;
use crate::store::projects::MemberProject;
use crate::store::users::User;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such thing, or not visible to the caller.
    #[error("not found")]
    NotFound,
    /// A member whose role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// A field's value was refused.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// The request makes no sense as sent (no file, a malformed value
    /// that belongs to no single field).
    #[error("{0}")]
    BadRequest(String),
    /// It conflicts with the current state (a name taken, an older version).
    #[error("{0}")]
    Conflict(String),
    /// The work took longer than the server allows a statement.
    #[error(
        "this took longer than the server allows ({}); narrow it (fewer documents, a code branch) or try again later",
        store::STATEMENT_TIMEOUT
    )]
    TooSlow,
    /// The database is not answering; try again.
    #[error("the database is not answering; try again in a moment")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unexpected failure, with its cause.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Error::Internal(err.into())
    }

    /// A refused value of `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid(ValidationError::new(field, message))
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if store::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Error::Unavailable(err.into())
        } else if store::is_timeout(&err) {
            tracing::warn!(error = %err, "a statement timed out");
            Error::TooSlow
        } else if store::is_unstorable_text(&err) {
            Error::invalid(
                "text",
                "the request holds a character that cannot be stored (a NUL, U+0000); remove it",
            )
        } else {
            Error::Internal(err.into())
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        Error::Internal(err.into())
    }
}

impl From<store::codes::CodeError> for Error {
    fn from(err: store::codes::CodeError) -> Self {
        use store::codes::{CodeError, NAME_TAKEN, SHORTCUT_ONE_CHAR, SHORTCUT_TAKEN};
        match err {
            CodeError::NotFound => Error::NotFound,
            CodeError::NoSuchParent => Error::invalid(
                "parent_id",
                "the parent code is not in this project's codebook",
            ),
            e @ (CodeError::Cycle | CodeError::MergeIntoOwnBranch | CodeError::TooDeep) => {
                Error::invalid("parent_id", e.to_string())
            }
            e @ CodeError::Stale { .. } => Error::Conflict(e.to_string()),
            CodeError::Db(e) => match store::violated_constraint(&e) {
                Some(NAME_TAKEN) => Error::Conflict(
                    "a code with this name already exists at this place in the codebook".into(),
                ),
                Some(SHORTCUT_TAKEN) => {
                    Error::Conflict("another code already uses this shortcut key".into())
                }
                Some(SHORTCUT_ONE_CHAR) => {
                    Error::invalid("shortcut", "a shortcut is a single letter or digit")
                }
                _ => e.into(),
            },
        }
    }
}

impl From<store::codings::CodingError> for Error {
    fn from(err: store::codings::CodingError) -> Self {
        use store::codings::CodingError;
        match err {
            CodingError::NotFound => Error::NotFound,
            e @ CodingError::NoSuchDocument(_) => Error::invalid("document_id", e.to_string()),
            e @ CodingError::NoSuchCode(_) => Error::invalid("code_id", e.to_string()),
            e @ CodingError::OutOfRange { .. } => Error::invalid("end", e.to_string()),
            e @ CodingError::NotYours => Error::Forbidden(e.to_string()),
            e @ CodingError::Duplicate => Error::Conflict(e.to_string()),
            CodingError::Db(e) => e.into(),
        }
    }
}

/// Who acts, in which project, with which role: established by a door
/// (a membership lookup) before a use case runs.
#[derive(Debug, Clone)]
pub struct Access {
    pub user: User,
    pub project: MemberProject,
}

impl Access {
    pub fn id(&self) -> ProjectId {
        self.project.project.id
    }

    pub fn user_id(&self) -> UserId {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.project.role
    }

    pub fn is_owner(&self) -> bool {
        self.role() == Role::Owner
    }

    /// Whose codings this member may see: `Some(themselves)` while coding
    /// is blind and they are not an owner, `None` (everyone's) otherwise.
    pub fn sees_only(&self) -> Option<UserId> {
        (self.project.settings.blind && !self.is_owner()).then_some(self.user.id)
    }

    /// A coder filter as asked, narrowed by blind coding: while it is on, a
    /// coder or viewer who asks for no coder gets their own codings, and
    /// asking for someone else's is refused.
    pub fn coder_scope(&self, asked: Option<UserId>) -> Result<Option<UserId>> {
        match (self.sees_only(), asked) {
            (None, asked) => Ok(asked),
            (Some(me), None) => Ok(Some(me)),
            (Some(me), Some(asked)) if asked == me => Ok(Some(me)),
            (Some(_), Some(_)) => Err(Error::Forbidden(BLIND.into())),
        }
    }

    /// Whether this member may see a coding by `coder`.
    pub fn may_see(&self, coder: UserId) -> bool {
        self.sees_only().is_none_or(|me| me == coder)
    }

    /// Refuse a member below `role`, saying why.
    pub fn require(&self, role: Role, refused: &str) -> Result<()> {
        if self.role() < role {
            return Err(Error::Forbidden(refused.into()));
        }
        Ok(())
    }
}

/// Why another coder's codings are not shown.
pub const BLIND: &str =
    "coding is blind in this project: you see only your own codings until an owner switches it off";

/// For `Option<Option<T>>` fields: `Some(None)` for an explicit `null`,
/// `None` when the field is absent (use with `#[serde(default)]`).
pub fn explicit<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// A yes/no filter as links and forms write it: `true`/`false`, `1`/`0`,
/// `yes`/`no`, `on`/`off` (a ticked checkbox), or a JSON boolean.
pub fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" | "" => Ok(false),
                _ => Err(E::custom(format!("expected true or false, not {v:?}"))),
            }
        }
    }
    d.deserialize_any(Flag)
}

/// The bytes of a CSV written in memory.
pub fn csv_bytes(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>> {
    w.into_inner()
        .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))
}

/// `1 code` / `3 codes`: a count with its noun, for messages.
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let word = if n == N::from(1) { one } else { many };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_their_noun() {
        assert_eq!(plural(1, "code", "codes"), "1 code");
        assert_eq!(plural(0, "code", "codes"), "0 codes");
        assert_eq!(plural(12usize, "coding", "codings"), "12 codings");
    }

    #[test]
    fn internal_errors_keep_their_cause() {
        let err = Error::internal(anyhow::anyhow!("relation \"x\" does not exist"));
        let source = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("relation \"x\" does not exist"));
    }
}
