//! Codes (themes) and their fields, and the paths that name them in a tree
//! (`Inpatient frames / Sanctuary`).

use super::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a path's parts are joined and split: `Parent / Child`. Spaces around
/// the slash, so a name such as "Staff/carer relations" stays one name.
pub const PATH_SEPARATOR: &str = " / ";

/// The most levels a codebook may have (a top-level code and 19 levels of
/// sub-codes). Real codebooks use three to six; the cap keeps every walk
/// over a tree — pages, exports, imports — small and bounded.
pub const MAX_LEVELS: usize = 20;

/// Refuse a code that would sit below [`MAX_LEVELS`] levels.
pub fn too_deep(field: &'static str) -> ValidationError {
    ValidationError::new(
        field,
        format!("a codebook has at most {MAX_LEVELS} levels; this would put a code deeper"),
    )
}

/// Colours offered to new codes, in order: Kenneth Kelly's 22 colours of
/// maximum contrast (Kelly, "Twenty-two colors for maximum contrast",
/// *Color Engineering* 3(6), 1965), without white and black, in Kelly's
/// order — chosen so that each colour differs as much as possible from all
/// before it, alternating light and dark so that neighbours stay apart for
/// readers with the common red–green colour-blindnesses too — except that
/// Kelly's first, yellow, comes last, being faint as a line on white. The
/// coding page adds a second cue beside hue (solid, dashed or dotted
/// lines) for codes whose colours a reader cannot tell apart.
pub const PALETTE: [&str; 20] = [
    "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280", "#848482", "#008856", "#e68fac",
    "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300", "#882d17", "#8db600",
    "#654522", "#e25822", "#2b3d26", "#f3c300",
];

/// The colour for the `n`th code of a project.
pub fn palette_colour(n: usize) -> Colour {
    Colour(PALETTE[n % PALETTE.len()].to_owned())
}

/// A code's name: trimmed, inner runs of white space made one space, 1–200
/// characters, and without the path separator (it would make paths
/// ambiguous).
pub fn name(raw: &str) -> Result<String, ValidationError> {
    let name = super::text::name("name", raw)?;
    if name.is_empty() {
        return Err(ValidationError::new("name", "a code needs a name"));
    }
    if name.chars().count() > 200 {
        return Err(ValidationError::new(
            "name",
            "a code name has at most 200 characters",
        ));
    }
    if name.contains(PATH_SEPARATOR) {
        return Err(ValidationError::new(
            "name",
            format!(
                "a code name cannot contain “{}”, which separates a code from its parent in paths",
                PATH_SEPARATOR.trim()
            ),
        ));
    }
    Ok(name)
}

/// A long text field of a code (definition, inclusion, exclusion, example)
/// or a memo: trimmed at the ends, line breaks kept, at most 20,000
/// characters.
pub fn long_text(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let text = super::text::free_text(field, raw)?;
    let text = text.trim();
    if text.chars().count() > 20_000 {
        return Err(ValidationError::new(
            field,
            "this text has more than 20,000 characters",
        ));
    }
    Ok(text.to_owned())
}

/// A colour as `#rrggbb`, lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct Colour(String);

impl Colour {
    /// Accepts `#rrggbb`, `rrggbb` and `#rgb`, any case.
    pub fn parse(raw: &str) -> Result<Colour, ValidationError> {
        let hex = raw.trim().trim_start_matches('#');
        let bad = || {
            ValidationError::new(
                "colour",
                format!(
                    "“{}” is not a colour; write it as #rrggbb, e.g. #4e79a7",
                    raw.trim()
                ),
            )
        };
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let full = match hex.len() {
            6 => hex.to_ascii_lowercase(),
            3 => hex
                .chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase(),
            _ => return Err(bad()),
        };
        Ok(Colour(format!("#{full}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Red, green and blue, 0–255.
    pub fn rgb(&self) -> (u8, u8, u8) {
        let byte = |i: usize| u8::from_str_radix(&self.0[i..i + 2], 16).unwrap_or(0);
        (byte(1), byte(3), byte(5))
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A shortcut key: one letter or digit, stored lower case. Empty means none.
pub fn shortcut(raw: &str) -> Result<Option<String>, ValidationError> {
    let raw = raw.trim();
    let mut chars = raw.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        // A key whose lower case is one character ("İ" is two).
        (Some(c), None) if c.is_alphanumeric() && c.to_lowercase().count() == 1 => {
            Ok(Some(c.to_lowercase().collect()))
        }
        _ => Err(ValidationError::new(
            "shortcut",
            "a shortcut is a single letter or digit",
        )),
    }
}

/// Split a path written by a person or another tool into trimmed names.
/// `" / "` separates levels; so does `::` (how some tools flatten trees).
pub fn split_path(path: &str) -> Vec<String> {
    path.split(PATH_SEPARATOR)
        .flat_map(|part| part.split("::"))
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|part| !part.is_empty())
        .collect()
}

/// The path of a code from its ancestors' names and its own.
pub fn join_path<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(PATH_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tidied_and_bounded() {
        assert_eq!(
            name("  Fears   over\tsafety ").unwrap(),
            "Fears over safety"
        );
        assert_eq!(name("Staff/carer").unwrap(), "Staff/carer");
        assert!(name("   ").is_err());
        assert!(name("A / B").is_err());
        assert!(name(&"x".repeat(201)).is_err());
    }

    #[test]
    fn colours_take_common_spellings() {
        assert_eq!(Colour::parse("#4E79A7").unwrap().as_str(), "#4e79a7");
        assert_eq!(Colour::parse("4e79a7").unwrap().as_str(), "#4e79a7");
        assert_eq!(Colour::parse("#abc").unwrap().as_str(), "#aabbcc");
        assert_eq!(Colour::parse("#4e79a7").unwrap().rgb(), (0x4e, 0x79, 0xa7));
        assert!(Colour::parse("red").is_err());
        assert!(Colour::parse("#12345").is_err());
        assert!(Colour::parse("#ééé").is_err());
    }

    #[test]
    fn palette_colours_parse_and_cycle() {
        for c in PALETTE {
            assert_eq!(Colour::parse(c).unwrap().as_str(), c);
        }
        assert_eq!(palette_colour(PALETTE.len()), palette_colour(0));
    }

    #[test]
    fn the_palette_has_twenty_distinct_colours() {
        let distinct: std::collections::HashSet<_> = PALETTE.iter().collect();
        assert!(distinct.len() >= 20 && distinct.len() == PALETTE.len());
    }

    #[test]
    fn shortcuts_are_one_character() {
        assert_eq!(shortcut("S").unwrap().as_deref(), Some("s"));
        assert_eq!(shortcut("7").unwrap().as_deref(), Some("7"));
        assert_eq!(shortcut("é").unwrap().as_deref(), Some("é"));
        assert_eq!(shortcut(" ").unwrap(), None);
        assert!(shortcut("ab").is_err());
        assert!(shortcut("/").is_err());
        assert!(shortcut("İ").is_err());
    }

    #[test]
    fn paths_split_and_join() {
        assert_eq!(
            split_path(" Inpatient frames /  Sanctuary "),
            vec!["Inpatient frames", "Sanctuary"]
        );
        assert_eq!(split_path("A::B::C"), vec!["A", "B", "C"]);
        assert_eq!(
            split_path("Staff/carer relations"),
            vec!["Staff/carer relations"]
        );
        assert_eq!(join_path(&["A", "B"]), "A / B");
        assert!(split_path(" / ").is_empty());
    }

    #[test]
    fn long_texts_keep_lines() {
        assert_eq!(long_text("definition", "  a\r\nb \n").unwrap(), "a\nb");
        assert!(long_text("definition", &"x".repeat(20_001)).is_err());
    }
}
