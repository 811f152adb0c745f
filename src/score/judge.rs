//! LLM-judge criteria (being written).
