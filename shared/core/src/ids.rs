//! Identifiers, parsed once at the edge ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why an identifier was refused; the message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("request id must be a 26-character ULID")]
    RequestId,
    #[error(
        "case number must look like 7H3K-9QX2: two groups of four characters from {CASE_ALPHABET}"
    )]
    CaseNumber,
    #[error("service code must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    ServiceCode,
    #[error("department code must be 1-32 characters of a-z, 0-9, '-' or '_'")]
    DepartmentCode,
    #[error("jurisdiction id must be 1-64 characters of a-z, 0-9, '.', '-' or '_'")]
    JurisdictionId,
}

/// Internal id of a service request: a ULID (sorts by creation time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let upper = raw.trim().to_ascii_uppercase();
        if upper.len() == 26 && upper.chars().all(|c| CROCKFORD.contains(c)) {
            Ok(Self(upper))
        } else {
            Err(IdError::RequestId)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RequestId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<RequestId> for String {
    fn from(value: RequestId) -> Self {
        value.0
    }
}
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters of a case number: no 0/O, 1/I/L, U or V, so it survives being read over the phone.
pub const CASE_ALPHABET: &str = "23456789ABCDEFGHJKMNPQRSTWXYZ";

/// The number a person reads over the phone: `7H3K-9QX2`.
/// 29^8 ≈ 5·10^11 values; uniqueness is enforced by a conditional write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// Accepts any case, spaces or missing dash, and the look-alikes people type
    /// (`O`→`0` is not in the alphabet, so it is refused rather than guessed).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() == 8 && compact.chars().all(|c| CASE_ALPHABET.contains(c)) {
            Ok(Self(format!("{}-{}", &compact[..4], &compact[4..])))
        } else {
            Err(IdError::CaseNumber)
        }
    }

    /// Builds a case number from 64 random bits supplied by the caller (the core has no RNG).
    pub fn from_entropy(mut bits: u64) -> Self {
        let alphabet = CASE_ALPHABET.as_bytes();
        let base = alphabet.len() as u64;
        let mut out = String::with_capacity(9);
        for i in 0..8 {
            if i == 4 {
                out.push('-');
            }
            out.push(char::from(alphabet[(bits % base) as usize]));
            bits /= base;
        }
        Self(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits a caller presses on a phone's keypad for it (ABC on 2,
    /// DEF on 3, …, WXYZ on 9): `7H3K-9QX2` → `74359792`.
    pub fn keypad(&self) -> String {
        self.0
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                'A'..='C' => Some('2'),
                'D'..='F' => Some('3'),
                'G'..='I' => Some('4'),
                'J'..='L' => Some('5'),
                'M'..='O' => Some('6'),
                'P'..='S' => Some('7'),
                'T'..='V' => Some('8'),
                'W'..='Z' => Some('9'),
                _ => None,
            })
            .collect()
    }

    /// The case number as a voice reads it: one character at a time.
    pub fn spoken(&self) -> String {
        self.0
            .chars()
            .map(|c| {
                if c == '-' {
                    ",".to_owned()
                } else {
                    c.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<CaseNumber> for String {
    fn from(value: CaseNumber) -> Self {
        value.0
    }
}
impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_code(raw: &str, max: usize, extra: &[char]) -> bool {
    !raw.is_empty()
        && raw.len() <= max
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $max:expr, $extra:expr, $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let lower = raw.trim().to_ascii_lowercase();
                if is_code(&lower, $max, $extra) {
                    Ok(Self(lower))
                } else {
                    Err($err)
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_newtype!(
    /// A catalogue service, e.g. `pothole`.
    ServiceCode, 64, &['-', '_'], IdError::ServiceCode
);
code_newtype!(
    /// A city department, e.g. `roads`.
    DepartmentCode, 32, &['-', '_'], IdError::DepartmentCode
);
code_newtype!(
    /// The city (Open311 `jurisdiction_id`), e.g. `krakow`.
    JurisdictionId, 64, &['-', '_', '.'], IdError::JurisdictionId
);

/// The citizen's secret for following their request: derived from the request
/// id with the deployment's tracking key (HMAC-SHA256), so the confirmation
/// message can carry it without it being stored; only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TrackingToken(String);

/// The deployment's secret for tracking tokens (from SSM in production).
#[derive(Clone)]
pub struct TrackingKey(Vec<u8>);

impl TrackingKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// The token of a request: 192 bits of HMAC-SHA256, URL-safe base64.
    pub fn token_for(&self, id: &RequestId) -> TrackingToken {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; this arm cannot be reached.
            Err(_) => return TrackingToken(String::new()),
        };
        mac.update(id.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        TrackingToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..24]))
    }
}

impl fmt::Debug for TrackingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrackingKey(..)")
    }
}

impl TrackingToken {
    /// Wraps a token a client presented (or one read back from storage).
    pub fn new(secret: String) -> Self {
        Self(secret)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for TrackingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrackingToken(..)")
    }
}

/// Lower-case hex SHA-256, used for secrets and payload fingerprints.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_number_round_trips_and_tolerates_typing() {
        let case = CaseNumber::from_entropy(0x1234_5678_9abc_def0);
        assert_eq!(case.as_str().len(), 9);
        let typed = case.as_str().replace('-', " ").to_lowercase();
        assert_eq!(CaseNumber::parse(&typed), Ok(case));
    }

    #[test]
    fn a_case_number_on_the_keypad_and_read_aloud() {
        let case = CaseNumber::parse("7H3K-9QX2").unwrap();
        assert_eq!(case.keypad(), "74359792");
        assert_eq!(case.spoken(), "7 H 3 K , 9 Q X 2");
    }

    #[test]
    fn case_number_never_contains_ambiguous_characters() {
        for seed in [0_u64, 1, u64::MAX, 987_654_321_012] {
            let case = CaseNumber::from_entropy(seed);
            assert!(!case.as_str().contains(['0', 'O', '1', 'I', 'L', 'U', 'V']));
        }
        assert_eq!(CaseNumber::parse("OOOO-1111"), Err(IdError::CaseNumber));
        assert_eq!(CaseNumber::parse("ABC"), Err(IdError::CaseNumber));
    }

    #[test]
    fn tracking_tokens_are_derived_and_keyed() {
        let id = RequestId::parse("01HZX3K4J5M6N7P8Q9R0S1T2V3").unwrap();
        let key = TrackingKey::new(b"deployment secret");
        let token = key.token_for(&id);
        assert_eq!(token.expose().len(), 32);
        assert_eq!(
            key.token_for(&id),
            token,
            "the same request, the same token"
        );
        assert_ne!(TrackingKey::new(b"another").token_for(&id), token);
    }

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(
            ServiceCode::parse(" Pothole ").map(String::from),
            Ok("pothole".into())
        );
        assert!(ServiceCode::parse("no spaces").is_err());
        assert!(DepartmentCode::parse("").is_err());
        assert!(RequestId::parse("01HZX3K4J5M6N7P8Q9R0S1T2V3").is_ok());
        assert!(RequestId::parse("short").is_err());
    }
}
