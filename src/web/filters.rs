//! Filter menus, built one way for every page that filters (the matrix,
//! co-occurrence, a code's excerpts) from the project's
//! [`FilterOptions`].

use crate::domain::matrix::Measure;
use crate::service::analysis::options::FilterOptions;

/// A choice in a filter menu.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    fn new(value: String, label: String, chosen: impl Fn(&str) -> bool) -> Self {
        Choice {
            selected: chosen(&value),
            value,
            label,
        }
    }
}

/// Stakeholder groups, then "Unassigned speakers".
pub fn groups(o: &FilterOptions, chosen: impl Fn(&str) -> bool) -> Vec<Choice> {
    let mut out: Vec<Choice> = o
        .groups
        .iter()
        .map(|(id, name)| Choice::new(id.to_string(), name.clone(), &chosen))
        .collect();
    out.push(Choice::new(
        "unassigned".into(),
        "Unassigned speakers".into(),
        &chosen,
    ));
    out
}

/// Attribute values as `name=value`, labelled `name: value`.
pub fn attribute_values(o: &FilterOptions, chosen: impl Fn(&str) -> bool) -> Vec<Choice> {
    o.attribute_values
        .iter()
        .map(|(k, v)| Choice::new(format!("{k}={v}"), format!("{k}: {v}"), &chosen))
        .collect()
}

pub fn documents(o: &FilterOptions, chosen: impl Fn(&str) -> bool) -> Vec<Choice> {
    o.documents
        .iter()
        .map(|(id, title)| Choice::new(id.to_string(), title.clone(), &chosen))
        .collect()
}

pub fn coders(o: &FilterOptions, chosen: impl Fn(&str) -> bool) -> Vec<Choice> {
    o.coders
        .iter()
        .map(|(id, name)| Choice::new(id.to_string(), name.clone(), &chosen))
        .collect()
}

/// The matrix's columns: groups, each attribute, group × each attribute.
pub fn columns(o: &FilterOptions, current: &str) -> Vec<Choice> {
    let is = |v: &str| v == current;
    let mut out = vec![Choice::new("group".into(), "Stakeholder groups".into(), is)];
    for n in &o.attribute_names {
        out.push(Choice::new(format!("attr:{n}"), n.clone(), is));
    }
    for n in &o.attribute_names {
        out.push(Choice::new(
            format!("group,attr:{n}"),
            format!("Group × {n}"),
            is,
        ));
    }
    out
}

pub fn measures(current: Measure) -> Vec<Choice> {
    Measure::ALL
        .iter()
        .map(|m| Choice {
            value: m.as_str().into(),
            label: m.label().into(),
            selected: *m == current,
        })
        .collect()
}
