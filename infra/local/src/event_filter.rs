//! Lambda's event filtering (the `FilterCriteria` of an event source
//! mapping), for the patterns the template uses: an object matches when each
//! of its keys matches; a list of rules matches when one does; a rule is a
//! value (equal), `{"prefix": "…"}` or `{"exists": true|false}`.

use serde_json::Value;

/// Whether `record` (the event record as Lambda sends it) matches `pattern`.
pub fn matches(pattern: &Value, record: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| match sub {
            // A list of rules about the field itself.
            Value::Array(rules) => rules.iter().any(|rule| rule_matches(rule, record.get(key))),
            nested => record.get(key).is_some_and(|value| matches(nested, value)),
        }),
        _ => false,
    }
}

fn rule_matches(rule: &Value, value: Option<&Value>) -> bool {
    match rule {
        Value::Object(op) if op.len() == 1 => {
            if let Some(prefix) = op.get("prefix").and_then(Value::as_str) {
                return value
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with(prefix));
            }
            if let Some(exists) = op.get("exists").and_then(Value::as_bool) {
                return value.is_some() == exists;
            }
            false
        }
        literal => value == Some(literal),
    }
}

/// Whether a record passes the mapping's filters (none given: every record does).
pub fn passes(patterns: &[Value], record: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| matches(p, record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_outbox_filter_takes_new_history_events_only() {
        let pattern = json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "EVENT#"}]}}}});
        let record = |name: &str, sk: &str| json!({"eventName": name, "dynamodb": {"Keys": {"pk": {"S": "REQ#1"}, "sk": {"S": sk}}}});
        assert!(matches(&pattern, &record("INSERT", "EVENT#0000000001")));
        assert!(!matches(&pattern, &record("MODIFY", "EVENT#0000000001")));
        assert!(!matches(&pattern, &record("INSERT", "CONTACT")));
        assert!(!matches(&pattern, &record("INSERT", "REQUEST")));
        assert!(passes(&[], &record("REMOVE", "CONTACT")));
        let exists = json!({"dynamodb": {"NewImage": {"snapshot": [{"exists": true}]}}});
        assert!(!matches(&exists, &record("INSERT", "EVENT#1")));
    }
}
