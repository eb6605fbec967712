//! Validation of `parameters` against the plans' JSON schemas, compiled once at start-up.

use std::collections::HashMap;

use jsonschema::{Draft, Validator};
use osb_types::Catalog;
use serde_json::Value;

use crate::ServeError;

/// Which schema of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SchemaKind {
    InstanceCreate,
    InstanceUpdate,
    BindingCreate,
}

impl SchemaKind {
    fn path(self) -> &'static str {
        match self {
            Self::InstanceCreate => "schemas.service_instance.create.parameters",
            Self::InstanceUpdate => "schemas.service_instance.update.parameters",
            Self::BindingCreate => "schemas.service_binding.create.parameters",
        }
    }
}

/// Every compiled plan schema, by plan id and kind.
#[derive(Default)]
pub(crate) struct Schemas {
    validators: HashMap<(String, SchemaKind), Validator>,
}

/// Compiles one schema with the draft its `$schema` names (draft-04 when absent or unknown,
/// as the specification requires draft-04).
fn compile(schema: &Value) -> Result<Validator, String> {
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(uri) => match Draft::from_schema_uri(uri) {
            Draft::Unknown => Draft::Draft4,
            d => d,
        },
        None => Draft::Draft4,
    };
    jsonschema::options()
        .with_draft(draft)
        .build(schema)
        .map_err(|e| e.to_string())
}

impl Schemas {
    /// Compiles the schemas of every plan.
    pub(crate) fn compile(catalog: &Catalog) -> Result<Self, ServeError> {
        let mut validators = HashMap::new();
        for offering in &catalog.services {
            for plan in &offering.plans {
                for (kind, schema) in [
                    (SchemaKind::InstanceCreate, plan.instance_create_schema()),
                    (SchemaKind::InstanceUpdate, plan.instance_update_schema()),
                    (SchemaKind::BindingCreate, plan.binding_create_schema()),
                ] {
                    let Some(schema) = schema else { continue };
                    let validator = compile(schema).map_err(|message| ServeError::InvalidSchema {
                        location: format!(
                            "offering {:?}, plan {:?}, {}",
                            offering.name,
                            plan.name,
                            kind.path()
                        ),
                        message,
                    })?;
                    validators.insert((plan.id.as_str().to_owned(), kind), validator);
                }
            }
        }
        Ok(Self { validators })
    }

    /// Checks `parameters` (absent = `{}`) against the plan's schema of this kind, if any.
    /// The error lists every violation, with its location.
    pub(crate) fn check(
        &self,
        plan_id: &str,
        kind: SchemaKind,
        parameters: Option<&serde_json::Map<String, Value>>,
    ) -> Result<(), String> {
        let Some(validator) = self.validators.get(&(plan_id.to_owned(), kind)) else {
            return Ok(());
        };
        let value = Value::Object(parameters.cloned().unwrap_or_default());
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| crate::params::problem(&e, &e.instance_path().to_string()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(crate::params::invalid(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use osb_types::catalog::{InputParametersSchema, ServiceInstanceSchema};
    use osb_types::{ServiceOffering, ServicePlan};
    use serde_json::json;

    use super::*;

    fn catalog(schema: Value) -> Catalog {
        let mut plan = ServicePlan::new("p", "p", "plan");
        plan.schemas = Some(osb_types::catalog::Schemas {
            service_instance: Some(ServiceInstanceSchema {
                create: Some(InputParametersSchema::new(schema)),
                ..ServiceInstanceSchema::default()
            }),
            ..osb_types::catalog::Schemas::default()
        });
        Catalog::new(vec![ServiceOffering::new("s", "s", "svc", vec![plan])])
    }

    fn check(schemas: &Schemas, params: Value) -> Result<(), String> {
        schemas.check("p", SchemaKind::InstanceCreate, params.as_object())
    }

    #[test]
    fn a41_draft04_semantics_are_used_when_declared_or_absent() {
        // Draft-04 boolean `exclusiveMaximum`: 10 itself is excluded.
        for declared in [Some("http://json-schema.org/draft-04/schema#"), None] {
            let mut schema = json!({
                "type": "object",
                "properties": { "size": { "type": "integer", "maximum": 10, "exclusiveMaximum": true } }
            });
            if let Some(uri) = declared {
                schema["$schema"] = json!(uri);
            }
            let schemas = Schemas::compile(&catalog(schema)).unwrap();
            assert!(check(&schemas, json!({ "size": 9 })).is_ok());
            let err = check(&schemas, json!({ "size": 10 })).unwrap_err();
            assert!(err.contains("size"), "{err}");
        }
    }

    #[test]
    fn a41_draft07_schemas_use_draft07_semantics() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": { "size": { "exclusiveMaximum": 10 } }
        });
        let schemas = Schemas::compile(&catalog(schema)).unwrap();
        assert!(check(&schemas, json!({ "size": 9 })).is_ok());
        assert!(check(&schemas, json!({ "size": 10 })).is_err());
    }

    #[test]
    fn problems_are_located_by_json_pointer_as_decoding_errors_are() {
        let schema = json!({
            "type": "object",
            "required": ["size"],
            "properties": { "size": { "type": "integer" }, "tags": { "type": "array", "items": { "type": "string" } } }
        });
        let schemas = Schemas::compile(&catalog(schema)).unwrap();
        assert_eq!(
            check(&schemas, json!({ "size": "x", "tags": ["a", 1] })).unwrap_err(),
            "invalid parameters: \"x\" is not of type \"integer\" (at `/size`); 1 is not of type \"string\" (at `/tags/1`)"
        );
        assert_eq!(
            check(&schemas, json!({})).unwrap_err(),
            "invalid parameters: \"size\" is a required property"
        );
        // serde's decoding (`params::decode`) writes its problems the same way.
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct P {
            size: u32,
        }
        let err = crate::params::decode::<P>(json!({ "size": "x" }).as_object()).unwrap_err();
        assert_eq!(
            err.body().description.as_deref(),
            Some("invalid parameters: invalid type: string \"x\", expected u32 (at `/size`)")
        );
    }

    #[test]
    fn plans_without_schema_accept_anything() {
        let schemas = Schemas::compile(&Catalog::new(vec![ServiceOffering::new(
            "s",
            "s",
            "svc",
            vec![ServicePlan::new("p", "p", "plan")],
        )]))
        .unwrap();
        assert!(check(&schemas, json!({ "anything": [1, 2] })).is_ok());
    }
}
