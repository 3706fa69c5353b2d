//! Pipes input templates: `<$.json.path>` replaced by what the event holds there. As the
//! documentation says, a template quotes the placeholders of string values itself, and objects
//! and arrays are inserted as JSON.

use serde_json::Value;

/// The template filled from `event`; `None` when it names a path the event does not have (the
/// real service fails that record, so the test fails too).
pub fn render(template: &str, event: &Value) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("<$") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('>')? + start;
        let value = lookup(event, &rest[start + 1..end])?;
        match value {
            Value::String(text) => out.push_str(&escape(text)),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The value at a `$.a.b[0]` path.
pub fn lookup<'v>(event: &'v Value, path: &str) -> Option<&'v Value> {
    let mut value = event;
    for step in path.strip_prefix('$')?.split('.').filter(|s| !s.is_empty()) {
        let (name, index) = match step.split_once('[') {
            Some((name, index)) => (name, Some(index.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (step, None),
        };
        if !name.is_empty() {
            value = value.get(name)?;
        }
        if let Some(index) = index {
            value = value.get(index)?;
        }
    }
    Some(value)
}

/// A string's JSON escaping, without the quotes the template supplies.
fn escape(text: &str) -> String {
    let quoted = Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_and_strings_escaped() {
        let event = json!({"dynamodb": {"NewImage": {"id": {"S": "a\"b"}, "n": {"N": "3"}, "l": {"L": [1, 2]}}}});
        let template =
            r#"{"id": "<$.dynamodb.NewImage.id.S>", "n": "<$.dynamodb.NewImage.n.N>", "l": <$.dynamodb.NewImage.l.L>}"#;
        let rendered: Value = serde_json::from_str(&render(template, &event).unwrap()).unwrap();
        assert_eq!(rendered, json!({"id": "a\"b", "n": "3", "l": [1, 2]}));
        assert_eq!(render("<$.missing>", &event), None);
        assert_eq!(lookup(&event, "$.dynamodb.NewImage.l.L[1]"), Some(&json!(2)));
    }
}
