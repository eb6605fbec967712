//! `--wait` progress on stderr: the time since waiting began, the operation's state and the
//! broker's `description`.
//!
//! On a terminal, a spinner line that is redrawn in place. Elsewhere (a pipe, a CI log), one
//! line each time the state or description changes, and at least every 30 seconds, unless
//! `--json` asked for a quiet stderr.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use osb_client::types::ServicePlan;
use osb_client::{Progress, WaitOptions};

/// How often a non-terminal progress line repeats when nothing changed.
const REPEAT: Duration = Duration::from_secs(30);

/// The progress display of one wait; [`Waiting::finish`] clears it.
#[derive(Debug)]
pub(crate) struct Waiting {
    spinner: Option<ProgressBar>,
}

impl Waiting {
    /// Removes the spinner (if any).
    pub(crate) fn finish(self) {
        if let Some(pb) = self.spinner {
            pb.finish_and_clear();
        }
    }
}

/// `[3.2s] provisioning i-1: in progress: Creating the database`.
fn line(label: &str, p: &Progress) -> String {
    let description = p
        .description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    format!(
        "[{:.1}s] {label}: {}{description}",
        p.elapsed.as_secs_f64(),
        p.state
    )
}

/// Starts showing the progress of waiting for `label`; the options poll with the plan's
/// `maximum_polling_duration` when `plan` is known.
pub(crate) fn start(label: &str, plan: Option<&ServicePlan>, quiet: bool) -> (Waiting, WaitOptions) {
    let mut opts = WaitOptions::default().interval(Duration::from_secs(1));
    if let Some(plan) = plan {
        opts = opts.plan(plan);
    }
    let label = label.to_owned();
    if std::io::stderr().is_terminal() {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(format!("{label} …"));
        pb.enable_steady_tick(Duration::from_millis(100));
        let pb2 = pb.clone();
        opts = opts.on_progress(move |p| {
            let description = p
                .description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            pb2.set_message(format!("{label} … {}{description}", p.state));
        });
        return (Waiting { spinner: Some(pb) }, opts);
    }
    if !quiet {
        // (state and description, elapsed) of the last line printed
        let last: Mutex<Option<(String, Duration)>> = Mutex::new(None);
        opts = opts.on_progress(move |p| {
            let key = format!("{}{:?}", p.state, p.description);
            let Ok(mut last) = last.lock() else { return };
            let due = match &*last {
                Some((k, at)) => *k != key || p.elapsed.saturating_sub(*at) >= REPEAT,
                None => true,
            };
            if due {
                anstream::eprintln!("{}", line(&label, p));
                *last = Some((key, p.elapsed));
            }
        });
    }
    (Waiting { spinner: None }, opts)
}
