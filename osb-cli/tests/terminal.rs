//! `osb completions SHELL` and colours (`NO_COLOR`, `CLICOLOR_FORCE`): the real binary.

mod support;

use support::{ok, osb_env, text};

const ESC: &str = "\u{1b}[";

#[test]
fn completions_for_each_shell_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = osb_env(&[], &["completions", shell]);
        ok(&out);
        assert!(out.stderr.is_empty(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in [
            "provision",
            "deprovision",
            "last-operation",
            "completions",
            "cf-org",
            "cacert",
            "k8s-namespace",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // each is the script of its shell
    assert!(text(&osb_env(&[], &["completions", "bash"]).stdout).contains("complete -F"));
    assert!(text(&osb_env(&[], &["completions", "zsh"]).stdout).starts_with("#compdef osb"));
    assert!(text(&osb_env(&[], &["completions", "fish"]).stdout).contains("complete -c osb"));
    assert!(
        text(&osb_env(&[], &["completions", "powershell"]).stdout).contains("Register-ArgumentCompleter")
    );
    let out = osb_env(&[], &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'tcsh'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn no_color_wins_over_clicolor_force() {
    let args = ["--url", "http://127.0.0.1:1", "catalog"];
    // forced colours: the error label is red
    let out = osb_env(&[("CLICOLOR_FORCE", "1")], &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("\u{1b}[1m\u{1b}[31merror:\u{1b}[0m "),
        "{:?}",
        text(&out.stderr)
    );
    // NO_COLOR: plain text, also in clap's help
    let out = osb_env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: "),
        "{:?}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains(ESC), "{:?}", text(&out.stderr));
    let help = osb_env(&[("CLICOLOR_FORCE", "1")], &["--help"]);
    assert!(text(&help.stdout).contains(ESC));
    let help = osb_env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &["--help"]);
    ok(&help);
    assert!(!text(&help.stdout).contains(ESC));
    // not a terminal and nothing forced: plain
    let out = osb_env(&[], &args);
    assert!(!text(&out.stderr).contains(ESC), "{:?}", text(&out.stderr));
}
