//! Pure logic and the types that carry meaning through the app. No I/O here:
//! nothing in `domain` knows about sqlx, axum or askama.

pub mod account;
pub mod error;
pub mod ids;
pub mod project;

pub use error::ValidationError;
