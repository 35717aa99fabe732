//! Participants (cases), their stakeholder groups and attributes.

use super::ValidationError;
use std::collections::BTreeMap;

/// The groups a new project starts with.
pub const DEFAULT_GROUPS: [&str; 3] = ["Staff", "Service user", "Carer"];

/// A participant's pseudonymous label ("P07", "C03", "Ruth").
pub fn label(raw: &str) -> Result<String, ValidationError> {
    let label = super::text::name("label", raw)?;
    match label.chars().count() {
        0 => Err(ValidationError::new("label", "a participant needs a label")),
        1..=100 => Ok(label),
        _ => Err(ValidationError::new(
            "label",
            "a label has at most 100 characters",
        )),
    }
}

/// A stakeholder group's name.
pub fn group_name(raw: &str) -> Result<String, ValidationError> {
    let name = super::text::name("name", raw)?;
    match name.chars().count() {
        0 => Err(ValidationError::new("name", "a group needs a name")),
        1..=100 => Ok(name),
        _ => Err(ValidationError::new(
            "name",
            "a group name has at most 100 characters",
        )),
    }
}

/// Attributes as name → value (`locality = North`). Names are trimmed and
/// unique; empty values are dropped (a blank spreadsheet cell means "not
/// known", not the empty string).
pub type Attributes = BTreeMap<String, String>;

const RESERVED: [&str; 2] = ["label", "group"];

pub fn attributes<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Attributes, ValidationError> {
    let mut out = Attributes::new();
    for (name, value) in pairs {
        let name = super::text::name("attributes", name)?;
        let name = name.as_str();
        let value = super::text::free_text("attributes", value.trim())?;
        let value = value.trim();
        if name.is_empty() {
            if value.is_empty() {
                continue;
            }
            return Err(ValidationError::new(
                "attributes",
                format!("the value “{value}” has no attribute name"),
            ));
        }
        if name.chars().count() > 60 {
            return Err(ValidationError::new(
                "attributes",
                "an attribute name has at most 60 characters",
            ));
        }
        if RESERVED.contains(&name.to_lowercase().as_str()) {
            return Err(ValidationError::new(
                "attributes",
                format!("“{name}” cannot be an attribute name"),
            ));
        }
        if value.chars().count() > 500 {
            return Err(ValidationError::new(
                "attributes",
                format!("the value of “{name}” has more than 500 characters"),
            ));
        }
        if out.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            return Err(ValidationError::new(
                "attributes",
                format!("the attribute “{name}” appears twice"),
            ));
        }
        if !value.is_empty() {
            out.insert(name.to_owned(), value.to_owned());
        }
    }
    Ok(out)
}

/// An attribute filter as written in a query (`locality=North`); blank
/// means no filter.
pub fn attribute_filter(raw: Option<&str>) -> Result<Option<(String, String)>, ValidationError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let (name, value) = raw.split_once('=').ok_or_else(|| {
        ValidationError::new(
            "attribute",
            "write an attribute filter as name=value, e.g. locality=North",
        )
    })?;
    Ok(Some((name.trim().to_owned(), value.trim().to_owned())))
}

/// Several attribute filters, `name=value;name=value` (a matrix cell's
/// column and the matrix's participant filter together): each must hold
/// for the same participant.
pub fn attribute_filters(raw: Option<&str>) -> Result<Vec<(String, String)>, ValidationError> {
    raw.unwrap_or("")
        .split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| attribute_filter(Some(p)).map(|f| f.unwrap_or_default()))
        .collect()
}

/// Attributes typed in a form, one `name = value` (or `name: value`) a line.
pub fn attribute_lines(text: &str) -> Result<Attributes, ValidationError> {
    let mut pairs = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            return Err(ValidationError::new(
                "attributes",
                format!("write “{line}” as name = value"),
            ));
        };
        pairs.push((name, value));
    }
    attributes(pairs)
}

/// Attributes back as `name = value` lines, for editing.
pub fn to_lines(attrs: &Attributes) -> String {
    attrs.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_required() {
        assert_eq!(label("  P 07 ").unwrap(), "P 07");
        assert!(label("  ").is_err());
    }

    #[test]
    fn attribute_lines_parse_and_blank_values_are_dropped() {
        let a = attribute_lines("locality = North\nwave: 2004\n\nteam = \n").unwrap();
        assert_eq!(a.get("locality").map(String::as_str), Some("North"));
        assert_eq!(a.get("wave").map(String::as_str), Some("2004"));
        assert!(!a.contains_key("team"));
        assert_eq!(to_lines(&a), "locality = North\nwave = 2004\n");
    }

    #[test]
    fn bad_attributes_are_refused_with_reasons() {
        assert!(attribute_lines("just words").is_err());
        assert!(attributes([("group", "Staff")]).is_err());
        assert!(attributes([("Locality", "N"), ("locality", "S")]).is_err());
        assert!(attributes([("", "orphan value")]).is_err());
    }
}

#[cfg(test)]
mod filter_tests {
    use super::attribute_filter;

    #[test]
    fn attribute_filters_are_name_equals_value() {
        assert_eq!(attribute_filter(None).unwrap(), None);
        assert_eq!(attribute_filter(Some("  ")).unwrap(), None);
        assert_eq!(
            attribute_filter(Some(" locality = North ")).unwrap(),
            Some(("locality".into(), "North".into()))
        );
        assert_eq!(
            attribute_filter(Some("a=b=c")).unwrap(),
            Some(("a".into(), "b=c".into()))
        );
        assert_eq!(
            attribute_filter(Some("North")).unwrap_err().field,
            "attribute"
        );
    }
}
