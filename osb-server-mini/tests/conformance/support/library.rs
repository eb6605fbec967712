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

/// Runs the `osb-conformance` checks named `names` (the library behind `osb check`, the one
/// implementation of these rules) against a fresh `TestBroker` whose background work
/// finishes by itself, and asserts each one passed on its main path: not skipped, not
/// warned, no unexpected note; and that the run left nothing behind.
pub(crate) async fn library_checks(names: &[&str]) -> osb_conformance::Report {
    use osb_conformance::{Checker, Config, Status};
    let broker = TestBroker(Arc::new(Shared {
        finish_after: Some(FINISH_AFTER),
        ..Shared::default()
    }));
    let running = Server::new(broker)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let mut config = Config::new(running.url());
    config.only = names.iter().map(|n| (*n).to_owned()).collect();
    let report = Checker::new(config).expect("checker").run(&|_| {}).await;
    let lines: Vec<String> = report.results.iter().map(|r| r.line()).collect();
    let lines = lines.join("\n");
    assert_eq!(report.plans, "sync: svc/sync, async: svc/async", "{lines}");
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
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status().as_u16(), 404, "{id} was left behind");
    }
    report
}

// ---------------------------------------------------------------------------------------
