//! Parameters generated from a plan's JSON schema: a valid object and an invalid one, each
//! confirmed with a real JSON Schema validator before it is sent (so a check never blames a
//! broker for the generator's mistake).

use serde_json::{Map, Value, json};

/// Compiles `schema` with the draft its `$schema` names (draft-04 when absent or unknown).
fn validator(schema: &Value) -> Option<jsonschema::Validator> {
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(uri) => match jsonschema::Draft::from_schema_uri(uri) {
            jsonschema::Draft::Unknown => jsonschema::Draft::Draft4,
            d => d,
        },
        None => jsonschema::Draft::Draft4,
    };
    jsonschema::options().with_draft(draft).build(schema).ok()
}

/// Whether `value` is valid against `schema`; `None` when the schema does not compile.
pub(crate) fn is_valid(schema: &Value, value: &Value) -> Option<bool> {
    validator(schema).map(|v| v.is_valid(value))
}

/// A parameters object valid against `schema`, or `None` when none could be generated.
pub(crate) fn valid(schema: &Value) -> Option<Map<String, Value>> {
    let full = gen_value(schema, schema, 0, true)?;
    let minimal = gen_value(schema, schema, 0, false);
    for candidate in [Some(full), minimal].into_iter().flatten() {
        if let Value::Object(m) = &candidate
            && is_valid(schema, &candidate) == Some(true)
        {
            return Some(m.clone());
        }
    }
    None
}

/// The smallest parameters object valid against `schema` (only required properties), or
/// `None` when none could be generated.
pub(crate) fn minimal(schema: &Value) -> Option<Map<String, Value>> {
    let candidates = [
        gen_value(schema, schema, 0, false),
        gen_value(schema, schema, 0, true),
    ];
    candidates.into_iter().flatten().find_map(|c| match &c {
        Value::Object(m) if is_valid(schema, &c) == Some(true) => Some(m.clone()),
        _ => None,
    })
}

/// A parameters object that `schema` rejects (a property of the wrong type, an unknown
/// property where `additionalProperties` is false, or a required property left out), or
/// `None` when none could be generated.
pub(crate) fn invalid(schema: &Value) -> Option<Map<String, Value>> {
    let base = valid(schema)?;
    let root = resolve(schema, schema);
    let mut candidates = Vec::new();
    if let Some(props) = root.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            let p = resolve(schema, p);
            let wrong = match type_of(p) {
                Some("string") => json!(12345),
                Some("integer" | "number") => json!("not-a-number"),
                Some("boolean") => json!("not-a-boolean"),
                Some("object" | "array") => json!("not-a-structure"),
                _ => continue,
            };
            let mut m = base.clone();
            m.insert(name.clone(), wrong);
            candidates.push(m);
        }
    }
    if root.get("additionalProperties") == Some(&Value::Bool(false)) {
        let mut m = base.clone();
        m.insert("osbcheck-unexpected".to_owned(), json!(1));
        candidates.push(m);
    }
    if let Some(req) = root.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            let mut m = base.clone();
            m.remove(r);
            candidates.push(m);
        }
    }
    candidates
        .into_iter()
        .find(|m| is_valid(schema, &Value::Object(m.clone())) == Some(false))
}

/// Follows a local `$ref` (`#/definitions/x`, `#/$defs/x`).
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    let mut cur = s;
    for _ in 0..8 {
        let Some(r) = cur.get("$ref").and_then(Value::as_str) else {
            return cur;
        };
        let Some(ptr) = r.strip_prefix('#') else {
            return cur;
        };
        match root.pointer(ptr) {
            Some(t) => cur = t,
            None => return cur,
        }
    }
    cur
}

fn type_of(s: &Value) -> Option<&str> {
    match s.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ if s.get("properties").is_some() => Some("object"),
        _ => None,
    }
}

fn gen_value(root: &Value, s: &Value, depth: usize, all_props: bool) -> Option<Value> {
    if depth > 8 {
        return None;
    }
    let s = resolve(root, s);
    if let Some(d) = s.get("default") {
        return Some(d.clone());
    }
    if let Some(c) = s.get("const") {
        return Some(c.clone());
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e.first().cloned();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first())
            && type_of(s).is_none()
        {
            return gen_value(root, first, depth + 1, all_props);
        }
    }
    match type_of(s)? {
        "object" => {
            let mut m = Map::new();
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, p) in props {
                    if all_props || required.contains(&name.as_str()) {
                        match gen_value(root, p, depth + 1, all_props) {
                            Some(v) => {
                                m.insert(name.clone(), v);
                            }
                            None if required.contains(&name.as_str()) => return None,
                            None => {}
                        }
                    }
                }
            }
            Some(Value::Object(m))
        }
        "string" => {
            if s.get("pattern").is_some() {
                return None;
            }
            let v = match s.get("format").and_then(Value::as_str) {
                Some("email") => "osbcheck@example.com".to_owned(),
                Some("uri" | "url") => "https://example.com/osbcheck".to_owned(),
                Some("date-time") => "2024-01-01T00:00:00Z".to_owned(),
                Some("date") => "2024-01-01".to_owned(),
                Some("uuid") => "00000000-0000-4000-8000-000000000000".to_owned(),
                Some("ipv4") => "192.0.2.1".to_owned(),
                _ => {
                    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(1);
                    let min = usize::try_from(min.clamp(1, 256)).unwrap_or(1);
                    "o".repeat(min)
                }
            };
            Some(Value::String(v))
        }
        "integer" | "number" => {
            let min = s.get("minimum").and_then(Value::as_f64);
            let max = s.get("maximum").and_then(Value::as_f64);
            let ex_min = s.get("exclusiveMinimum");
            let mut v = match (min, max) {
                (Some(lo), _) => lo,
                (None, Some(hi)) => hi.min(1.0),
                (None, None) => 1.0,
            };
            if ex_min == Some(&Value::Bool(true)) {
                v += 1.0;
            } else if let Some(x) = ex_min.and_then(Value::as_f64) {
                v = v.max(x + 1.0);
            }
            let v = v.ceil();
            // the bounds of a parameter schema are small numbers
            #[allow(clippy::cast_possible_truncation)]
            let i = v as i64;
            Some(json!(i))
        }
        "boolean" => Some(Value::Bool(true)),
        "null" => Some(Value::Null),
        "array" => {
            let n = s.get("minItems").and_then(Value::as_u64).unwrap_or(0).min(16);
            let mut items = Vec::new();
            if n > 0 {
                let item_schema = s.get("items").cloned().unwrap_or(json!({}));
                for _ in 0..n {
                    items.push(gen_value(root, &item_schema, depth + 1, all_props).unwrap_or(json!("o")));
                }
            }
            Some(Value::Array(items))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_valid_and_invalid_parameters_for_a_typical_schema() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "additionalProperties": false,
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 9},
                "name": {"type": "string", "minLength": 3},
                "tier": {"enum": ["gold", "silver"]}
            }
        });
        let v = valid(&schema).expect("valid");
        assert_eq!(v["size"], 1);
        assert_eq!(v["name"], "ooo");
        let bad = invalid(&schema).expect("invalid");
        assert_eq!(is_valid(&schema, &Value::Object(bad)), Some(false));
    }

    #[test]
    fn a_pattern_it_cannot_satisfy_gives_none_rather_than_a_wrong_value() {
        let schema = json!({"type": "object", "required": ["x"], "properties": {"x": {"type": "string", "pattern": "^[0-9]{5}$"}}});
        assert!(valid(&schema).is_none());
    }
}
