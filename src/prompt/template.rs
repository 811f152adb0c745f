//! `{{field}}` templates for the user turn.

use crate::dataset::Example;

/// A template that names a field the example does not have, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{name}}` where the example has no such field.
    #[error("template uses `{{{{{field}}}}}` but example `{example}` has no field `{field}`")]
    MissingField {
        /// The field named.
        field: String,
        /// The example's id.
        example: String,
    },
    /// An opening `{{` without its `}}`.
    #[error("template has an unclosed `{{{{`")]
    Unclosed,
}

/// The field names a template uses, in order of appearance.
pub fn template_fields(template: &str) -> Result<Vec<String>, TemplateError> {
    let mut fields = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        fields.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    Ok(fields)
}

/// Fills a template's `{{field}}` placeholders from the example (`input`, `reference`, `id` or any extra field).
pub fn render(template: &str, example: &Example) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + example.input.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let field = after[..end].trim();
        let value = example.field_text(field).ok_or_else(|| TemplateError::MissingField {
            field: field.to_string(),
            example: example.id.clone(),
        })?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
