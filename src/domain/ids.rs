//! Typed ids, so a user id can never be passed where a project id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A person who can sign in.
    UserId
);
id_type!(
    /// A project: one study's transcripts, codebook and codings.
    ProjectId
);
id_type!(
    /// An API token (its id, not its secret).
    TokenId
);
id_type!(
    /// A stakeholder group of a project (Staff, Service user, Carer, ...).
    GroupId
);
id_type!(
    /// A participant (case) of a project.
    ParticipantId
);
id_type!(
    /// A transcript or other document of a project.
    DocumentId
);
id_type!(
    /// A code (theme) in a project's codebook.
    CodeId
);
id_type!(
    /// One application of a code to a range of a document by a coder.
    CodingId
);
