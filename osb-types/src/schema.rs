//! JSON Schema as the specification wants it: plans advertise draft-04 schemas
//! (`schemas.*.parameters`), while generators such as schemars emit newer drafts.

use serde_json::{Map, Value};

/// The `$schema` of a draft-04 schema.
pub const DRAFT04: &str = "http://json-schema.org/draft-04/schema#";

/// Converts a JSON Schema (draft 2020-12 or 07, as schemars emits) to draft-04, which the
/// OSB specification and Cloud Foundry require: `$schema` draft-04, no `$id`, `const` as a
/// one-element `enum`, numeric `exclusiveMinimum`/`exclusiveMaximum` as the boolean form,
/// `$defs` as `definitions` (refs rewritten), `prefixItems` as the array form of `items`,
/// boolean sub-schemas as objects.
///
/// ```
/// use serde_json::json;
/// let schema = osb_types::schema::draft04(json!({
///     "$schema": "https://json-schema.org/draft/2020-12/schema",
///     "type": "object",
///     "properties": { "size": { "const": 1 }, "name": true },
///     "$defs": {}
/// }));
/// assert_eq!(schema, json!({
///     "$schema": "http://json-schema.org/draft-04/schema#",
///     "type": "object",
///     "properties": { "size": { "enum": [1] }, "name": {} },
///     "definitions": {}
/// }));
/// ```
#[must_use]
pub fn draft04(schema: Value) -> Value {
    let mut schema = schema;
    convert(&mut schema);
    if let Value::Object(map) = &mut schema {
        map.insert("$schema".into(), Value::from(DRAFT04));
    }
    schema
}

fn convert(schema: &mut Value) {
    let map = match schema {
        Value::Bool(true) => {
            *schema = Value::Object(Map::new());
            return;
        }
        Value::Bool(false) => {
            *schema = serde_json::json!({ "not": {} });
            return;
        }
        Value::Object(map) => map,
        _ => return,
    };
    map.remove("$id");
    map.remove("$schema");
    if let Some(value) = map.remove("const") {
        map.insert("enum".into(), Value::Array(vec![value]));
    }
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(Value::Number(n)) = map.get(exclusive).cloned() {
            map.insert(bound.into(), Value::Number(n));
            map.insert(exclusive.into(), Value::Bool(true));
        }
    }
    if let Some(defs) = map.remove("$defs") {
        map.insert("definitions".into(), defs);
    }
    if let Some(Value::String(r)) = map.get_mut("$ref")
        && let Some(rest) = r.strip_prefix("#/$defs/")
    {
        *r = format!("#/definitions/{rest}");
    }
    if let Some(prefix) = map.remove("prefixItems") {
        if let Some(rest) = map.remove("items") {
            map.insert("additionalItems".into(), rest);
        }
        map.insert("items".into(), prefix);
    }
    for key in ["properties", "patternProperties", "definitions", "dependencies"] {
        if let Some(Value::Object(subs)) = map.get_mut(key) {
            subs.values_mut().filter(|v| !v.is_array()).for_each(convert);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "items"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            subs.iter_mut().for_each(convert);
        }
    }
    for key in ["not", "items", "propertyNames", "contains", "if", "then", "else"] {
        if let Some(sub) = map.get_mut(key)
            && !sub.is_array()
        {
            convert(sub);
        }
    }
    for key in ["additionalProperties", "additionalItems"] {
        if let Some(sub) = map.get_mut(key)
            && sub.is_object()
        {
            convert(sub);
        }
    }
}
