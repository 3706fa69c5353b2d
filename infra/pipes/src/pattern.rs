//! EventBridge event patterns, as Pipes filter criteria use them: every field the pattern names
//! must match one of the values (or conditions) it lists; fields it does not name are ignored.
//! The subset implemented is the one the documentation describes for content filtering: exact
//! strings, numbers, booleans and null, `prefix`, `suffix`, `exists`, `anything-but` and `numeric`.

use serde_json::Value;

/// Does `event` match `pattern`?
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(name, wanted)| field_matches(wanted, event.get(name))),
        _ => false,
    }
}

fn field_matches(wanted: &Value, found: Option<&Value>) -> bool {
    match wanted {
        // A nested pattern: the field must be an object matching it.
        Value::Object(_) => found.is_some_and(|value| matches(wanted, value)),
        // A list of allowed values: any one of them.
        Value::Array(allowed) => allowed.iter().any(|allowed| value_matches(allowed, found)),
        _ => false,
    }
}

fn value_matches(allowed: &Value, found: Option<&Value>) -> bool {
    // An array in the event matches when any of its elements does.
    if let Some(Value::Array(items)) = found {
        return items.iter().any(|item| value_matches(allowed, Some(item)));
    }
    match allowed {
        Value::Object(condition) => {
            condition.iter().all(|(operator, operand)| condition_holds(operator, operand, found))
        }
        literal => found == Some(literal),
    }
}

fn condition_holds(operator: &str, operand: &Value, found: Option<&Value>) -> bool {
    let text = found.and_then(Value::as_str);
    match operator {
        "exists" => operand.as_bool() == Some(found.is_some_and(|v| !v.is_null())),
        "prefix" => text.zip(operand.as_str()).is_some_and(|(text, prefix)| text.starts_with(prefix)),
        "suffix" => text.zip(operand.as_str()).is_some_and(|(text, suffix)| text.ends_with(suffix)),
        "anything-but" => {
            let excluded = match operand {
                Value::Array(values) => values.clone(),
                value => vec![value.clone()],
            };
            found.is_some() && !excluded.iter().any(|excluded| value_matches(excluded, found))
        }
        "numeric" => found.and_then(number).is_some_and(|n| numeric_holds(operand, n)),
        _ => false,
    }
}

/// Numbers match as numbers (DynamoDB stream images carry them as strings).
fn number(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_str()?.parse().ok())
}

fn numeric_holds(operand: &Value, n: f64) -> bool {
    let Some(terms) = operand.as_array() else {
        return false;
    };
    terms.chunks(2).all(|pair| match (pair[0].as_str(), pair.get(1).and_then(Value::as_f64)) {
        (Some("="), Some(v)) => n == v,
        (Some("<"), Some(v)) => n < v,
        (Some("<="), Some(v)) => n <= v,
        (Some(">"), Some(v)) => n > v,
        (Some(">="), Some(v)) => n >= v,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(kind: &str, send_id: Option<&str>) -> Value {
        let mut image = json!({"kind": {"S": kind}, "type": {"S": "invitation.created"}, "at": {"N": "1700"}});
        if let Some(id) = send_id {
            image["send_id"] = json!({"S": id});
        }
        json!({"eventName": "INSERT", "dynamodb": {"NewImage": image}})
    }

    #[test]
    fn fields_named_must_match_and_others_are_ignored() {
        let pattern = json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}});
        assert!(matches(&pattern, &record("event", None)));
        assert!(!matches(&pattern, &record("invitation", None)));
        let mut modify = record("event", None);
        modify["eventName"] = json!("MODIFY");
        assert!(!matches(&pattern, &modify));
    }

    #[test]
    fn exists_prefix_anything_but_and_numeric() {
        let wants_send = json!({"dynamodb": {"NewImage": {"send_id": {"S": [{"exists": true}]}}}});
        assert!(matches(&wants_send, &record("event", Some("s-1"))));
        assert!(!matches(&wants_send, &record("event", None)));
        let no_send = json!({"dynamodb": {"NewImage": {"send_id": [{"exists": false}]}}});
        assert!(matches(&no_send, &record("event", None)));
        let invitations = json!({"dynamodb": {"NewImage": {"type": {"S": [{"prefix": "invitation."}]}}}});
        assert!(matches(&invitations, &record("event", None)));
        let not_created =
            json!({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["invitation.created"]}]}}}});
        assert!(!matches(&not_created, &record("event", None)));
        let late = json!({"dynamodb": {"NewImage": {"at": {"N": [{"numeric": [">", 1000, "<=", 1700]}]}}}});
        assert!(matches(&late, &record("event", None)));
    }
}
