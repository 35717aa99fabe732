//! Projects and their members: who may join, change role or leave, and
//! the rule that a project keeps at least one owner.

use super::{Access, Error, Result};
use crate::domain::ValidationError;
use crate::domain::account::Email;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::Role;
use crate::store;
use crate::store::members::{Change, Member};
use sqlx::PgPool;

/// Add the account with this e-mail to the project.
pub async fn add_member(
    db: &PgPool,
    project: ProjectId,
    email: &str,
    role: &str,
) -> Result<Member> {
    let role = Role::parse(role)?;
    let email = Email::parse(email)?;
    let user = store::users::by_email(db, email.as_str())
        .await?
        .ok_or_else(|| {
            ValidationError::new(
                "email",
                format!(
                    "No account uses {} yet — an administrator can create one on the Accounts page.",
                    email.as_str()
                ),
            )
        })?;
    if let Err(e) = store::members::add(db, project, user.id, role).await {
        return Err(match store::violated_constraint(&e) {
            Some(store::members::ALREADY_MEMBER) => Error::Conflict(format!(
                "{} is already a member of this project",
                user.email
            )),
            _ => e.into(),
        });
    }
    store::members::get(db, project, user.id)
        .await?
        .ok_or(Error::NotFound)
}

const LAST_OWNER: &str = "a project must keep at least one owner: make someone else owner first";

pub async fn change_role(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    role: &str,
) -> Result<Member> {
    let role = Role::parse(role)?;
    match store::members::set_role(db, project, user, role).await? {
        Change::Done => store::members::get(db, project, user)
            .await?
            .ok_or(Error::NotFound),
        Change::NotMember => Err(Error::NotFound),
        Change::LastOwner => Err(Error::Conflict(LAST_OWNER.into())),
    }
}

/// Owners remove anyone; any member may remove themselves (leave).
pub async fn remove_member(db: &PgPool, access: &Access, user: UserId) -> Result<()> {
    if user != access.user.id && access.role() != Role::Owner {
        return Err(Error::Forbidden(
            "only an owner of the project can remove other members".into(),
        ));
    }
    match store::members::remove(db, access.id(), user).await? {
        Change::Done => Ok(()),
        Change::NotMember => Err(Error::NotFound),
        Change::LastOwner => Err(Error::Conflict(LAST_OWNER.into())),
    }
}
