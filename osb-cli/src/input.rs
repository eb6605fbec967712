//! Values given as `JSON`, `@FILE` or `@-`: `--params`, `--context`, `--originating-identity`.
//!
//! Inline text is JSON. A file is YAML when its name ends in `.yaml` / `.yml`, JSON when it
//! ends in `.json`; any other file, and standard input, is read as JSON and, when that fails,
//! as YAML (through `serde_norway`).

use std::io::Read as _;
use std::path::Path;

use serde_json::{Map, Value};

use crate::Failure;

/// What the text is to be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
    /// JSON, else YAML.
    Either,
}

/// Reads `raw` (`JSON`, `@FILE` or `@-`) for `flag` and requires a JSON object.
pub(crate) fn object(flag: &str, raw: &str) -> Result<Map<String, Value>, Failure> {
    let (text, format, origin) = match raw.strip_prefix('@') {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("{flag}: cannot read standard input: {e}")))?;
            (text, Format::Either, " (standard input)".to_owned())
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("{flag}: cannot read {path}: {e}")))?;
            (text, format_of(Path::new(path)), format!(" ({path})"))
        }
        None => (raw.to_owned(), Format::Json, String::new()),
    };
    let value = match format {
        Format::Json => json(&text).map_err(|e| not_valid(flag, "JSON", &origin, &e))?,
        Format::Yaml => yaml(&text).map_err(|e| not_valid(flag, "YAML", &origin, &e))?,
        Format::Either => match json(&text) {
            Ok(v) => v,
            Err(json_error) => match yaml(&text) {
                Ok(v @ Value::Object(_)) => v,
                _ => return Err(not_valid(flag, "JSON", &origin, &json_error)),
            },
        },
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Failure::usage(format!("{flag} must be a JSON object{origin}"))),
    }
}

fn format_of(path: &Path) -> Format {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yaml" | "yml") => Format::Yaml,
        Some("json") => Format::Json,
        _ => Format::Either,
    }
}

fn json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn yaml(text: &str) -> Result<Value, String> {
    serde_norway::from_str(text).map_err(|e| e.to_string())
}

fn not_valid(flag: &str, format: &str, origin: &str, error: &str) -> Failure {
    Failure::usage(format!("{flag} is not valid {format}{origin}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::object;

    #[test]
    fn inline_json_objects_only() {
        assert_eq!(object("--params", r#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(
            object("--params", "[1]").unwrap_err().description,
            "--params must be a JSON object"
        );
        assert!(
            object("--params", "a: 1")
                .unwrap_err()
                .description
                .starts_with("--params is not valid JSON: ")
        );
    }

    #[test]
    fn files_by_extension() {
        let dir = std::env::temp_dir().join(format!("osb-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let yaml = dir.join("p.yaml");
        std::fs::write(&yaml, "size: 3\ntags: [a, b]\nnested:\n  x: true\n").unwrap();
        let m = object("--params", &format!("@{}", yaml.display())).unwrap();
        assert_eq!(m["size"], 3);
        assert_eq!(m["tags"][1], "b");
        assert_eq!(m["nested"]["x"], true);
        let other = dir.join("p.txt");
        std::fs::write(&other, "size: 4\n").unwrap();
        assert_eq!(
            object("--params", &format!("@{}", other.display())).unwrap()["size"],
            4
        );
        let json = dir.join("p.json");
        std::fs::write(&json, "size: 4\n").unwrap();
        let e = object("--params", &format!("@{}", json.display())).unwrap_err();
        assert!(e.description.contains("is not valid JSON"), "{}", e.description);
        let e = object("--params", "@/nonexistent/osb-params.json").unwrap_err();
        assert!(
            e.description
                .starts_with("--params: cannot read /nonexistent/osb-params.json: "),
            "{}",
            e.description
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
