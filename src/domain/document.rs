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

pub fn title(raw: &str) -> Result<String, ValidationError> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
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
