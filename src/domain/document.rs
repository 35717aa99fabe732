//! Documents: titles, kinds and dates.

use super::ValidationError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "document_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Interview,
    FocusGroup,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] = [
        DocumentKind::Interview,
        DocumentKind::FocusGroup,
        DocumentKind::Other,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "" | "interview" => Ok(DocumentKind::Interview),
            "focus_group" | "focusgroup" | "fg" => Ok(DocumentKind::FocusGroup),
            "other" => Ok(DocumentKind::Other),
            _ => Err(ValidationError::new(
                "kind",
                "a kind is interview, focus_group or other",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Interview => "interview",
            DocumentKind::FocusGroup => "focus_group",
            DocumentKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Interview => "Interview",
            DocumentKind::FocusGroup => "Focus group",
            DocumentKind::Other => "Other",
        }
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most characters (code points) one document may hold: about 330,000
/// words, some forty hours of talk. A file that would become more is
/// refused before it is stored (a small compressed file can unpack to
/// hundreds of millions of characters).
pub const MAX_CHARS: usize = 2_000_000;
/// The most turns one document may have.
pub const MAX_TURNS: usize = 20_000;
/// The most characters one upload (all its files together) may hold.
pub const MAX_UPLOAD_CHARS: usize = 20_000_000;

/// `1,234,567`: limits as people read them.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Refuse a document's text that is too long or has too many turns.
pub fn check_size(chars: usize, turns: usize) -> Result<(), String> {
    if chars > MAX_CHARS {
        return Err(format!(
            "the document has {} characters; a document holds at most {} (split it into parts)",
            thousands(chars),
            thousands(MAX_CHARS)
        ));
    }
    if turns > MAX_TURNS {
        return Err(format!(
            "the document has {} turns; a document holds at most {} (split it into parts)",
            thousands(turns),
            thousands(MAX_TURNS)
        ));
    }
    Ok(())
}

pub fn title(raw: &str) -> Result<String, ValidationError> {
    let t = super::text::name("title", raw)?;
    match t.chars().count() {
        0 => Err(ValidationError::new("title", "a document needs a title")),
        1..=300 => Ok(t),
        _ => Err(ValidationError::new(
            "title",
            "a title has at most 300 characters",
        )),
    }
}

/// A title from a file name: the name without its folder and extension.
pub fn title_from_filename(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let stem = match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    };
    title(stem).unwrap_or_else(|_| "Untitled".to_owned())
}

/// A date as `YYYY-MM-DD`; empty means none.
pub fn date(raw: &str) -> Result<Option<time::Date>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map(Some)
        .map_err(|_| ValidationError::new("held_on", "write the date as YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_leniently() {
        assert_eq!(
            DocumentKind::parse("Focus group").unwrap(),
            DocumentKind::FocusGroup
        );
        assert_eq!(DocumentKind::parse("").unwrap(), DocumentKind::Interview);
        assert!(DocumentKind::parse("survey").is_err());
    }

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(
            title_from_filename("C:\\data\\Interview 03 (North).docx"),
            "Interview 03 (North)"
        );
        assert_eq!(title_from_filename("fg/carers.v2.txt"), "carers.v2");
        assert_eq!(title_from_filename(".hidden"), ".hidden");
        assert_eq!(title_from_filename(""), "Untitled");
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(
            date("2004-05-12").unwrap().unwrap().to_string(),
            "2004-05-12"
        );
        assert_eq!(date(" ").unwrap(), None);
        assert!(date("12/05/2004").is_err());
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn limits_read_with_thousands_separators() {
        assert_eq!(thousands(2_000_000), "2,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn documents_past_a_limit_are_refused_by_name() {
        assert!(check_size(MAX_CHARS, MAX_TURNS).is_ok());
        assert!(
            check_size(MAX_CHARS + 1, 1)
                .unwrap_err()
                .contains("characters")
        );
        assert!(check_size(10, MAX_TURNS + 1).unwrap_err().contains("turns"));
    }
}
