//! The catalogue's explicit routing rules: service × district × local time
//! of day → department. Parsed here when the catalogue loads; matched by
//! [`super::rule_for`].

use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentCode, ServiceCode};

/// An explicit routing rule: the first rule matching a request's service,
/// district and local time of day decides its department, before anything
/// learned from history. Omitted fields match everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Local `["HH:MM", "HH:MM")`; the window may wrap midnight (`["22:00", "06:00"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<[String; 2]>,
    pub department: DepartmentCode,
}

/// A rule with its hours parsed, as the catalogue keeps it.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    rule: RoutingRule,
    hours: Option<(jiff::civil::Time, jiff::civil::Time)>,
}

impl CompiledRule {
    /// Parses the rule's hours; what it names is checked by the catalogue.
    pub fn compile(rule: &RoutingRule) -> Result<Self, String> {
        let hours = match &rule.hours {
            None => None,
            Some([from, to]) => Some((parse_clock(from)?, parse_clock(to)?)),
        };
        Ok(Self {
            rule: rule.clone(),
            hours,
        })
    }

    pub fn rule(&self) -> &RoutingRule {
        &self.rule
    }

    /// Whether the rule covers this service and district at this local time.
    pub fn matches(
        &self,
        service: &ServiceCode,
        district: Option<&str>,
        local: jiff::civil::Time,
    ) -> bool {
        self.rule.service.as_ref().is_none_or(|s| s == service)
            && self
                .rule
                .district
                .as_deref()
                .is_none_or(|d| Some(d) == district)
            && self.hours.is_none_or(|(from, to)| {
                if from <= to {
                    from <= local && local < to
                } else {
                    local >= from || local < to
                }
            })
    }
}

fn parse_clock(text: &str) -> Result<jiff::civil::Time, String> {
    jiff::civil::Time::strptime("%H:%M", text)
        .map_err(|_| format!("hours: {text:?} is not a time like 22:00"))
}
