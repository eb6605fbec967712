//! The platform flags of `osb` end to end: the real binary against the real echo broker on
//! loopback, whose request log shows what its code received (context, parameters,
//! originating identity), and whose authenticator shows which token arrived.

mod support;

use std::time::Duration;

use osb_server_mini::auth::BearerToken;
use serde_json::json;
use support::{Echo, TempDir, json_out, ok, osb, osb_env, osb_stdin, path_str, text, usage_error};

const DEFAULT_SPACE: &str = "0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0002";

fn echo() -> Echo {
    Echo::start(Duration::from_millis(200))
}

#[test]
fn c82_cf_shortcuts_fill_the_context_the_broker_receives() {
    let echo = echo();
    let out = osb(
        &echo.url(),
        &[
            "--json",
            "provision",
            "e-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--cf-org",
            "acme",
            "--cf-space",
            "dev",
            "--cf-instance-name",
            "db",
            "--org-guid",
            "org-9",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let expected = json!({"platform": "cloudfoundry", "organization_name": "acme",
        "organization_guid": "org-9", "space_name": "dev", "space_guid": DEFAULT_SPACE,
        "instance_name": "db"});
    assert_eq!(echo.only("provision")["context"], expected);
    let v = json_out(&out);
    assert_eq!(v["context"], expected);
    assert_eq!(v["organization_guid"], "org-9");
    assert_eq!(v["space_guid"], DEFAULT_SPACE);

    // bind: no instance_name required (C82), so no warning
    let out = osb(
        &echo.url(),
        &[
            "bind",
            "e-1",
            "b-1",
            "--cf-org",
            "acme",
            "--cf-org-guid",
            "org-9",
            "--cf-space",
            "dev",
            "--cf-space-guid",
            "space-9",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(
        echo.only("bind")["context"],
        json!({"platform": "cloudfoundry", "organization_name": "acme", "organization_guid": "org-9",
            "space_name": "dev", "space_guid": "space-9"})
    );
}

#[test]
fn c88_k8s_shortcuts_on_provision_update_and_bind() {
    let echo = echo();
    ok(&osb(
        &echo.url(),
        &[
            "provision",
            "k-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--k8s-namespace",
            "ns",
            "--k8s-cluster",
            "c1",
            "--k8s-instance-name",
            "db",
        ],
    ));
    assert_eq!(
        echo.only("provision")["context"],
        json!({"platform": "kubernetes", "namespace": "ns", "clusterid": "c1", "instance_name": "db"})
    );
    let out = osb(
        &echo.url(),
        &[
            "update",
            "k-1",
            "--service",
            "echo",
            "--params",
            r#"{"x":1}"#,
            "--k8s-namespace",
            "ns2",
            "--k8s-cluster",
            "c1",
            "--k8s-instance-name",
            "db2",
        ],
    );
    ok(&out);
    let update = echo.only("update");
    assert_eq!(
        update["context"],
        json!({"platform": "kubernetes", "namespace": "ns2", "clusterid": "c1", "instance_name": "db2"})
    );
    assert_eq!(update["parameters"], json!({"x": 1}));
    ok(&osb(
        &echo.url(),
        &[
            "bind",
            "k-1",
            "b-1",
            "--k8s-namespace",
            "ns2",
            "--k8s-cluster",
            "c1",
        ],
    ));
    assert_eq!(
        echo.only("bind")["context"],
        json!({"platform": "kubernetes", "namespace": "ns2", "clusterid": "c1"})
    );
}

#[test]
fn a_context_missing_profile_fields_is_sent_with_a_warning() {
    let echo = echo();
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "k-2",
            "--service",
            "echo",
            "--plan",
            "small",
            "--k8s-namespace",
            "ns",
        ],
    );
    ok(&out);
    assert_eq!(
        text(&out.stderr),
        "warning: the kubernetes context of a provision lacks clusterid, instance_name, which the \
         profile requires at API 2.17\n"
    );
    assert_eq!(
        echo.only("provision")["context"],
        json!({"platform": "kubernetes", "namespace": "ns"})
    );
    // --json keeps stderr quiet
    let out = osb(
        &echo.url(),
        &[
            "--json",
            "provision",
            "k-3",
            "--service",
            "echo",
            "--plan",
            "small",
            "--k8s-namespace",
            "ns",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn context_and_params_from_yaml_and_json_files_and_stdin() {
    let echo = echo();
    let dir = TempDir::new("files");
    let ctx = dir.file(
        "ctx.yaml",
        "platform: cloudfoundry\norganization_guid: org-1\norganization_name: acme\nspace_guid: sp-1\n\
         space_name: dev\ninstance_name: from-yaml\ninstance_annotations:\n  team.example.com/owner: ops\n",
    );
    let params = dir.file("p.json", r#"{"size": 3, "tags": ["a"]}"#);
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "f-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--context",
            &format!("@{}", path_str(&ctx)),
            // a shortcut sets a field on top of the file's context
            "--cf-instance-name",
            "overridden",
            "--params",
            &format!("@{}", path_str(&params)),
        ],
    );
    ok(&out);
    let seen = echo.only("provision");
    assert_eq!(
        seen["context"],
        json!({"platform": "cloudfoundry", "organization_guid": "org-1", "organization_name": "acme",
            "space_guid": "sp-1", "space_name": "dev", "instance_name": "overridden",
            "instance_annotations": {"team.example.com/owner": "ops"}})
    );
    assert_eq!(seen["parameters"], json!({"size": 3, "tags": ["a"]}));

    // --params @- reads standard input (YAML here)
    let out = osb_stdin(
        &[],
        &[
            "--url",
            &echo.url(),
            "-u",
            "admin",
            "-p",
            "secret",
            "update",
            "f-1",
            "--service",
            "echo",
            "--params",
            "@-",
        ],
        Some("size: 5\nmode: fast\n"),
    );
    ok(&out);
    assert_eq!(
        echo.only("update")["parameters"],
        json!({"size": 5, "mode": "fast"})
    );

    // mistakes are usage errors and nothing reaches the broker's code
    let broken = dir.file("broken.yaml", "platform: [\n");
    let before = echo.requests().len();
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "f-2",
            "--service",
            "echo",
            "--plan",
            "small",
            "--context",
            r#"{"platform":"kubernetes","namespace":"ns"}"#,
            "--cf-org",
            "acme",
        ],
    );
    usage_error(
        &out,
        "--cf-* flags fill a cloudfoundry context, but --context is for platform \"kubernetes\"",
    );
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "f-2",
            "--service",
            "echo",
            "--plan",
            "small",
            "--context",
            &format!("@{}", path_str(&broken)),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "error: --context is not valid YAML ({}): ",
            path_str(&broken)
        )),
        "{}",
        text(&out.stderr)
    );
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "f-2",
            "--service",
            "echo",
            "--plan",
            "small",
            "--params",
            "[1,2]",
        ],
    );
    usage_error(&out, "--params must be a JSON object");
    assert_eq!(echo.requests().len(), before);
}

#[test]
fn b5_originating_identity_reaches_the_broker() {
    let echo = echo();
    ok(&osb(
        &echo.url(),
        &[
            "--originating-identity",
            r#"cloudfoundry:{"user_id":"683ea748-3092-4ff4-b656-39cacc4d5360"}"#,
            "provision",
            "o-1",
            "--service",
            "echo",
            "--plan",
            "small",
            "--cf-org",
            "acme",
            "--cf-space",
            "dev",
            "--cf-instance-name",
            "db",
        ],
    ));
    assert_eq!(
        echo.only("provision")["originating_identity"],
        json!({"platform": "cloudfoundry", "value": {"user_id": "683ea748-3092-4ff4-b656-39cacc4d5360"}})
    );
    // from the environment and a file, on a request without context
    let dir = TempDir::new("identity");
    let id = dir.file(
        "duke.json",
        r#"{"username":"duke","uid":"c2dde242","groups":["admin","dev"],"extra":{"mydata":["data1"]}}"#,
    );
    let out = osb_env(
        &[(
            "OSB_ORIGINATING_IDENTITY",
            &format!("kubernetes:@{}", path_str(&id)),
        )],
        &[
            "--url",
            &echo.url(),
            "-u",
            "admin",
            "-p",
            "secret",
            "deprovision",
            "o-1",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(
        echo.only("deprovision")["originating_identity"],
        json!({"platform": "kubernetes", "value": {"username": "duke", "uid": "c2dde242",
            "groups": ["admin", "dev"], "extra": {"mydata": ["data1"]}}})
    );
}

#[test]
fn c72_identity_and_context_platforms_must_agree() {
    let echo = echo();
    let out = osb(
        &echo.url(),
        &[
            "--originating-identity",
            r#"kubernetes:{"username":"duke","uid":"u","groups":[],"extra":{}}"#,
            "provision",
            "o-2",
            "--service",
            "echo",
            "--plan",
            "small",
            "--cf-org",
            "acme",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "the originating identity is for platform \"kubernetes\" but context.platform is \"cloudfoundry\""
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(echo.requests().is_empty(), "{:?}", echo.requests());
    // an identity lacking the profile's properties is sent, with a warning (C91)
    let out = osb(
        &echo.url(),
        &[
            "--originating-identity",
            r#"kubernetes:{"username":"duke"}"#,
            "provision",
            "o-3",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    ok(&out);
    assert_eq!(
        text(&out.stderr),
        "warning: the kubernetes originating identity lacks uid, groups, extra, which the profile requires\n"
    );
    assert_eq!(
        echo.only("provision")["originating_identity"]["value"],
        json!({"username": "duke"})
    );
    usage_error(
        &osb(
            &echo.url(),
            &["--originating-identity", "cloudfoundry", "catalog"],
        ),
        "--originating-identity must be PLATFORM:JSON or PLATFORM:@FILE, e.g. cloudfoundry:{\"user_id\":\"u-1\"}",
    );
}

#[test]
fn token_flag_and_osb_token_send_a_bearer_token() {
    let echo = Echo::start_with(Duration::from_millis(200), |s| {
        s.authenticator(BearerToken::new("t0ken"))
    });
    let url = echo.url();
    let out = osb_env(
        &[],
        &[
            "--url",
            &url,
            "--token",
            "t0ken",
            "provision",
            "t-1",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    ok(&out);
    assert_eq!(echo.only("provision")["instance_id"], "t-1");
    ok(&osb_env(&[("OSB_TOKEN", "t0ken")], &["--url", &url, "catalog"]));
    // a wrong token: the broker refuses it
    let out = osb_env(&[("OSB_TOKEN", "wrong")], &["--url", &url, "--json", "catalog"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_out(&out)["status"], 401);
    // Basic credentials instead are refused too
    let out = osb(&url, &["catalog"]);
    assert_eq!(out.status.code(), Some(1));
    usage_error(
        &osb_env(
            &[("OSB_TOKEN", "t0ken")],
            &["--url", &url, "-u", "admin", "catalog"],
        ),
        "--token (or OSB_TOKEN) and --username/--password (or OSB_USERNAME/OSB_PASSWORD) cannot be \
         used together: choose one way to authenticate",
    );
}

#[test]
fn the_token_never_shows_in_help_or_errors() {
    let out = osb_env(&[("OSB_TOKEN", "s3cr3t-t0ken")], &["--help"]);
    ok(&out);
    assert!(text(&out.stdout).contains("--token <TOKEN>"));
    assert!(!text(&out.stdout).contains("s3cr3t-t0ken"));
    let out = osb_env(
        &[("OSB_TOKEN", "s3cr3t-t0ken")],
        &["--url", "http://127.0.0.1:1", "catalog"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !text(&out.stderr).contains("s3cr3t-t0ken"),
        "{}",
        text(&out.stderr)
    );
}

/// The `[12.3s] label: state: description` line of a `--wait` on a non-terminal stderr.
fn progress_lines(stderr: &str, label: &str) -> Vec<(f64, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let (secs, rest) = rest.split_once("s] ")?;
            let rest = rest.strip_prefix(label)?.strip_prefix(": ")?;
            Some((secs.parse().ok()?, rest.to_owned()))
        })
        .collect()
}

#[test]
fn wait_shows_the_elapsed_time_and_the_brokers_description() {
    let echo = Echo::start(Duration::from_millis(2500));
    let out = osb(
        &echo.url(),
        &[
            "provision",
            "w-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    ok(&out);
    let stderr = text(&out.stderr);
    let lines = progress_lines(&stderr, "provisioning w-1 (echo/large)");
    assert!(!lines.is_empty(), "no progress line in {stderr:?}");
    assert!(
        lines
            .iter()
            .all(|(secs, what)| *secs >= 0.0 && what == "in progress: Creating echo instance"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).starts_with("✔ w-1 provisioned in "),
        "{}",
        text(&out.stdout)
    );
    // --json: stderr stays empty
    let out = osb(
        &echo.url(),
        &[
            "--json",
            "deprovision",
            "w-1",
            "--service",
            "echo",
            "--plan",
            "large",
            "--wait",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let state = json_out(&out)["state"].clone();
    assert!(state == "gone" || state == "succeeded", "{state}");
}

#[test]
fn check_refuses_the_flags_its_checks_cannot_honour() {
    let echo = Echo::start_with(Duration::from_millis(200), |s| {
        s.authenticator(BearerToken::new("t0ken"))
    });
    let out = osb_env(
        &[("OSB_TOKEN", "t0ken")],
        &[
            "--url",
            &echo.url(),
            "--originating-identity",
            "cloudfoundry {\"user_id\":\"u\"}",
            "check",
        ],
    );
    usage_error(
        &out,
        "osb check does not take --originating-identity: the checks send their own",
    );
    assert!(echo.requests().is_empty());
}

#[test]
fn b47_a_context_only_update_needs_allow_context_updates() {
    let echo = echo();
    ok(&osb(
        &echo.url(),
        &["provision", "u-1", "--service", "echo", "--plan", "small"],
    ));
    usage_error(
        &osb(
            &echo.url(),
            &[
                "update",
                "u-1",
                "--service",
                "echo",
                "--cf-instance-name",
                "renamed",
            ],
        ),
        "offering \"echo\" does not declare allow_context_updates: an update that changes only the \
         context cannot be sent (add --params or --plan)",
    );
    usage_error(
        &osb(
            &echo.url(),
            &["bind", "u-1", "b-2", "--rotate", "b-1", "--k8s-namespace", "ns"],
        ),
        "--context and the --cf-*/--k8s-* flags cannot be used with --rotate",
    );
    let calls: Vec<_> = echo.requests().into_iter().map(|r| r["call"].clone()).collect();
    assert_eq!(calls, ["provision"]);
}
