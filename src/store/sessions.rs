//! Browser sessions, stored for `tower-sessions`. The record's id goes in a
//! text column (it is an i128, which JSON numbers cannot hold) and its data
//! as jsonb, so other queries can find a user's sessions.

use crate::domain::ids::UserId;
use async_trait::async_trait;
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";

#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Remove sessions past their expiry; the server calls this now and then.
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        let done = sqlx::query!("delete from session where expiry < now()")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(err: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn encode(record: &Record) -> session_store::Result<serde_json::Value> {
    serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A fresh random id colliding is astronomically unlikely; if it ever
        // happens, draw another rather than overwrite someone's session.
        loop {
            let done = sqlx::query!(
                r#"
                insert into session (session_id, data, expiry)
                values ($1, $2, $3)
                on conflict (session_id) do nothing
                "#,
                record.id.to_string(),
                data,
                record.expiry_date
            )
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Save an existing session: an update, never an insert, so a session
    /// deleted meanwhile (signed out, or signed out by a password change
    /// elsewhere) stays deleted when a request that loaded it before
    /// finishes. New sessions come through [`SessionStore::create`].
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query!(
            r#"
            update session set data = $2, expiry = $3
            where session_id = $1
            "#,
            record.id.to_string(),
            encode(record)?,
            record.expiry_date
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query!(
            r#"
            select data, expiry
            from session
            where session_id = $1 and expiry > now()
            "#,
            id.to_string()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|r| {
            Ok(Record {
                id: *id,
                data: serde_json::from_value(r.data)
                    .map_err(|e| session_store::Error::Decode(e.to_string()))?,
                expiry_date: r.expiry,
            })
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!("delete from session where session_id = $1", id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Sign a user out everywhere but the current session (after a password
/// change).
pub async fn delete_other_sessions(
    pool: &PgPool,
    user: UserId,
    keep: Option<Id>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"
        delete from session
        where data ->> 'user_id' = $1::bigint::text
          and ($2::text is null or session_id <> $2)
        "#,
        user as UserId,
        keep.map(|id| id.to_string())
    )
    .execute(pool)
    .await?;
    Ok(())
}
