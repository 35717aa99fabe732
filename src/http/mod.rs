//! What the two HTTP doors (`web`, `api`) share and neither owns: the one
//! error type and its mapping from use-case errors, the extractors that say
//! who is asking and what they may do, and reading uploaded files.

pub mod askers;
pub mod coalesce;
pub mod download;
pub mod error;
pub mod extract;
pub mod heavy;
pub mod nearby;
pub mod upload;

/// Percent-encode a value for a query string.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            super::encode_query("/projects?a=1&b=é"),
            "/projects%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}
