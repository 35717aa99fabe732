//! Accounts: the values a person types when signing up or in, parsed once at
//! the edge so the rest of the code can trust them.

use super::ValidationError;

/// An e-mail address as typed, trimmed. Parley only needs it to be a unique,
/// recognisable sign-in name, so the check is deliberately loose: one `@` with
/// text on both sides and no whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim();
        let err = |m: &str| Err(ValidationError::new("email", m));
        if email.is_empty() {
            return err("enter an e-mail address");
        }
        if email.chars().count() > 254 {
            return err("an e-mail address has at most 254 characters");
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("an e-mail address cannot contain spaces or control characters");
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(Self(email.to_owned()))
            }
            _ => err("this does not look like an e-mail address (name@example.org)"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name, shown to other coders next to their codings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = super::text::name("name", raw)?;
        if name.is_empty() {
            return Err(ValidationError::new("name", "enter a name"));
        }
        if name.chars().count() > 100 {
            return Err(ValidationError::new(
                "name",
                "a name has at most 100 characters",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password. Length is the rule that matters (NIST SP 800-63B): at
/// least 10 characters, no composition rules; at most 1,000 so hashing a
/// hostile input stays cheap.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("a password needs at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > 1000 {
            return Err(ValidationError::new(
                "password",
                "a password has at most 1,000 characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

/// A short label for an API token ("R scripts", "laptop").
pub fn token_name(raw: &str) -> Result<String, ValidationError> {
    let name = super::text::name("name", raw)?;
    match name.chars().count() {
        0 => Ok("API token".to_owned()),
        1..=100 => Ok(name),
        _ => Err(ValidationError::new(
            "name",
            "a token name has at most 100 characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_kept_as_typed() {
        assert_eq!(
            Email::parse("  Ann@Example.org ").unwrap().as_str(),
            "Ann@Example.org"
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for (input, why) in [
            ("", "empty"),
            ("ann", "no @"),
            ("@example.org", "nothing before @"),
            ("ann@", "nothing after @"),
            ("ann smith@example.org", "space"),
            ("a@b@c", "two @"),
        ] {
            assert!(
                Email::parse(input).is_err(),
                "{input:?} should be rejected ({why})"
            );
        }
    }

    #[test]
    fn short_passwords_are_rejected_and_long_ones_accepted() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("correct horse").is_ok());
        assert!(NewPassword::parse(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn passwords_never_show_in_debug_output() {
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert!(DisplayName::parse("   ").is_err());
        assert_eq!(DisplayName::parse(" Ruth ").unwrap().as_str(), "Ruth");
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn a_blank_token_name_gets_a_default() {
        assert_eq!(token_name("  ").unwrap(), "API token");
        assert!(token_name(&"t".repeat(101)).is_err());
    }
}

/// Hash a password for storage: argon2id with the crate's recommended
/// parameters and a random salt, as a PHC string. CPU-heavy (tens of ms):
/// callers on the async runtime run it in `spawn_blocking`.
pub fn hash_password(password: &NewPassword) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.expose().as_bytes())
        .expect("argon2 with default parameters and an OS salt does not fail")
        .to_string()
}

/// Check a typed password against a stored PHC string. A malformed stored
/// hash counts as a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    match PasswordHash::new(phc) {
        Ok(hash) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A PHC string that no password matches, verified against when an e-mail is
/// unknown so that sign-in takes as long for unknown as for known accounts.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password(&NewPassword::parse("no password matches this one").expect("long enough"))
    })
}

/// Prefix of every API token, so a leaked one is recognisable in logs and
/// secret scanners.
pub const TOKEN_PREFIX: &str = "parley_";

/// A fresh API token and the hash to store. The token is 256 random bits,
/// hex-encoded after the prefix; only the SHA-256 of the whole string is kept.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + 64);
    token.push_str(TOKEN_PREFIX);
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(token.trim().as_bytes()).to_vec()
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_others_do_not() {
        let pw = NewPassword::parse("correct horse battery").unwrap();
        let phc = hash_password(&pw);
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterx", &phc));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let (a, ha) = new_token();
        let (b, hb) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a), ha);
        assert_ne!(ha, hb);
    }
}
