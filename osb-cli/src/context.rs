//! The `context` object from `--context` and the `--cf-*` / `--k8s-*` shortcuts, and the
//! originating identity from `--originating-identity`.

use osb_client::types::context::{CLOUD_FOUNDRY, KUBERNETES};
use osb_client::types::{Context, OriginatingIdentity};
use serde_json::{Map, Value};

use crate::Failure;
use crate::cli::{ContextArgs, DEFAULT_ORG_GUID, DEFAULT_SPACE_GUID};

/// The context to send, or `None` when no context flag was given.
///
/// A Cloud Foundry context always carries `organization_guid` and `space_guid` (the profile
/// requires both): when neither `--context` nor `--cf-org-guid` / `--cf-space-guid` has them,
/// they are `org_guid` / `space_guid` (provision's `--org-guid` / `--space-guid`), else the
/// default GUIDs that `provision` sends.
pub(crate) fn build(
    args: &ContextArgs,
    org_guid: Option<&str>,
    space_guid: Option<&str>,
) -> Result<Option<Context>, Failure> {
    let cf = [
        ("organization_name", &args.cf_org),
        ("organization_guid", &args.cf_org_guid),
        ("space_name", &args.cf_space),
        ("space_guid", &args.cf_space_guid),
        ("instance_name", &args.cf_instance_name),
    ];
    let k8s = [
        ("namespace", &args.k8s_namespace),
        ("clusterid", &args.k8s_cluster),
        ("instance_name", &args.k8s_instance_name),
    ];
    let given = |fields: &[(&'static str, &Option<String>)]| -> Vec<(&'static str, String)> {
        fields
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone())))
            .collect()
    };
    let (cf, k8s) = (given(&cf), given(&k8s));
    if !cf.is_empty() && !k8s.is_empty() {
        return Err(Failure::usage(
            "--cf-* and --k8s-* flags cannot be mixed: a context is for one platform".to_owned(),
        ));
    }
    let (shortcut_platform, fields) = if cf.is_empty() {
        (KUBERNETES, k8s)
    } else {
        (CLOUD_FOUNDRY, cf)
    };
    let mut map = match &args.context {
        Some(raw) => crate::input::object("--context", raw)?,
        None if fields.is_empty() => return Ok(None),
        None => Map::new(),
    };
    let platform = match map.get("platform") {
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
        Some(_) => {
            return Err(Failure::usage(
                "--context: \"platform\" must be a non-empty string".to_owned(),
            ));
        }
        None if fields.is_empty() => {
            return Err(Failure::usage(
                "--context must have a \"platform\" (e.g. \"cloudfoundry\" or \"kubernetes\")".to_owned(),
            ));
        }
        None => shortcut_platform.to_owned(),
    };
    if !fields.is_empty() && platform != shortcut_platform {
        let prefix = if shortcut_platform == CLOUD_FOUNDRY {
            "--cf-*"
        } else {
            "--k8s-*"
        };
        return Err(Failure::usage(format!(
            "{prefix} flags fill a {shortcut_platform} context, but --context is for platform {platform:?}"
        )));
    }
    map.insert("platform".to_owned(), Value::String(platform.clone()));
    for (k, v) in fields {
        map.insert(k.to_owned(), Value::String(v));
    }
    if platform == CLOUD_FOUNDRY {
        for (k, given, default) in [
            ("organization_guid", org_guid, DEFAULT_ORG_GUID),
            ("space_guid", space_guid, DEFAULT_SPACE_GUID),
        ] {
            if !map.contains_key(k) {
                let v = given.filter(|g| !g.trim().is_empty()).unwrap_or(default);
                map.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    serde_json::from_value(Value::Object(map))
        .map(Some)
        .map_err(|e| Failure::usage(format!("--context: {e}")))
}

/// The fields the profile requires of a context on `call` (`provision`, `update`, `bind`)
/// that `context` lacks (C82, C88), for the version in use.
pub(crate) fn missing_required(
    context: &Context,
    call: &str,
    version: osb_client::types::ApiVersion,
) -> Vec<&'static str> {
    use osb_client::types::ApiVersion;
    let v2_15 = version >= ApiVersion::V2_15;
    let instance = call != "bind";
    let required: Vec<(&'static str, bool)> = match context {
        Context::CloudFoundry(cf) => vec![
            ("organization_guid", cf.organization_guid.is_some()),
            ("space_guid", cf.space_guid.is_some()),
            ("organization_name", !v2_15 || cf.organization_name.is_some()),
            ("space_name", !v2_15 || cf.space_name.is_some()),
            ("instance_name", !v2_15 || !instance || cf.instance_name.is_some()),
        ],
        Context::Kubernetes(k) => vec![
            ("namespace", k.namespace.is_some()),
            ("clusterid", version < ApiVersion::V2_14 || k.clusterid.is_some()),
            ("instance_name", !v2_15 || !instance || k.instance_name.is_some()),
        ],
        _ => Vec::new(),
    };
    required
        .into_iter()
        .filter_map(|(name, present)| (!present).then_some(name))
        .collect()
}

/// Parses `--originating-identity PLATFORM:JSON|@FILE`.
pub(crate) fn identity(raw: &str) -> Result<OriginatingIdentity, Failure> {
    let flag = "--originating-identity";
    let Some((platform, value)) = raw.split_once(':') else {
        return Err(Failure::usage(format!(
            "{flag} must be PLATFORM:JSON or PLATFORM:@FILE, e.g. cloudfoundry:{{\"user_id\":\"u-1\"}}"
        )));
    };
    if platform.is_empty() || platform.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::usage(format!(
            "{flag}: the platform {platform:?} must be a non-empty word (e.g. cloudfoundry or kubernetes)"
        )));
    }
    let value = crate::input::object(flag, value)?;
    let other = OriginatingIdentity::Other {
        platform: platform.to_owned(),
        value,
    };
    // the typed form for the profile's platforms (and their property types checked)
    OriginatingIdentity::parse(&other.to_header_value()).map_err(|e| Failure::usage(format!("{flag}: {e}")))
}

/// The properties the profile requires of an identity that `identity` lacks (C90, C91).
pub(crate) fn identity_missing(identity: &OriginatingIdentity) -> Vec<&'static str> {
    let present: Vec<(&'static str, bool)> = match identity {
        OriginatingIdentity::CloudFoundry(cf) => vec![("user_id", cf.user_id.is_some())],
        OriginatingIdentity::Kubernetes(k) => vec![
            ("username", k.username.is_some()),
            ("uid", k.uid.is_some()),
            ("groups", k.groups.is_some()),
            ("extra", k.extra.is_some()),
        ],
        _ => Vec::new(),
    };
    present
        .into_iter()
        .filter_map(|(name, ok)| (!ok).then_some(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cf_shortcuts_fill_the_profile_fields_and_default_guids() {
        let args = ContextArgs {
            cf_org: Some("acme".to_owned()),
            cf_space: Some("dev".to_owned()),
            cf_instance_name: Some("db".to_owned()),
            ..ContextArgs::default()
        };
        let ctx = build(&args, Some("org-1"), None).unwrap().unwrap();
        let v = serde_json::to_value(&ctx).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"platform": "cloudfoundry", "organization_name": "acme",
                "organization_guid": "org-1", "space_name": "dev", "space_guid": DEFAULT_SPACE_GUID,
                "instance_name": "db"})
        );
        assert!(missing_required(&ctx, "provision", osb_client::types::ApiVersion::V2_17).is_empty());
    }

    #[test]
    fn mixing_platforms_is_refused() {
        let args = ContextArgs {
            cf_org: Some("acme".to_owned()),
            k8s_namespace: Some("ns".to_owned()),
            ..ContextArgs::default()
        };
        assert!(build(&args, None, None).is_err());
        let args = ContextArgs {
            context: Some(r#"{"platform":"kubernetes"}"#.to_owned()),
            cf_org: Some("acme".to_owned()),
            ..ContextArgs::default()
        };
        assert_eq!(
            build(&args, None, None).unwrap_err().description,
            "--cf-* flags fill a cloudfoundry context, but --context is for platform \"kubernetes\""
        );
        let args = ContextArgs {
            context: Some(r#"{"namespace":"x"}"#.to_owned()),
            ..ContextArgs::default()
        };
        assert!(build(&args, None, None).is_err());
    }

    #[test]
    fn k8s_requirements_depend_on_call_and_version() {
        let args = ContextArgs {
            k8s_namespace: Some("ns".to_owned()),
            ..ContextArgs::default()
        };
        let ctx = build(&args, None, None).unwrap().unwrap();
        use osb_client::types::ApiVersion;
        assert_eq!(
            missing_required(&ctx, "provision", ApiVersion::V2_17),
            ["clusterid", "instance_name"]
        );
        assert_eq!(missing_required(&ctx, "bind", ApiVersion::V2_17), ["clusterid"]);
        assert!(missing_required(&ctx, "provision", ApiVersion::new(2, 13)).is_empty());
    }

    #[test]
    fn identities_parse_per_platform() {
        let id = identity(r#"cloudfoundry:{"user_id":"u-1"}"#).unwrap();
        assert!(matches!(id, OriginatingIdentity::CloudFoundry(_)));
        assert!(identity_missing(&id).is_empty());
        let id = identity(r#"kubernetes:{"username":"duke"}"#).unwrap();
        assert_eq!(identity_missing(&id), ["uid", "groups", "extra"]);
        assert!(identity(r#"{"user_id":"u"}"#).is_err());
        assert!(identity(r#":{"user_id":"u"}"#).is_err());
        assert!(identity(r#"cloudfoundry:{"user_id":1}"#).is_err());
        assert!(identity("nomad:[1]").is_err());
    }
}
