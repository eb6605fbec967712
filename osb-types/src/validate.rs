//! The rules behind [`Catalog::validate`](crate::catalog::Catalog::validate).

use std::collections::HashMap;

use serde_json::Value;

use crate::catalog::{
    Catalog, CatalogErrors, CatalogProblem, InputParametersSchema, ServiceOffering, ServicePlan,
};

/// Largest schema the spec allows ("Schemas MUST NOT be larger than 64kB").
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

struct Problems(Vec<CatalogProblem>);

impl Problems {
    fn push(&mut self, location: &str, field: &str, message: impl Into<String>) {
        self.0.push(CatalogProblem {
            location: location.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn non_empty(&mut self, location: &str, field: &str, value: &str) {
        if value.is_empty() {
            self.push(location, field, "must be a non-empty string");
        }
    }
}

fn offering_location(i: usize, s: &ServiceOffering) -> String {
    format!("service `{}` (services[{i}])", s.name)
}

fn plan_location(offering: &str, j: usize, p: &ServicePlan) -> String {
    format!("{offering}, plan `{}` (plans[{j}])", p.name)
}

pub(crate) fn catalog(catalog: &Catalog) -> Result<(), CatalogErrors> {
    let mut problems = Problems(Vec::new());
    // id → first place it was seen; offering and plan ids share one namespace because the
    // spec says an id "will always refer to this Service Offering" (or Plan).
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut names: HashMap<&str, usize> = HashMap::new();

    for (i, s) in catalog.services.iter().enumerate() {
        let loc = offering_location(i, s);
        problems.non_empty(&loc, "id", s.id.as_str());
        problems.non_empty(&loc, "name", &s.name);
        problems.non_empty(&loc, "description", &s.description);
        unique_id(&mut problems, &mut ids, &loc, s.id.as_str());
        if !s.name.is_empty()
            && let Some(first) = names.insert(&s.name, i)
        {
            problems.push(
                &loc,
                "name",
                format!(
                    "`{}` is already used by services[{first}]; offering names must be unique",
                    s.name
                ),
            );
        }
        if s.plans.is_empty() {
            problems.push(&loc, "plans", "must contain at least one plan");
        }
        if let Some(dc) = &s.dashboard_client {
            problems.non_empty(&loc, "dashboard_client.id", &dc.id);
            problems.non_empty(&loc, "dashboard_client.secret", &dc.secret);
        }
        let mut plan_names: HashMap<&str, usize> = HashMap::new();
        for (j, p) in s.plans.iter().enumerate() {
            let ploc = plan_location(&loc, j, p);
            problems.non_empty(&ploc, "id", p.id.as_str());
            problems.non_empty(&ploc, "name", &p.name);
            problems.non_empty(&ploc, "description", &p.description);
            unique_id(&mut problems, &mut ids, &ploc, p.id.as_str());
            if !p.name.is_empty()
                && let Some(first) = plan_names.insert(&p.name, j)
            {
                problems.push(&ploc, "name", format!("`{}` is already used by plans[{first}] of this offering; plan names must be unique within an offering", p.name));
            }
            plan(&mut problems, &ploc, p);
        }
    }
    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(CatalogErrors(problems.0))
    }
}

fn unique_id<'c>(problems: &mut Problems, ids: &mut HashMap<&'c str, String>, loc: &str, id: &'c str) {
    if id.is_empty() {
        return;
    }
    if let Some(first) = ids.get(id) {
        problems.push(
            loc,
            "id",
            format!("`{id}` is already used by {first}; ids must be globally unique"),
        );
    } else {
        ids.insert(id, loc.to_owned());
    }
}

fn plan(problems: &mut Problems, loc: &str, p: &ServicePlan) {
    if let Some(mi) = &p.maintenance_info {
        match mi.version.as_deref() {
            None => problems.push(
                loc,
                "maintenance_info.version",
                "is required when `maintenance_info` is present",
            ),
            Some(v) => {
                if let Err(e) = semver::Version::parse(v) {
                    problems.push(
                        loc,
                        "maintenance_info.version",
                        format!("`{v}` is not a semantic version 2.0 ({e})"),
                    );
                }
            }
        }
    }
    if let Some(d) = p.maximum_polling_duration
        && d <= 0
    {
        problems.push(
            loc,
            "maximum_polling_duration",
            format!("must be a positive number of seconds, got {d}"),
        );
    }
    if let Some(schemas) = &p.schemas {
        let instance = schemas.service_instance.as_ref();
        let binding = schemas.service_binding.as_ref();
        let all = [
            (
                "schemas.service_instance.create",
                instance.and_then(|s| s.create.as_ref()),
            ),
            (
                "schemas.service_instance.update",
                instance.and_then(|s| s.update.as_ref()),
            ),
            (
                "schemas.service_binding.create",
                binding.and_then(|s| s.create.as_ref()),
            ),
        ];
        for (field, schema) in all {
            if let Some(schema) = schema {
                input_schema(problems, loc, field, schema);
            }
        }
    }
}

fn input_schema(problems: &mut Problems, loc: &str, field: &str, schema: &InputParametersSchema) {
    let Some(params) = &schema.parameters else {
        return;
    };
    let field = format!("{field}.parameters");
    let Value::Object(obj) = params else {
        problems.push(loc, &field, "must be a JSON schema object");
        return;
    };
    match obj.get("$schema") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => problems.push(
            loc,
            &field,
            "must declare its JSON Schema version in a `$schema` key",
        ),
    }
    let size = serde_json::to_vec(params).map_or(0, |v| v.len());
    if size > MAX_SCHEMA_BYTES {
        problems.push(
            loc,
            &field,
            format!("is {size} bytes; schemas must not be larger than 64kB"),
        );
    }
    if let Some(r) = external_ref(params) {
        problems.push(
            loc,
            &field,
            format!("must not contain external references, found `$ref: {r}`"),
        );
    }
}

/// The first `$ref` that does not point inside the document (`#...`).
fn external_ref(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && !r.starts_with('#')
            {
                return Some(r);
            }
            m.values().find_map(external_ref)
        }
        Value::Array(a) => a.iter().find_map(external_ref),
        _ => None,
    }
}
