//! bedrock-eval: evaluate prompt, few-shot and fine-tuned Bedrock models against each other.
//!
//! Data flows one way: `suite` → `prompt` → `run` (through a `provider`) → records → `score` → `report`.
//! The `endpoint` module is a local Bedrock-compatible server used for the offline demo and every test.

pub mod batch;
pub mod compare;
pub mod compare_html;
pub mod cost;
pub mod data;
pub mod dataset;
pub mod endpoint;
pub mod error;
pub mod files;
pub mod input_file;
pub mod memory;
pub mod prompt;
pub mod provider;
pub mod redact;
pub mod report;
pub mod run;
pub mod schemas;
pub mod score;
pub mod stats;
pub mod suite;
pub mod verbosity;
pub mod yaml_file;
pub mod yaml_positions;
