//! Model families that Bedrock fine-tunes, with the format each expects and the limits on its data.
//!
//! Every number here has a source, listed in `docs/data.md`; a limit no source states is `None` and not checked.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::record::{Format, Purpose};

/// A family of models that share a fine-tuning format and data limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelFamily {
    /// Amazon Nova Micro, Lite and Pro (1.0).
    Nova,
    /// Amazon Nova 2 Lite.
    Nova2Lite,
    /// Anthropic Claude 3 Haiku.
    Claude3Haiku,
    /// Meta Llama 3.1 8B and 70B Instruct.
    Llama31,
    /// Amazon Titan Text G1 - Express.
    TitanTextExpress,
    /// Amazon Titan Text G1 - Lite.
    TitanTextLite,
    /// Amazon Titan Text Premier.
    TitanTextPremier,
}

/// A range of record counts; either end may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordRange {
    /// Fewest records accepted.
    pub min: Option<usize>,
    /// Most records accepted.
    pub max: Option<usize>,
}

impl RecordRange {
    const fn new(min: Option<usize>, max: Option<usize>) -> Self {
        RecordRange { min, max }
    }

    const UNKNOWN: RecordRange = RecordRange::new(None, None);
}

/// What a family accepts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FamilyLimits {
    /// The fine-tuning format.
    pub format: Format,
    /// Records in a training file.
    pub training_records: RecordRange,
    /// Records in a validation file.
    pub validation_records: RecordRange,
    /// Most tokens in one record (system prompt, input and reply), by the project's estimate.
    pub max_tokens_per_record: Option<u64>,
    /// Most characters in one record.
    pub max_chars_per_record: Option<usize>,
    /// Strings not allowed in a prompt (user turns and the system prompt).
    pub reserved_in_prompts: &'static [&'static str],
    /// Whether reserved strings match regardless of case.
    pub reserved_case_insensitive: bool,
}

const NOVA_RESERVED: &[&str] = &["User:", "Bot:", "Assistant:", "System:", "[EOS]", "<image>", "<video>"];
const CLAUDE_RESERVED: &[&str] = &["\nHuman:", "\nAssistant:"];

/// Titan Text: 4,096 tokens of input and output at batch size 1 (2,048 at larger batch sizes), and a character
/// quota of six times the token quota.
const TITAN_TOKENS: u64 = 4_096;

impl ModelFamily {
    /// Every family, in the order they are listed to users.
    pub const ALL: [ModelFamily; 7] = [
        ModelFamily::Nova,
        ModelFamily::Nova2Lite,
        ModelFamily::Claude3Haiku,
        ModelFamily::Llama31,
        ModelFamily::TitanTextExpress,
        ModelFamily::TitanTextLite,
        ModelFamily::TitanTextPremier,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            ModelFamily::Nova => "nova",
            ModelFamily::Nova2Lite => "nova-2-lite",
            ModelFamily::Claude3Haiku => "claude-3-haiku",
            ModelFamily::Llama31 => "llama-3.1",
            ModelFamily::TitanTextExpress => "titan-text-express",
            ModelFamily::TitanTextLite => "titan-text-lite",
            ModelFamily::TitanTextPremier => "titan-text-premier",
        }
    }

    /// The family of a Bedrock model id or family name (`amazon.nova-lite-v1:0`, `us.amazon.nova-pro-v1:0`,
    /// `anthropic.claude-3-haiku-20240307-v1:0`, `nova`, `claude-3-haiku`, …).
    pub fn from_model(model: &str) -> Option<ModelFamily> {
        let model = model.trim().to_ascii_lowercase();
        if let Some(family) = ModelFamily::ALL.into_iter().find(|f| f.name() == model) {
            return Some(family);
        }
        let family = if model.contains("nova-2-lite") {
            ModelFamily::Nova2Lite
        } else if ["nova-micro", "nova-lite", "nova-pro"]
            .iter()
            .any(|m| model.contains(m))
        {
            ModelFamily::Nova
        } else if model.contains("claude-3-haiku") {
            ModelFamily::Claude3Haiku
        } else if model.contains("llama3-1") || model.contains("llama-3.1") {
            ModelFamily::Llama31
        } else if model.contains("titan-text-express") || model.contains("titan-tg1-large") {
            ModelFamily::TitanTextExpress
        } else if model.contains("titan-text-lite") {
            ModelFamily::TitanTextLite
        } else if model.contains("titan-text-premier") {
            ModelFamily::TitanTextPremier
        } else {
            return None;
        };
        Some(family)
    }

    /// The format and limits of the family.
    pub fn limits(self) -> FamilyLimits {
        let prompt_completion = FamilyLimits {
            format: Format::PromptCompletion,
            training_records: RecordRange::UNKNOWN,
            validation_records: RecordRange::UNKNOWN,
            max_tokens_per_record: None,
            max_chars_per_record: None,
            reserved_in_prompts: &[],
            reserved_case_insensitive: false,
        };
        let titan = FamilyLimits {
            max_tokens_per_record: Some(TITAN_TOKENS),
            max_chars_per_record: Some(6 * TITAN_TOKENS as usize),
            ..prompt_completion
        };
        let nova = FamilyLimits {
            format: Format::BedrockConversation2024,
            training_records: RecordRange::new(Some(8), Some(20_000)),
            reserved_in_prompts: NOVA_RESERVED,
            // AWS's Nova dataset validator matches them regardless of case.
            reserved_case_insensitive: true,
            ..prompt_completion
        };
        match self {
            ModelFamily::Nova => nova,
            ModelFamily::Nova2Lite => FamilyLimits {
                training_records: RecordRange::new(Some(200), Some(20_000)),
                ..nova
            },
            ModelFamily::Claude3Haiku => FamilyLimits {
                format: Format::ClaudeConversation,
                training_records: RecordRange::new(Some(32), Some(10_000)),
                validation_records: RecordRange::new(Some(32), Some(1_000)),
                max_tokens_per_record: Some(32_000),
                reserved_in_prompts: CLAUDE_RESERVED,
                ..prompt_completion
            },
            ModelFamily::Llama31 => FamilyLimits {
                training_records: RecordRange::new(None, Some(10_000)),
                validation_records: RecordRange::new(None, Some(1_000)),
                ..prompt_completion
            },
            ModelFamily::TitanTextExpress | ModelFamily::TitanTextLite | ModelFamily::TitanTextPremier => titan,
        }
    }
}

impl FamilyLimits {
    /// The record-count range for a file used as `purpose` (held-out files have none).
    pub fn records_for(&self, purpose: Purpose) -> RecordRange {
        match purpose {
            Purpose::Training => self.training_records,
            Purpose::Validation => self.validation_records,
            Purpose::HeldOut => RecordRange::UNKNOWN,
        }
    }

    /// The reserved strings that occur in `text`, in the order they are listed.
    pub fn reserved_strings_in(&self, text: &str) -> Vec<&'static str> {
        let folded = if self.reserved_case_insensitive {
            text.to_lowercase()
        } else {
            text.to_string()
        };
        self.reserved_in_prompts
            .iter()
            .copied()
            .filter(|reserved| {
                if self.reserved_case_insensitive {
                    folded.contains(&reserved.to_lowercase())
                } else {
                    folded.contains(reserved)
                }
            })
            .collect()
    }
}

impl fmt::Display for ModelFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelFamily {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelFamily::from_model(s).ok_or_else(|| {
            let names = ModelFamily::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ");
            format!("unknown model family `{s}`; expected one of {names}, or a Bedrock model id")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_names_and_model_ids() {
        for family in ModelFamily::ALL {
            assert_eq!(family.name().parse::<ModelFamily>(), Ok(family));
        }
        assert_eq!(
            ModelFamily::from_model("us.amazon.nova-lite-v1:0"),
            Some(ModelFamily::Nova)
        );
        assert_eq!(
            ModelFamily::from_model("amazon.nova-2-lite-v1:0"),
            Some(ModelFamily::Nova2Lite)
        );
        assert_eq!(
            ModelFamily::from_model("anthropic.claude-3-haiku-20240307-v1:0"),
            Some(ModelFamily::Claude3Haiku)
        );
        assert_eq!(
            ModelFamily::from_model("meta.llama3-1-8b-instruct-v1:0"),
            Some(ModelFamily::Llama31)
        );
        assert_eq!(ModelFamily::from_model("anthropic.claude-3-5-sonnet"), None);
        assert!("gpt".parse::<ModelFamily>().unwrap_err().contains("nova"));
    }

    #[test]
    fn documented_limits() {
        let nova = ModelFamily::Nova.limits();
        assert_eq!(nova.format, Format::BedrockConversation2024);
        assert_eq!(
            (nova.training_records.min, nova.training_records.max),
            (Some(8), Some(20_000))
        );
        let haiku = ModelFamily::Claude3Haiku.limits();
        assert_eq!(haiku.format, Format::ClaudeConversation);
        assert_eq!(
            (haiku.training_records.min, haiku.training_records.max),
            (Some(32), Some(10_000))
        );
        assert_eq!(
            ModelFamily::TitanTextExpress.limits().max_chars_per_record,
            Some(24_576)
        );
    }

    #[test]
    fn reserved_strings() {
        let nova = ModelFamily::Nova.limits();
        assert_eq!(
            nova.reserved_strings_in("Reply as Bot: hi [EOS]"),
            vec!["Bot:", "[EOS]"]
        );
        assert_eq!(nova.reserved_strings_in("user: hello"), vec!["User:"]);
        assert!(nova.reserved_strings_in("A user asks about the lock").is_empty());
        let haiku = ModelFamily::Claude3Haiku.limits();
        assert_eq!(haiku.reserved_strings_in("Hi\n\nHuman: more"), vec!["\nHuman:"]);
        assert!(haiku.reserved_strings_in("Human: at the start").is_empty());
    }
}
