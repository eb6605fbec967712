//! Results: one [`CheckResult`] per check, a [`Report`] for the run, rendered as text lines,
//! JSON or JUnit XML.

use std::fmt;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::checks::CheckDef;

/// How strongly the specification requires what a check tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// `MUST` / `MUST NOT` (and `[IMPLIED]` rules that follow from one): a violation fails.
    Must,
    /// `SHOULD`, `RECOMMENDED`, or a rule that interoperability asks for: a violation warns.
    Should,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
        })
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The broker did what the specification requires.
    Pass,
    /// A `MUST` was broken.
    Fail,
    /// A `SHOULD` was broken (or a spec-legal answer that platforms handle badly).
    Warn,
    /// Not applicable to this broker (e.g. the catalog does not declare the feature), or not
    /// observable this time.
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Warn => "WARN",
            Self::Skip => "SKIP",
        })
    }
}

/// What a failing (or warning) check saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Finding {
    /// The request that got the wrong answer (method, path, query, body; never credentials).
    pub sent: Option<String>,
    /// What came back: status, content type and body, or why nothing came back.
    pub got: Option<String>,
    /// What the specification requires.
    pub required: String,
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check.
    pub check: &'static CheckDef,
    /// Its outcome.
    pub status: Status,
    /// For a pass: a note on what was accepted (e.g. which of several legal answers); for a
    /// skip: why.
    pub note: Option<String>,
    /// For a failure or warning: what was sent, what came back, what is required.
    pub finding: Option<Finding>,
    /// How long it took, in milliseconds.
    pub millis: u128,
}

impl CheckResult {
    /// The one-line form: `FAIL A43 provision.created  Provisioning › Response: …`.
    #[must_use]
    pub fn line(&self) -> String {
        let mut s = format!(
            "{:<4} {:<16} {:<36} {}",
            self.status.to_string(),
            self.check.items.join(","),
            self.check.name,
            self.check.section
        );
        if let Some(n) = &self.note {
            let _ = write!(s, " ({n})");
        }
        if let Some(f) = &self.finding {
            let _ = write!(s, "\n       required: {}", f.required);
            if let Some(sent) = &f.sent {
                let _ = write!(s, "\n       sent:     {sent}");
            }
            if let Some(got) = &f.got {
                let _ = write!(s, "\n       got:      {got}");
            }
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "check": self.check.name,
            "items": self.check.items,
            "section": self.check.section,
            "level": self.check.level.to_string(),
            "title": self.check.title,
            "status": self.status.to_string(),
            "millis": u64::try_from(self.millis).unwrap_or(u64::MAX),
        });
        if let Some(n) = &self.note {
            v["note"] = json!(n);
        }
        if let Some(f) = &self.finding {
            v["required"] = json!(f.required);
            v["sent"] = json!(f.sent);
            v["got"] = json!(f.got);
        }
        v
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The broker's URL.
    pub url: String,
    /// Which plans were used, e.g. `sync: echo/small, async: echo/large`.
    pub plans: String,
    /// One result per selected check, in run order.
    pub results: Vec<CheckResult>,
    /// Every instance id the run created (all with the [`ID_PREFIX`](crate::ID_PREFIX)).
    pub created: Vec<String>,
    /// What could not be cleaned up, one line per resource (empty when everything was).
    pub cleanup_problems: Vec<String>,
}

impl Report {
    /// How many results have `status`.
    #[must_use]
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// True when no `MUST` failed (warnings and skips allowed).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// The result of the check named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.check.name == name)
    }

    /// Names of the checks with `status`, in run order.
    #[must_use]
    pub fn names(&self, status: Status) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.check.name)
            .collect()
    }

    /// `52 checks: 40 passed, 1 failed, 3 warnings, 8 skipped`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} checks: {} passed, {} failed, {} warnings, {} skipped",
            self.results.len(),
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Warn),
            self.count(Status::Skip)
        );
        if self.cleanup_problems.is_empty() {
            let _ = write!(s, "; cleaned up {} instances", self.created.len());
        } else {
            let _ = write!(s, "; COULD NOT CLEAN UP {}", self.cleanup_problems.len());
        }
        s
    }

    /// The report as one JSON object: `url`, `plans`, `results[]`, `summary`, `passed`,
    /// `created`, `cleanup_problems`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "url": self.url,
            "plans": self.plans,
            "passed": self.passed(),
            "summary": {
                "total": self.results.len(),
                "pass": self.count(Status::Pass),
                "fail": self.count(Status::Fail),
                "warn": self.count(Status::Warn),
                "skip": self.count(Status::Skip),
            },
            "results": self.results.iter().map(CheckResult::to_json).collect::<Vec<_>>(),
            "created": self.created,
            "cleanup_problems": self.cleanup_problems,
        })
    }

    /// JUnit XML: one `<testcase>` per check (classname = family), a `<failure>` for FAIL,
    /// `<skipped>` for SKIP; a WARN passes with its finding in `<system-out>`. Cleanup
    /// problems are one extra failing test case.
    #[must_use]
    pub fn to_junit(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let failures = self.count(Status::Fail) + usize::from(!self.cleanup_problems.is_empty());
        let tests = self.results.len() + usize::from(!self.cleanup_problems.is_empty());
        let total_ms: u128 = self.results.iter().map(|r| r.millis).sum();
        let _ = writeln!(
            x,
            "<testsuites><testsuite name=\"osb check {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\">",
            esc(&self.url),
            self.count(Status::Skip),
            secs(total_ms)
        );
        for r in &self.results {
            let _ = write!(
                x,
                "  <testcase classname=\"osb.{}\" name=\"{} [{}] {}\" time=\"{:.3}\">",
                esc(r.check.family),
                esc(r.check.name),
                esc(&r.check.items.join(",")),
                esc(r.check.title),
                secs(r.millis)
            );
            let detail = r.finding.as_ref().map(|f| {
                format!(
                    "required: {}\nsent: {}\ngot: {}",
                    f.required,
                    f.sent.as_deref().unwrap_or("-"),
                    f.got.as_deref().unwrap_or("-")
                )
            });
            match r.status {
                Status::Fail => {
                    let _ = write!(
                        x,
                        "<failure message=\"{}\">{}</failure>",
                        esc(&r.finding.as_ref().map(|f| f.required.clone()).unwrap_or_default()),
                        esc(detail.as_deref().unwrap_or(""))
                    );
                }
                Status::Skip => {
                    let _ = write!(
                        x,
                        "<skipped message=\"{}\"/>",
                        esc(r.note.as_deref().unwrap_or(""))
                    );
                }
                Status::Warn => {
                    let _ = write!(
                        x,
                        "<system-out>WARN ({} level) {}</system-out>",
                        r.check.level,
                        esc(detail.as_deref().unwrap_or(""))
                    );
                }
                Status::Pass => {}
            }
            x.push_str("</testcase>\n");
        }
        if !self.cleanup_problems.is_empty() {
            let _ = writeln!(
                x,
                "  <testcase classname=\"osb.cleanup\" name=\"cleanup\"><failure message=\"resources left behind\">{}</failure></testcase>",
                esc(&self.cleanup_problems.join("\n"))
            );
        }
        x.push_str("</testsuite></testsuites>\n");
        x
    }
}

fn secs(ms: u128) -> f64 {
    // precision loss is irrelevant for a duration shown with 3 decimals
    #[allow(clippy::cast_precision_loss)]
    let s = ms as f64 / 1000.0;
    s
}

/// XML-escapes text and attribute values (and drops characters XML 1.0 cannot carry).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('?'),
            c => out.push(c),
        }
    }
    out
}
