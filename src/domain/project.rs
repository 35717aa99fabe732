//! Projects and the roles people hold in them.

use super::ValidationError;
use serde::{Deserialize, Serialize};

/// A project's name: what the researcher sees in every list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = super::text::name("name", raw)?;
        if name.is_empty() {
            return Err(ValidationError::new("name", "a project needs a name"));
        }
        if name.chars().count() > 200 {
            return Err(ValidationError::new(
                "name",
                "a project name has at most 200 characters",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A project's free-text description (aims, ethics reference, ...).
pub fn description(raw: &str) -> Result<String, ValidationError> {
    let text = super::text::free_text("description", raw)?;
    let text = text.trim();
    if text.chars().count() > 10_000 {
        return Err(ValidationError::new(
            "description",
            "a description has at most 10,000 characters",
        ));
    }
    Ok(text.to_owned())
}

/// What a member may do in a project. Ordered: each role can do everything
/// the roles before it can.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "project_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Codes transcripts, edits the codebook and documents.
    Coder,
    /// Everything, including members and deleting the project.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Coder, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Coder => "coder",
            Role::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "coder" => Ok(Role::Coder),
            "owner" => Ok(Role::Owner),
            _ => Err(ValidationError::new(
                "role",
                "a role is one of owner, coder or viewer",
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Viewer < Role::Coder && Role::Coder < Role::Owner);
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!(Role::parse(" Coder ").unwrap(), Role::Coder);
        assert!(Role::parse("admin").is_err());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
    }

    #[test]
    fn project_names_are_trimmed_and_required() {
        assert_eq!(
            ProjectName::parse("  Partnerships ").unwrap().as_str(),
            "Partnerships"
        );
        assert!(ProjectName::parse(" \n ").is_err());
        assert!(ProjectName::parse(&"p".repeat(201)).is_err());
    }

    #[test]
    fn descriptions_are_bounded() {
        assert_eq!(description("  aims  ").unwrap(), "aims");
        assert!(description(&"d".repeat(10_001)).is_err());
    }
}
