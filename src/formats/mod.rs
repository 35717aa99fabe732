//! File formats: bytes in, domain values out (and later the reverse). Pure:
//! no database, no HTTP. Each reader returns a [`FormatError`] whose message
//! a researcher can act on.

pub mod agreement_export;
pub mod attributions;
pub mod captions;
pub mod code_report;
pub mod codebook_csv;
pub mod docx;
pub mod joint_export;
pub mod markdown;
pub mod participants_csv;
pub mod plots;
pub mod refi;
pub mod survey_file;
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

/// Bytes the entries read so far from one archive may still inflate to.
/// Each entry is counted as it inflates: its header's size is only a claim.
pub(crate) struct ZipBudget {
    limit: u64,
    left: u64,
    /// What expands ("the document"), and the file as the user knows it
    /// ("the .docx file"), for the messages.
    whole: &'static str,
    file: &'static str,
}

impl ZipBudget {
    pub(crate) fn new(limits: &ZipLimits, whole: &'static str, file: &'static str) -> Self {
        ZipBudget {
            limit: limits.max_total_bytes,
            left: limits.max_total_bytes,
            whole,
            file,
        }
    }

    pub(crate) fn exceeded(&self) -> FormatError {
        FormatError::new(format!(
            "{} expands to more than {}; refusing to read it",
            self.whole,
            describe_bytes(self.limit)
        ))
    }

    /// The bytes of entry `index` (called `name` in messages).
    pub(crate) fn read<R: std::io::Read + std::io::Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        index: usize,
        name: &str,
    ) -> Result<Vec<u8>, FormatError> {
        use std::io::Read;
        let damaged = |e: &dyn std::fmt::Display| {
            FormatError::new(format!(
                "{} is damaged: cannot read {name} ({e})",
                self.file
            ))
        };
        let mut entry = archive.by_index(index).map_err(|e| damaged(&e))?;
        let declared = entry.size();
        if declared > self.left {
            return Err(self.exceeded());
        }
        // The take() stops a lying header from inflating past the cap, and
        // the extra byte tells "exactly at the cap" from "over it".
        let mut bytes = Vec::new();
        (&mut entry)
            .take(self.left.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| damaged(&e))?;
        let actual = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if actual > self.left {
            return Err(self.exceeded());
        }
        self.left -= declared.max(actual);
        Ok(bytes)
    }
}

/// A size as people read it: `256 MiB`, `1.5 MiB`, `1000 bytes`.
pub(crate) fn describe_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}
