//! A local server that speaks Bedrock Runtime's Converse wire protocol (being written).
