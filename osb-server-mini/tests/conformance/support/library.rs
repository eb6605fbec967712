//! The checks of `osb check` (osb-conformance), run against this runtime.

use super::*;

/// How long background work takes on the broker the library checks run against: long
/// enough that a check can act while an operation runs.
pub(crate) const FINISH_AFTER: Duration = Duration::from_millis(1000);

/// The only checks that pass with a note on the path this runtime takes (any other note
/// means the check took a spec-legal shortcut, e.g. "bound synchronously", and proved less).
const EXPECTED_NOTES: &[(&str, &str)] = &[
    ("async.deprovision", "last_operation ended 200 succeeded"),
    // the offering's other plan is the asynchronous one
    ("update.plan_change", "updated asynchronously"),
];

/// Where the library checks run: which plan of `svc` is the synchronous one (the
/// asynchronous one is always `async`), and whether the server asks for credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    pub(crate) sync_plan: &'static str,
    pub(crate) basic_auth: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            sync_plan: "sync",
            basic_auth: false,
        }
    }
}

/// Runs the `osb-conformance` checks named `names` (the library behind `osb check`, the one
/// implementation of these rules) against a fresh `TestBroker` whose background work
/// finishes by itself, and asserts each one passed on its main path: not skipped, not
/// warned, no unexpected note; and that the run left nothing behind.
pub(crate) async fn library_checks(names: &[&str]) -> osb_conformance::Report {
    library_checks_with(names, Setup::default()).await
}

/// [`library_checks`] on another [`Setup`].
pub(crate) async fn library_checks_with(names: &[&str], setup: Setup) -> osb_conformance::Report {
    use osb_conformance::{Checker, Config, Status};
    let broker = TestBroker(Arc::new(Shared {
        finish_after: Some(FINISH_AFTER),
        ..Shared::default()
    }));
    let mut server = Server::new(broker);
    if setup.basic_auth {
        server = server.basic_auth("admin", "secret");
    }
    let running = server.spawn("127.0.0.1:0").await.expect("server starts");
    let mut config = Config::new(running.url());
    if setup.basic_auth {
        config = config.basic_auth("admin", "secret");
    }
    config.plans = vec![setup.sync_plan.to_owned(), "async".to_owned()];
    config.only = names.iter().map(|n| (*n).to_owned()).collect();
    let report = Checker::new(config).expect("checker").run(&|_| {}).await;
    let lines: Vec<String> = report.results.iter().map(|r| r.line()).collect();
    let lines = lines.join("\n");
    let plans = format!("sync: svc/{}, async: svc/async", setup.sync_plan);
    assert_eq!(report.plans, plans, "{lines}");
    let mut ran: Vec<&str> = report.results.iter().map(|r| r.check.name).collect();
    let mut want = names.to_vec();
    ran.sort_unstable();
    want.sort_unstable();
    assert_eq!(ran, want, "every named check exists and ran");
    for r in &report.results {
        assert_eq!(r.status, Status::Pass, "{}\n{lines}", r.check.name);
        let expected = EXPECTED_NOTES
            .iter()
            .find(|(n, _)| *n == r.check.name)
            .map(|(_, note)| *note);
        assert_eq!(r.note.as_deref(), expected, "{}: the main path", r.check.name);
    }
    assert!(
        report.cleanup_problems.is_empty(),
        "{:?}",
        report.cleanup_problems
    );
    for id in &report.created {
        let res = reqwest::Client::new()
            .get(format!("{}{I}/{id}", running.url()))
            .basic_auth("admin", Some("secret"))
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status().as_u16(), 404, "{id} was left behind");
    }
    report
}

// ---------------------------------------------------------------------------------------
