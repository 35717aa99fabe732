//! Pure logic and the types that carry meaning through the app. No I/O here:
//! nothing in `domain` queries a database or speaks HTTP (value types derive
//! `serde` and `sqlx::Type` so the other layers can carry them as they are).

pub mod account;
pub mod agreement;
pub mod attribution;
pub mod code;
pub mod document;
pub mod error;
pub mod ids;
pub mod matrix;
pub mod participant;
pub mod project;
pub mod questionnaire;
pub mod search;
pub mod speakers;
pub mod survey;
pub mod text;
pub mod turns;

pub use error::ValidationError;
