//! Importing transcripts: read a file (or posted text), split it into turns,
//! map its speakers, and store it whole. The pages, the JSON API and the CLI
//! all import through here, so a file reads the same whichever door it uses.

use crate::domain::document::{self, DocumentKind};
use crate::domain::ids::{DocumentId, ParticipantId, ProjectId, UserId};
use crate::domain::participant::Attributes;
use crate::domain::speakers;
use crate::domain::text;
use crate::domain::turns::{self, Turn};
use crate::formats::{self, ZipLimits};
use crate::store;
use crate::store::documents::NewDocument;
use sqlx::PgPool;

/// What Parley reads, for error messages.
pub const SUPPORTED: &str =
    "plain text (.txt), Markdown (.md), Word (.docx), WebVTT (.vtt) and SubRip (.srt)";

/// Why one file was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Not a format Parley reads (415).
    #[error("{0}")]
    Unsupported(String),
    /// A supported format, but the content cannot be used (422).
    #[error("{0}")]
    Invalid(String),
}

/// A transcript read and split, not yet stored.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub text: String,
    pub turns: Vec<Turn>,
    pub format: &'static str,
}

/// Read an uploaded file by its name's extension (or, without one, by its
/// first bytes).
pub fn read_file(filename: &str, bytes: &[u8]) -> Result<Transcript, ImportError> {
    let ext = extension(filename);
    let format = match ext.as_deref() {
        Some("txt" | "text") => "txt",
        Some("md" | "markdown") => "md",
        Some("docx") => "docx",
        Some("vtt") => "vtt",
        Some("srt") => "srt",
        None if bytes.starts_with(b"PK\x03\x04") => "docx",
        None if sniff_vtt(bytes) => "vtt",
        None => "txt",
        Some(other) => {
            let hint = match other {
                "doc" => " Open it in Word and save it as .docx.",
                "pdf" => " Copy its text into a .txt file, or export it from Word as .docx.",
                "rtf" | "odt" | "pages" => " Save it as .docx or .txt.",
                _ => "",
            };
            return Err(ImportError::Unsupported(format!(
                "Parley cannot read .{other} files. It reads {SUPPORTED}.{hint}"
            )));
        }
    };
    // A character is at most four bytes in UTF-8 (and in UTF-16): a text
    // file larger than that many bytes holds too many characters, which is
    // known before decoding it.
    if format != "docx" && bytes.len() > 4 * document::MAX_CHARS {
        return Err(ImportError::Invalid(format!(
            "the file has more than {} characters; a document holds at most that many \
             (split it into parts)",
            document::thousands(document::MAX_CHARS)
        )));
    }
    let read = match format {
        "docx" => {
            let raw = formats::docx::read(bytes, &ZipLimits::default())
                .map_err(|e| ImportError::Invalid(e.to_string()))?;
            from_text(&text::normalise(&raw), format)
        }
        "vtt" | "srt" => {
            let decoded = decoded(bytes)?;
            let captions = if format == "vtt" {
                formats::captions::read_vtt(&decoded)
            } else {
                formats::captions::read_srt(&decoded)
            }
            .map_err(|e| ImportError::Invalid(e.to_string()))?;
            Ok(Transcript {
                text: captions.text,
                turns: captions.turns,
                format,
            })
        }
        _ => from_text(&decoded(bytes)?, format),
    }?;
    checked(read)
}

/// Read text posted as JSON.
pub fn read_text(raw: &str) -> Result<Transcript, ImportError> {
    checked(from_text(&text::normalise(raw), "json")?)
}

/// The text's turns, refused past [`document::MAX_TURNS`] before they are
/// all built.
pub fn bounded_turns(text: &str) -> Result<Vec<Turn>, ImportError> {
    turns::parse_at_most(text, document::MAX_TURNS).ok_or_else(|| {
        ImportError::Invalid(format!(
            "the document has more than {} turns; a document holds at most that many \
             (split it into parts)",
            document::thousands(document::MAX_TURNS)
        ))
    })
}

/// A transcript within the size limits of a document.
pub fn checked(t: Transcript) -> Result<Transcript, ImportError> {
    document::check_size(t.text.chars().count(), t.turns.len()).map_err(ImportError::Invalid)?;
    Ok(t)
}

fn decoded(bytes: &[u8]) -> Result<String, ImportError> {
    text::decode_normalised(bytes).map_err(|e| match e {
        text::TextError::Binary => ImportError::Unsupported(format!(
            "this is not a text file. Parley reads {SUPPORTED}."
        )),
        other => ImportError::Invalid(other.to_string()),
    })
}

fn from_text(text: &str, format: &'static str) -> Result<Transcript, ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Invalid("the document has no text".into()));
    }
    Ok(Transcript {
        turns: bounded_turns(text)?,
        text: text.to_owned(),
        format,
    })
}

fn extension(filename: &str) -> Option<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    match base.rfind('.') {
        Some(i) if i > 0 && i + 1 < base.len() => Some(base[i + 1..].to_lowercase()),
        _ => None,
    }
}

fn sniff_vtt(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    b.starts_with(b"WEBVTT")
}

/// How to file an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub title: Option<String>,
    pub kind: Option<DocumentKind>,
    pub held_on: Option<time::Date>,
    pub attributes: Attributes,
    /// The participant of a one-to-one interview: every speaker that is not
    /// the interviewer is mapped to them.
    pub participant: Option<ParticipantId>,
}

/// Store a read transcript as a new document of `project`, with its
/// speakers mapped automatically. All or nothing.
pub async fn store(
    db: &PgPool,
    project: ProjectId,
    user: Option<UserId>,
    filename: Option<&str>,
    mut transcript: Transcript,
    options: &ImportOptions,
) -> Result<DocumentId, sqlx::Error> {
    let participants = {
        let mut conn = db.acquire().await?;
        store::participants::labels(&mut conn, project).await?
    };
    // A one-to-one interview with no speaker labels at all: the whole text
    // is the named participant's single turn.
    let named = options
        .participant
        .and_then(|p| participants.iter().find(|(id, _)| *id == p));
    if let (true, Some((_, label))) = (transcript.turns.is_empty(), named) {
        transcript.turns.push(Turn {
            speaker: Some(label.clone()),
            start: 0,
            end: transcript.text.chars().count(),
            time_ms: None,
        });
    }
    let mut labels: Vec<String> = Vec::new();
    for t in &transcript.turns {
        if let Some(s) = t.speaker.as_ref().filter(|s| !labels.contains(s)) {
            labels.push(s.clone());
        }
    }
    let mappings = speakers::auto_map(&labels, &participants, options.participant);
    let title = options.title.clone().unwrap_or_else(|| {
        filename
            .map(document::title_from_filename)
            .unwrap_or_else(|| "Untitled".into())
    });
    let kind = options.kind.unwrap_or(
        if labels
            .iter()
            .filter(|l| !speakers::is_interviewer_label(l))
            .count()
            >= 2
        {
            DocumentKind::FocusGroup
        } else {
            DocumentKind::Interview
        },
    );
    let new = NewDocument {
        title,
        kind,
        held_on: options.held_on,
        attributes: options.attributes.clone(),
        original_filename: filename.map(str::to_owned),
        source_format: transcript.format,
        text: transcript.text,
        turns: transcript.turns,
        speakers: mappings,
    };
    store::documents::insert(db, project, user, &new).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_formats_name_what_is_supported() {
        for name in ["report.pdf", "old.doc", "sheet.xlsx"] {
            match read_file(name, b"whatever") {
                Err(ImportError::Unsupported(m)) => {
                    assert!(m.contains(".docx") && m.contains(".vtt"), "{m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn text_files_are_split_into_turns() {
        let t = read_file("a.TXT", "Interviewer: Hi\r\nP1: Hello\r\n".as_bytes()).unwrap();
        assert_eq!(t.text, "Interviewer: Hi\nP1: Hello");
        assert_eq!(t.turns.len(), 2);
        assert_eq!(t.format, "txt");
    }

    #[test]
    fn binary_empty_and_non_utf8_files_are_refused() {
        assert!(matches!(
            read_file("x.txt", b"\x00\x01\x02\x03"),
            Err(ImportError::Unsupported(_))
        ));
        assert!(matches!(
            read_file("x.txt", b"   \n"),
            Err(ImportError::Invalid(_))
        ));
        assert!(
            matches!(read_file("x.md", b"caf\xe9"), Err(ImportError::Invalid(m)) if m.contains("UTF-8"))
        );
        assert!(matches!(
            read_file("x.docx", b"not a zip"),
            Err(ImportError::Invalid(_))
        ));
    }

    #[test]
    fn files_without_extension_are_sniffed() {
        assert_eq!(
            read_file("captions", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi")
                .unwrap()
                .format,
            "vtt"
        );
        assert_eq!(read_file("notes", b"P1: hi").unwrap().format, "txt");
    }

    #[test]
    fn text_past_the_character_cap_is_refused_before_decoding() {
        let big = vec![b'a'; 4 * document::MAX_CHARS + 1];
        for name in ["big.txt", "big.vtt", "big.srt", "big"] {
            match read_file(name, &big) {
                Err(ImportError::Invalid(m)) => assert!(m.contains("characters"), "{m}"),
                _ => panic!("{name} was read"),
            }
        }
        let fits = "P1: word\n".repeat(1000);
        assert!(read_file("ok.txt", fits.as_bytes()).is_ok());
    }
}
