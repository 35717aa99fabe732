//! File formats: bytes in, domain values out (and later the reverse). Pure:
//! no database, no HTTP. Each reader returns a [`FormatError`] whose message
//! a researcher can act on.

pub mod captions;
pub mod codebook_csv;
pub mod docx;
pub mod participants_csv;
pub mod refi;
pub mod theme_export;

use crate::domain::turns::Turn;

/// Why a file could not be read. The message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

impl FormatError {
    pub fn new(message: impl Into<String>) -> Self {
        FormatError(message.into())
    }
}

/// A transcript read from captions: its text, and the turns the cues made.
/// Positions are code points into `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptionTranscript {
    pub text: String,
    pub turns: Vec<Turn>,
}

/// Caps for reading zip archives (`.docx`, later `.qdpx`), checked before and
/// while inflating so a small hostile file cannot exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    /// Most entries an archive may list.
    pub max_entries: usize,
    /// Most bytes all the entries that are read may inflate to, in total.
    pub max_total_bytes: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_entries: 10_000,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}
