//! A service's form: the extra questions a citizen answers (Open311 "service
//! definition" attributes), and the check of the answers against it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::language::Translated;

/// Open311 attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
    fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValueOption {
    pub key: String,
    pub name: Translated,
}

/// One question of a service's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAttribute {
    pub code: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    /// Position in the form (1 first).
    pub order: u32,
    pub description: Translated,
    /// Whether the citizen answers it (`false`: informational text only).
    #[serde(default = "yes")]
    pub variable: bool,
    /// A private answer is shown to staff only, never in public views or exports.
    #[serde(default)]
    pub private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatype_description: Option<Translated>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<AttributeValueOption>,
}

fn yes() -> bool {
    true
}

/// An answer as stored with the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

/// What is wrong with an answer; names the attribute as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("attribute[{0}] is required for this service")]
    Missing(String),
    #[error("attribute[{code}] must be one of: {allowed}")]
    NotInList { code: String, allowed: String },
    #[error("attribute[{0}] takes one value; send it once")]
    OneValueOnly(String),
    #[error("attribute[{0}] must be a number")]
    NotANumber(String),
    #[error(
        "attribute[{0}] must be a date and time with a time zone, e.g. 2026-11-27T09:30:00+01:00"
    )]
    NotADatetime(String),
    #[error("attribute[{0}] is too long (at most {MAX_ANSWER_CHARS} characters)")]
    TooLong(String),
    #[error("too many attributes (at most {MAX_ANSWERS})")]
    TooMany,
    #[error("attribute codes are 1-64 letters, digits, '_', '-', '.' or ':'; {0:?} is not one")]
    BadCode(String),
}

impl AnswerError {
    /// The Open311 parameter the error is about, e.g. `attribute[size]`.
    pub fn field(&self) -> String {
        match self {
            AnswerError::Missing(c)
            | AnswerError::NotInList { code: c, .. }
            | AnswerError::OneValueOnly(c)
            | AnswerError::NotANumber(c)
            | AnswerError::NotADatetime(c)
            | AnswerError::TooLong(c) => format!("attribute[{c}]"),
            AnswerError::TooMany | AnswerError::BadCode(_) => "attribute".to_owned(),
        }
    }
}

pub const MAX_ANSWER_CHARS: usize = 2000;
pub const MAX_ANSWERS: usize = 50;

/// Checks the definition itself (at catalogue load): codes unique, lists have values.
pub fn check_definition(form: &[ServiceAttribute]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for a in form {
        if a.code.is_empty()
            || !a
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "attribute code {:?} must be letters, digits, '_' or '-'",
                a.code
            ));
        }
        if !seen.insert(a.code.as_str()) {
            return Err(format!("attribute code {} appears twice", a.code));
        }
        if a.datatype.is_list() && a.values.is_empty() {
            return Err(format!("attribute {} is a list without values", a.code));
        }
    }
    Ok(())
}

/// Checks the answers against the service's form. Answers to questions the form
/// does not have are kept as text (clients such as FixMyStreet send their own ids).
pub fn check_answers(
    form: &[ServiceAttribute],
    answers: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Answer>, AnswerError> {
    if answers.len() > MAX_ANSWERS {
        return Err(AnswerError::TooMany);
    }
    let mut out = BTreeMap::new();
    for (code, values) in answers {
        let code_ok = !code.is_empty()
            && code.len() <= 64
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
        if !code_ok {
            return Err(AnswerError::BadCode(code.chars().take(64).collect()));
        }
        let values: Vec<String> = values
            .iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.iter().any(|v| v.chars().count() > MAX_ANSWER_CHARS) {
            return Err(AnswerError::TooLong(code.clone()));
        }
        let Some(def) = form.iter().find(|a| &a.code == code) else {
            if !values.is_empty() {
                out.insert(code.clone(), Answer::One(values.join(",")));
            }
            continue;
        };
        if values.is_empty() || !def.variable {
            continue;
        }
        let answer = match def.datatype {
            Datatype::Multivaluelist => {
                check_in_list(def, &values)?;
                Answer::Many(values)
            }
            Datatype::Singlevaluelist => {
                if values.len() > 1 {
                    return Err(AnswerError::OneValueOnly(code.clone()));
                }
                check_in_list(def, &values)?;
                Answer::One(values[0].clone())
            }
            other => {
                if values.len() > 1 {
                    return Err(AnswerError::OneValueOnly(code.clone()));
                }
                let v = &values[0];
                match other {
                    Datatype::Number if v.parse::<f64>().map(f64::is_finite) != Ok(true) => {
                        return Err(AnswerError::NotANumber(code.clone()));
                    }
                    Datatype::Datetime if v.parse::<jiff::Timestamp>().is_err() => {
                        return Err(AnswerError::NotADatetime(code.clone()));
                    }
                    _ => {}
                }
                Answer::One(v.clone())
            }
        };
        out.insert(code.clone(), answer);
    }
    if let Some(missing) = form
        .iter()
        .find(|a| a.required && a.variable && !out.contains_key(&a.code))
    {
        return Err(AnswerError::Missing(missing.code.clone()));
    }
    Ok(out)
}

fn check_in_list(def: &ServiceAttribute, values: &[String]) -> Result<(), AnswerError> {
    if values
        .iter()
        .all(|v| def.values.iter().any(|o| &o.key == v))
    {
        Ok(())
    } else {
        Err(AnswerError::NotInList {
            code: def.code.clone(),
            allowed: def
                .values
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service's form as the catalogue gives it.
    #[derive(Deserialize)]
    struct Form {
        attributes: Vec<ServiceAttribute>,
    }

    fn service() -> Form {
        let toml = r#"
code = "pothole"
name = { pl = "Dziura", en = "Pothole" }
group = "roads"
department = "roads"
sla_hours = 72
[[attributes]]
code = "size"
datatype = "singlevaluelist"
required = true
order = 1
description = { pl = "Wielkość", en = "Size" }
values = [{ key = "small", name = { pl = "mała", en = "small" } }, { key = "large", name = { pl = "duża", en = "large" } }]
[[attributes]]
code = "hazards"
datatype = "multivaluelist"
order = 2
description = { pl = "Zagrożenia", en = "Hazards" }
values = [{ key = "cyclists", name = { pl = "rowerzyści", en = "cyclists" } }, { key = "cars", name = { pl = "auta", en = "cars" } }]
[[attributes]]
code = "depth_cm"
datatype = "number"
order = 3
description = { pl = "Głębokość", en = "Depth" }
"#;
        toml::from_str(toml).unwrap()
    }

    fn answers(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn valid_answers_and_foreign_ones_are_kept() {
        let got = check_answers(
            &service().attributes,
            &answers(&[
                ("size", &["large"]),
                ("hazards", &["cars", "cyclists"]),
                ("fixmystreet_id", &["123"]),
            ]),
        )
        .unwrap();
        assert_eq!(got["size"], Answer::One("large".into()));
        assert_eq!(
            got["hazards"],
            Answer::Many(vec!["cars".into(), "cyclists".into()])
        );
        assert_eq!(got["fixmystreet_id"], Answer::One("123".into()));
    }

    #[test]
    fn each_mistake_names_its_attribute() {
        let s = service();
        let err = check_answers(&s.attributes, &answers(&[("", &["x"])])).unwrap_err();
        assert!(matches!(err, AnswerError::BadCode(_)));
        let err = check_answers(&s.attributes, &answers(&[("à ô", &["x"])])).unwrap_err();
        assert!(matches!(err, AnswerError::BadCode(_)));
        let err = check_answers(&s.attributes, &answers(&[])).unwrap_err();
        assert_eq!(err.field(), "attribute[size]");
        let err = check_answers(&s.attributes, &answers(&[("size", &["huge"])])).unwrap_err();
        assert!(err.to_string().contains("small, large"), "{err}");
        let err =
            check_answers(&s.attributes, &answers(&[("size", &["small", "large"])])).unwrap_err();
        assert_eq!(err, AnswerError::OneValueOnly("size".into()));
        let err = check_answers(
            &s.attributes,
            &answers(&[("size", &["small"]), ("depth_cm", &["deep"])]),
        )
        .unwrap_err();
        assert_eq!(err, AnswerError::NotANumber("depth_cm".into()));
        let err = check_answers(
            &s.attributes,
            &answers(&[("size", &["small"]), ("hazards", &["cars", "trams"])]),
        )
        .unwrap_err();
        assert_eq!(err.field(), "attribute[hazards]");
    }
}
