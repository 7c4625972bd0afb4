//! The citizen's contact details: personal data, kept in their own item, never logged.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("phone must be in international form, e.g. +48123456789 (8-15 digits after '+')")]
    Phone,
    #[error("email must look like name@example.org (at most 254 characters)")]
    Email,
    #[error("name must be 1-200 characters")]
    Name,
}

/// E.164 phone number: `+` and 8-15 digits. Spaces, dashes and brackets are dropped.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ContactError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or(ContactError::Phone)?;
        if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(compact))
        } else {
            Err(ContactError::Phone)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// E-mail address, checked for shape only (delivery proves the rest).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ContactError> {
        let trimmed = raw.trim();
        let (local, domain) = trimmed.rsplit_once('@').ok_or(ContactError::Email)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && trimmed.len() <= 254
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(ContactError::Email)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, ContactError> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if (1..=200).contains(&len) && !trimmed.chars().any(char::is_control) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ContactError::Name)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! redacted {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
        impl TryFrom<String> for $name {
            type Error = ContactError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    )*};
}
redacted!(PhoneNumber, Email, PersonName);

/// How the citizen can be reached. Stored apart from the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }

    /// A stable, non-reversible key for "all requests of this person" look-ups:
    /// SHA-256 of the phone number, else of the e-mail address.
    pub fn lookup_key(&self) -> Option<String> {
        self.phone
            .as_ref()
            .map(|p| format!("phone:{}", p.as_str()))
            .or_else(|| {
                self.email
                    .as_ref()
                    .map(|e| format!("email:{}", e.as_str().to_lowercase()))
            })
            .map(|k| crate::ids::sha256_hex(k.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised() {
        assert_eq!(
            PhoneNumber::parse("+48 600-100 200").map(|p| p.as_str().to_owned()),
            Ok("+48600100200".to_owned())
        );
        assert_eq!(PhoneNumber::parse("600100200"), Err(ContactError::Phone));
        assert_eq!(PhoneNumber::parse("+48abc"), Err(ContactError::Phone));
    }

    #[test]
    fn emails_are_checked() {
        assert!(Email::parse("Jan.Kowalski@Example.PL").is_ok());
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b").is_err());
    }

    #[test]
    fn debug_never_shows_personal_data() {
        let contact = Contact {
            name: PersonName::parse("Anna Nowak").ok(),
            phone: PhoneNumber::parse("+48600100200").ok(),
            email: Email::parse("anna@example.pl").ok(),
        };
        let shown = format!("{contact:?}");
        assert!(!shown.contains("Anna"));
        assert!(!shown.contains("600100200"));
        assert!(!shown.contains("example.pl"));
        assert_eq!(contact.lookup_key().map(|k| k.len()), Some(64));
    }
}
