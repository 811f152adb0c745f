//! The kinds for structured and classification replies, and the user's own scorer: `json_fields`, `label` and
//! `command`, from their keys as written to validated checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use sha2::{Digest, Sha256};

use super::file::{CriterionSection, FieldComparison, GroupRef, LabelSource};
use super::kinds::{key_error, KeyError};
use super::Check;
use crate::score::fields::{folded_text, JsonPath};

/// Default time a `command` call may take.
pub const DEFAULT_COMMAND_TIMEOUT_MS: u64 = 10_000;
/// Default number of `command` calls running at once.
pub const DEFAULT_COMMAND_CONCURRENCY: usize = 4;
/// Most `command` calls running at once that a rubric may ask for.
pub const MAX_COMMAND_CONCURRENCY: usize = 64;

/// One validated field of a `json_fields` criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// Where the value is in the reply.
    pub path: JsonPath,
    /// The example field holding the expected value.
    pub field: String,
    /// How the values are compared.
    pub compare: FieldComparison,
    /// Largest difference counted as equal (`number`).
    pub tolerance: f64,
    /// Values accepted for every example (`one_of` with `accepted`).
    pub accepted: Option<Vec<serde_json::Value>>,
}

/// The `json_fields` check.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonFieldsCheck {
    /// Accept JSON inside a Markdown code fence.
    pub allow_fenced: bool,
    /// The fields compared.
    pub fields: Vec<FieldSpec>,
}

/// How a `label` criterion extracts the predicted label.
#[derive(Debug, Clone)]
pub enum LabelExtractor {
    /// The whole reply.
    Reply,
    /// A capture group of a pattern.
    Regex {
        /// The pattern.
        regex: Regex,
        /// The group.
        group: GroupRef,
    },
    /// A path in the JSON reply.
    Json {
        /// The path.
        path: JsonPath,
        /// Accept JSON inside a Markdown code fence.
        allow_fenced: bool,
    },
}

/// The `label` check.
#[derive(Debug, Clone)]
pub struct LabelCheck {
    /// Where the predicted label comes from.
    pub source: LabelExtractor,
    /// The example field with the expected label (`reference`: the reference reply).
    pub field: String,
    /// Folded synonym → folded canonical label.
    pub synonyms: HashMap<String, String>,
}

/// The `command` check: the user's program, run once per reply.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandCheck {
    /// The program and its arguments, with every argument naming a file beside the rubric made absolute.
    pub argv: Vec<String>,
    /// Where the program runs: the rubric's folder.
    pub working_dir: PathBuf,
    /// SHA-256 over the bytes of the files the arguments name, so an edited scorer is run again.
    pub program_sha256: String,
    /// Longest a call may take.
    pub timeout_ms: u64,
    /// Most calls at once.
    pub concurrency: usize,
    /// Handed to the program with every reply.
    pub params: serde_json::Value,
}

/// `json_fields`: at least one field, each with a valid path and the keys its comparison needs.
pub fn json_fields_check(section: &CriterionSection) -> Result<Check, KeyError> {
    let fields = section
        .fields
        .as_ref()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| key_error("kind", "a `json_fields` criterion needs `fields`, each with a `path`"))?;
    let mut specs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, field) in fields.iter().enumerate() {
        let at = |key: &str| format!("fields[{i}].{key}");
        let path = JsonPath::parse(&field.path).map_err(|e| key_error(at("path"), e))?;
        if !seen.insert(field.path.as_str()) {
            return Err(key_error(at("path"), format!("path `{}` is listed twice", field.path)));
        }
        let tolerance = match (field.compare, field.tolerance) {
            (FieldComparison::Number, Some(t)) if !(t.is_finite() && t >= 0.0) => {
                return Err(key_error(at("tolerance"), format!("must be a number ≥ 0, got {t}")))
            }
            (FieldComparison::Number, t) => t.unwrap_or(0.0),
            (compare, Some(_)) => {
                return Err(key_error(
                    at("tolerance"),
                    format!("`tolerance` applies to `compare: number`, not `{}`", compare.as_str()),
                ))
            }
            (_, None) => 0.0,
        };
        let accepted = match (field.compare, &field.accepted) {
            (FieldComparison::OneOf, Some(values)) if values.is_empty() => {
                return Err(key_error(at("accepted"), "needs at least one accepted value"))
            }
            (FieldComparison::OneOf, Some(_)) if field.field.is_some() => return Err(key_error(
                at("accepted"),
                "give either `accepted` (the same values for every example) or `field` (each example's own), not both",
            )),
            (FieldComparison::OneOf, accepted) => accepted.clone(),
            (compare, Some(_)) => {
                return Err(key_error(
                    at("accepted"),
                    format!("`accepted` applies to `compare: one_of`, not `{}`", compare.as_str()),
                ))
            }
            (_, None) => None,
        };
        let name = field.field.clone().unwrap_or_else(|| field.path.clone());
        if name.trim().is_empty() {
            return Err(key_error(at("field"), "must name a field of the examples"));
        }
        specs.push(FieldSpec {
            path,
            field: name,
            compare: field.compare,
            tolerance,
            accepted,
        });
    }
    Ok(Check::JsonFields(JsonFieldsCheck {
        allow_fenced: section.allow_fenced.unwrap_or(true),
        fields: specs,
    }))
}

/// `label`: a source with the keys it needs (and none of the others'), and synonyms that map each spelling to one
/// label.
pub fn label_check(section: &CriterionSection) -> Result<Check, KeyError> {
    let source = section.from.ok_or_else(|| {
        key_error(
            "kind",
            "a `label` criterion needs `from`: `reply`, `regex` (with `pattern`) or `json` (with `path`)",
        )
    })?;
    let only_for = |key: &str, set: bool, kind: &str| {
        if set {
            Err(key_error(key, format!("`{key}` applies to `from: {kind}` only")))
        } else {
            Ok(())
        }
    };
    let extractor = match source {
        LabelSource::Reply => {
            only_for("pattern", section.pattern.is_some(), "regex")?;
            only_for("group", section.group.is_some(), "regex")?;
            only_for("path", section.path.is_some(), "json")?;
            only_for("allow_fenced", section.allow_fenced.is_some(), "json")?;
            LabelExtractor::Reply
        }
        LabelSource::Regex => {
            only_for("path", section.path.is_some(), "json")?;
            only_for("allow_fenced", section.allow_fenced.is_some(), "json")?;
            let pattern = section
                .pattern
                .as_deref()
                .ok_or_else(|| key_error("from", "`from: regex` needs a `pattern` with the label in a group"))?;
            let regex =
                Regex::new(pattern).map_err(|e| key_error("pattern", format!("invalid regular expression: {e}")))?;
            let group = section
                .group
                .clone()
                .unwrap_or(GroupRef::Index(usize::from(regex.captures_len() > 1)));
            match &group {
                GroupRef::Index(i) if *i >= regex.captures_len() => {
                    return Err(key_error(
                        "group",
                        format!(
                            "the pattern has {} capture group(s); group {i} does not exist",
                            regex.captures_len() - 1
                        ),
                    ))
                }
                GroupRef::Name(name) if !regex.capture_names().any(|n| n == Some(name.as_str())) => {
                    return Err(key_error("group", format!("the pattern has no group named `{name}`")))
                }
                _ => {}
            }
            LabelExtractor::Regex { regex, group }
        }
        LabelSource::Json => {
            only_for("pattern", section.pattern.is_some(), "regex")?;
            only_for("group", section.group.is_some(), "regex")?;
            let path = section.path.as_deref().ok_or_else(|| {
                key_error(
                    "from",
                    "`from: json` needs the label's `path` in the reply, e.g. `category`",
                )
            })?;
            LabelExtractor::Json {
                path: JsonPath::parse(path).map_err(|e| key_error("path", e))?,
                allow_fenced: section.allow_fenced.unwrap_or(true),
            }
        }
    };
    let field = section.field.clone().unwrap_or_else(|| "label".to_string());
    if field.trim().is_empty() {
        return Err(key_error(
            "field",
            "must name the example field holding the expected label",
        ));
    }
    let mut synonyms: HashMap<String, String> = HashMap::new();
    for (canonical, spellings) in section.synonyms.iter().flatten() {
        let label = folded_text(canonical);
        if label.is_empty() {
            return Err(key_error("synonyms", "a label must not be empty"));
        }
        for spelling in spellings {
            let folded = folded_text(spelling);
            let at = format!("synonyms.{canonical}");
            if folded.is_empty() {
                return Err(key_error(at, "a synonym must not be empty"));
            }
            if let Some(other) = synonyms.insert(folded.clone(), label.clone()).filter(|o| *o != label) {
                return Err(key_error(
                    at,
                    format!("`{spelling}` is a synonym of both `{other}` and `{canonical}`; give it to one label"),
                ));
            }
        }
    }
    Ok(Check::Label(LabelCheck {
        source: extractor,
        field,
        synonyms,
    }))
}

/// Script-like names that should name a file beside the rubric when they appear in `argv`.
const SCRIPT_EXTENSIONS: &[&str] = &["py", "sh", "js", "mjs", "rb", "pl", "php", "lua", "r", "jl"];

fn looks_like_a_file(arg: &str) -> bool {
    !arg.starts_with('-')
        && (arg.contains('/')
            || Path::new(arg)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| SCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())))
}

/// Whether `program` is an executable file in one of `PATH`'s folders.
fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// `command`: an argv whose program exists, a positive timeout and concurrency. Arguments naming files beside the
/// rubric are made absolute, and those files' bytes hashed.
pub fn command_check(section: &CriterionSection, rubric_dir: &Path) -> Result<Check, KeyError> {
    let argv = section.argv.as_ref().filter(|a| !a.is_empty()).ok_or_else(|| {
        key_error(
            "kind",
            "a `command` criterion needs `argv`: the program and its arguments",
        )
    })?;
    let mut resolved = Vec::new();
    let mut hasher = Sha256::new();
    for (i, arg) in argv.iter().enumerate() {
        let at = format!("argv[{i}]");
        if arg.is_empty() {
            return Err(key_error(at, "must not be empty"));
        }
        let beside = rubric_dir.join(arg);
        if beside.is_file() {
            let bytes = std::fs::read(&beside)
                .map_err(|e| key_error(at.clone(), format!("cannot read {}: {e}", beside.display())))?;
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            let absolute = std::fs::canonicalize(&beside).unwrap_or(beside);
            resolved.push(absolute.to_string_lossy().into_owned());
        } else if looks_like_a_file(arg) {
            return Err(key_error(
                at,
                format!(
                    "`{arg}` is not a file; paths in `argv` are relative to the rubric's folder ({})",
                    rubric_dir.display()
                ),
            ));
        } else if i == 0 && !on_path(arg) {
            return Err(key_error(
                at,
                format!("`{arg}` is neither a file beside the rubric nor a program on PATH"),
            ));
        } else {
            resolved.push(arg.clone());
        }
    }
    let timeout_ms = section.timeout_ms.unwrap_or(DEFAULT_COMMAND_TIMEOUT_MS);
    if timeout_ms == 0 {
        return Err(key_error("timeout_ms", "must be at least 1 (milliseconds)"));
    }
    let concurrency = section.concurrency.unwrap_or(DEFAULT_COMMAND_CONCURRENCY);
    if !(1..=MAX_COMMAND_CONCURRENCY).contains(&concurrency) {
        return Err(key_error(
            "concurrency",
            format!("must be between 1 and {MAX_COMMAND_CONCURRENCY}, got {concurrency}"),
        ));
    }
    let digest = hasher.finalize();
    Ok(Check::Command(CommandCheck {
        argv: resolved,
        working_dir: std::fs::canonicalize(rubric_dir).unwrap_or_else(|_| rubric_dir.to_path_buf()),
        program_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        timeout_ms,
        concurrency,
        params: section.params.clone().unwrap_or(serde_json::Value::Null),
    }))
}
