//! Colours on a terminal, through `anstream` (the crate clap prints with): escape codes are
//! written only when the stream is a terminal that supports them, never when `NO_COLOR` is
//! set (to anything but the empty string), and always with `CLICOLOR_FORCE` (unless
//! `NO_COLOR`).

use anstyle::{AnsiColor, Style};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const DONE: Style = AnsiColor::Green.on_default().bold();
const PENDING: Style = AnsiColor::Yellow.on_default();
const HINT: Style = AnsiColor::Cyan.on_default().bold();

/// `error: {message}` on stderr.
pub(crate) fn error(message: &str) {
    anstream::eprintln!("{ERROR}error:{ERROR:#} {message}");
}

/// `warning: {message}` on stderr.
pub(crate) fn warning(message: &str) {
    anstream::eprintln!("{WARNING}warning:{WARNING:#} {message}");
}

/// `hint: {message}` on stderr, after an error.
pub(crate) fn hint(message: &str) {
    anstream::eprintln!("{HINT}hint:{HINT:#} {message}");
}

/// A note on stderr (not coloured).
pub(crate) fn note(message: &str) {
    anstream::eprintln!("note: {message}");
}

/// Prints a command's human output on stdout, the leading `✔` / `…` of a result coloured.
pub(crate) fn print_result(text: &str) {
    let styled = if let Some(rest) = text.strip_prefix('✔') {
        format!("{DONE}✔{DONE:#}{rest}")
    } else if let Some(rest) = text.strip_prefix('…') {
        format!("{PENDING}…{PENDING:#}{rest}")
    } else {
        text.to_owned()
    };
    anstream::print!("{styled}");
}
