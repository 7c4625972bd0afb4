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
    /// The same mailbox with a tag (`zgloszenia+7H3K-9QX2@krakow.pl`), the
    /// address a reply about one case is written to; a tag already there
    /// is replaced.
    pub fn tagged(&self, tag: &str) -> Option<Self> {
        let (local, domain) = self.0.rsplit_once('@')?;
        let mailbox = local.split_once('+').map_or(local, |(m, _)| m);
        Self::parse(&format!("{mailbox}+{tag}@{domain}")).ok()
    }
    /// The part before `@` without a tag (`zgloszenia`).
    pub fn mailbox(&self) -> &str {
        let local = self.0.rsplit_once('@').map_or(self.0.as_str(), |(l, _)| l);
        local.split_once('+').map_or(local, |(m, _)| m)
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

/// The deployment's secret for finding a person's requests (from SSM): each
/// phone number and e-mail address is indexed by its HMAC-SHA256 under it,
/// so the index cannot be reversed by hashing every possible number.
#[derive(Clone)]
pub struct ContactKey(Vec<u8>);

impl ContactKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// The index keys of every identifier a contact holds (phone, e-mail).
    pub fn person_keys(&self, contact: &Contact) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(phone) = &contact.phone {
            keys.push(self.of_phone(phone));
        }
        if let Some(email) = &contact.email {
            keys.push(self.of_email(email));
        }
        keys
    }

    pub fn of_phone(&self, phone: &PhoneNumber) -> String {
        self.mac(&format!("phone:{}", phone.as_str()))
    }

    pub fn of_email(&self, email: &Email) -> String {
        self.mac(&format!("email:{}", email.as_str().to_lowercase()))
    }

    fn mac(&self, identifier: &str) -> String {
        use hmac::Mac;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            // HMAC takes keys of any length; this arm cannot be reached.
            return String::new();
        };
        mac.update(identifier.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Debug for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactKey(..)")
    }
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

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
    fn a_mailbox_is_tagged_with_a_case_once() {
        let inbox = Email::parse("zgloszenia@Krakow.example").unwrap();
        let tagged = inbox.tagged("7H3K-9QX2").unwrap();
        assert_eq!(tagged.as_str(), "zgloszenia+7H3K-9QX2@krakow.example");
        assert_eq!(tagged.mailbox(), "zgloszenia");
        assert_eq!(
            tagged.tagged("AAAA-BBBB").unwrap().as_str(),
            "zgloszenia+AAAA-BBBB@krakow.example"
        );
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
    }

    #[test]
    fn person_keys_are_keyed_hashes_of_each_identifier() {
        let contact = Contact {
            name: PersonName::parse("Anna Nowak").ok(),
            phone: PhoneNumber::parse("+48600100200").ok(),
            email: Email::parse("Anna@Example.pl").ok(),
        };
        let key = ContactKey::new(b"deployment one");
        let keys = key.person_keys(&contact);
        assert_eq!(keys.len(), 2, "phone and e-mail");
        assert!(keys.iter().all(|k| k.len() == 64));
        // The same e-mail however it is written; another deployment's key gives other keys.
        let email = Email::parse("anna@example.PL").unwrap();
        assert_eq!(keys[1], key.of_email(&email));
        let other = ContactKey::new(b"deployment two").person_keys(&contact);
        assert!(keys.iter().all(|k| !other.contains(k)));
        // Not the plain SHA-256 anyone could compute from a number.
        assert_ne!(keys[0], crate::ids::sha256_hex(b"phone:+48600100200"));
    }
}
