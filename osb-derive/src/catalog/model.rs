//! Single-item checks darling cannot express: non-empty strings, SemVer versions, struct shape.
//! Cross-item rules (unique ids and names) belong to `Catalog::validate()` at server start.

use darling::{Error, Result};

use super::attrs::{ExtraAttrs, OfferingAttrs, PlanAttrs, Str};

/// `#[derive(X)]` accepts non-generic structs only.
pub(crate) fn check_shape(input: &syn::DeriveInput, derive: &str) -> Result<()> {
    let shape_error = |kind: &str| {
        Error::custom(format!(
            "`#[derive({derive})]` supports structs only, not {kind}s"
        ))
        .with_span(&input.ident)
    };
    match &input.data {
        syn::Data::Struct(_) => {}
        syn::Data::Enum(_) => return Err(shape_error("enum")),
        syn::Data::Union(_) => return Err(shape_error("union")),
    }
    if !input.generics.params.is_empty() {
        return Err(
            Error::custom(format!("`#[derive({derive})]` does not support generic structs"))
                .with_span(&input.generics),
        );
    }
    Ok(())
}

/// The permissions the specification defines for `requires`.
const REQUIRES: [&str; 3] = ["syslog_drain", "route_forwarding", "volume_mount"];

fn non_empty(errors: &mut darling::error::Accumulator, key: &str, value: Option<&Str>) {
    if let Some(Str(lit)) = value
        && lit.value().trim().is_empty()
    {
        errors.push(Error::custom(format!("`{key}` must be a non-empty string")).with_span(lit));
    }
}

/// Keys of an offering's `metadata` the specification defines: (wire name, attribute name,
/// how to write it).
const OFFERING_METADATA: [(&str, &str, &str); 7] = [
    ("displayName", "display_name", "display_name = \"..\""),
    ("imageUrl", "image_url", "image_url = \"..\""),
    ("longDescription", "long_description", "long_description = \"..\""),
    (
        "providerDisplayName",
        "provider_display_name",
        "provider_display_name = \"..\"",
    ),
    (
        "documentationUrl",
        "documentation_url",
        "documentation_url = \"..\"",
    ),
    ("supportUrl", "support_url", "support_url = \"..\""),
    ("shareable", "shareable", "shareable"),
];

/// Keys of a plan's `metadata` the specification defines, as for offerings.
const PLAN_METADATA: [(&str, &str, &str); 3] = [
    ("bullets", "bullets", "bullets(\"..\", ..)"),
    ("costs", "cost", "cost(unit = \"..\", amount(usd = ..))"),
    ("displayName", "display_name", "display_name = \"..\""),
];

/// `extra(..)` keys must not shadow the metadata fields the specification defines.
fn check_extra(
    errors: &mut darling::error::Accumulator,
    extra: Option<&ExtraAttrs>,
    known: &[(&str, &str, &str)],
) {
    use syn::ext::IdentExt;
    for (key, _) in extra.map(|e| e.0.as_slice()).unwrap_or_default() {
        let name = key.unraw().to_string();
        if let Some((_, _, usage)) = known
            .iter()
            .find(|(wire, attr, _)| name == *wire || name == *attr)
        {
            errors.push(
                Error::custom(format!(
                    "`{name}` is defined by the specification, not an extra key: write `metadata({usage})`"
                ))
                .with_span(key),
            );
        }
    }
}

/// Checks an offering's attribute values.
pub(crate) fn check_offering(attrs: &OfferingAttrs) -> Result<()> {
    let mut errors = Error::accumulator();
    non_empty(&mut errors, "id", Some(&attrs.id));
    non_empty(&mut errors, "name", Some(&attrs.name));
    non_empty(&mut errors, "description", Some(&attrs.description));
    if let Some(requires) = &attrs.requires {
        for lit in &requires.0 {
            if !REQUIRES.contains(&lit.value().as_str()) {
                errors.push(
                    Error::custom(format!(
                        "unknown `requires` permission {:?}: expected one of \"syslog_drain\", \"route_forwarding\", \"volume_mount\"",
                        lit.value()
                    ))
                    .with_span(lit),
                );
            }
        }
    }
    if let Some(metadata) = &attrs.metadata {
        check_extra(&mut errors, metadata.extra.as_ref(), &OFFERING_METADATA);
    }
    if let Some(client) = &attrs.dashboard_client {
        non_empty(&mut errors, "dashboard_client(id)", Some(&client.id));
        non_empty(&mut errors, "dashboard_client(secret)", Some(&client.secret));
    }
    if attrs.plans.is_empty() {
        errors.push(
            Error::custom("an offering needs at least one plan: add `plans(MyPlan, ..)`")
                .with_span(&attrs.ident),
        );
    }
    errors.finish()
}

/// Checks a plan's attribute values.
pub(crate) fn check_plan(attrs: &PlanAttrs) -> Result<()> {
    let mut errors = Error::accumulator();
    non_empty(&mut errors, "id", Some(&attrs.id));
    non_empty(&mut errors, "name", Some(&attrs.name));
    non_empty(&mut errors, "description", Some(&attrs.description));
    if let Some(metadata) = &attrs.metadata {
        check_extra(&mut errors, metadata.extra.as_ref(), &PLAN_METADATA);
    }
    if let Some(info) = &attrs.maintenance_info {
        let version = &info.version.0;
        if !is_semver(&version.value()) {
            errors.push(
                Error::custom(format!(
                    "`maintenance_info(version)` must be a SemVer 2.0 version like \"1.0.0\", got {:?}",
                    version.value()
                ))
                .with_span(version),
            );
        }
    }
    errors.finish()
}

/// SemVer 2.0: `MAJOR.MINOR.PATCH`, numeric identifiers without leading zeros, optional
/// `-pre.release` (dot-separated, alphanumeric or `-`; numeric ones without leading zeros)
/// and `+build` (dot-separated, alphanumeric or `-`).
pub(crate) fn is_semver(version: &str) -> bool {
    fn numeric(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    }
    fn identifiers(s: &str, pre: bool) -> bool {
        s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!pre || !id.bytes().all(|b| b.is_ascii_digit()) || numeric(id))
        })
    }
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| identifiers(p, true))
        && build.is_none_or(|b| identifiers(b, false))
}

#[cfg(test)]
mod tests {
    use super::is_semver;

    #[test]
    fn semver_accepts() {
        for v in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-0.3.7",
            "1.0.0-x.7.z.92",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0+001",
            "1.0.0-alpha-a.b-c",
        ] {
            assert!(is_semver(v), "{v}");
        }
    }

    #[test]
    fn semver_rejects() {
        for v in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "v1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3-a_b",
            "a.b.c",
            "1.2.-3",
            " 1.2.3",
        ] {
            assert!(!is_semver(v), "{v}");
        }
    }
}
