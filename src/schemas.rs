//! JSON Schemas of the files a user writes — suites and rubrics — generated from the types they are read into, so
//! an editor completes and checks their keys (a `# yaml-language-server: $schema=…` first line points it at one).
//! `bedrock-eval schema suite|rubric` prints them; `schemas/*.schema.json` are the same, committed, and a test keeps
//! them in sync with the types.
//!
//! Draft 7, the version YAML editors read most widely. A schema checks shapes and keys; the loaders still make
//! every cross-check (a baseline that names a config, a rubric's kind-specific keys) with file and line.

use crate::score::rubric::RubricFile;
use crate::suite::schema::SuiteFile;

/// A kind of file with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaFile {
    /// `suite.yaml`.
    Suite,
    /// A rubric.
    Rubric,
}

impl SchemaFile {
    /// Every kind, in a stable order.
    pub const ALL: [SchemaFile; 2] = [SchemaFile::Suite, SchemaFile::Rubric];

    /// The committed schema's path in the repository.
    pub fn path(self) -> &'static str {
        match self {
            SchemaFile::Suite => "schemas/suite.schema.json",
            SchemaFile::Rubric => "schemas/rubric.schema.json",
        }
    }

    /// The schema, as JSON.
    pub fn schema(self) -> serde_json::Value {
        let generator = schemars::generate::SchemaSettings::draft07().into_generator();
        let (schema, title) = match self {
            SchemaFile::Suite => (generator.into_root_schema_for::<SuiteFile>(), "bedrock-eval suite"),
            SchemaFile::Rubric => (generator.into_root_schema_for::<RubricFile>(), "bedrock-eval rubric"),
        };
        let mut value = schema.to_value();
        if let Some(object) = value.as_object_mut() {
            object.insert("title".to_string(), title.into());
        }
        value
    }

    /// The schema as the committed file holds it: pretty-printed, with a final newline.
    pub fn text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}
