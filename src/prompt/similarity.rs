//! BM25 ranking of training inputs against a query, for `select: similar`.
//!
//! Okapi BM25 with k1 = 1.2, b = 0.75 over lowercased alphanumeric tokens; ties broken by pool order so the
//! ranking is deterministic.

use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// An index over the documents of a pool.
pub struct Bm25Index {
    documents: Vec<HashMap<String, u32>>,
    lengths: Vec<f64>,
    average_length: f64,
    document_frequency: HashMap<String, u32>,
}

/// Lowercased alphanumeric tokens of a text.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

impl Bm25Index {
    /// Indexes the documents, in order.
    pub fn new<'a>(documents: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = Bm25Index {
            documents: Vec::new(),
            lengths: Vec::new(),
            average_length: 0.0,
            document_frequency: HashMap::new(),
        };
        for document in documents {
            let mut counts: HashMap<String, u32> = HashMap::new();
            let mut length = 0usize;
            for token in tokens(document) {
                *counts.entry(token).or_default() += 1;
                length += 1;
            }
            for token in counts.keys() {
                *index.document_frequency.entry(token.clone()).or_default() += 1;
            }
            index.documents.push(counts);
            index.lengths.push(length as f64);
        }
        let total: f64 = index.lengths.iter().sum();
        index.average_length = if index.documents.is_empty() {
            0.0
        } else {
            total / index.documents.len() as f64
        };
        index
    }

    /// BM25 score of every document for `query`.
    pub fn scores(&self, query: &str) -> Vec<f64> {
        let n = self.documents.len() as f64;
        let mut query_terms: Vec<String> = tokens(query).collect();
        query_terms.sort();
        query_terms.dedup();
        self.documents
            .iter()
            .zip(&self.lengths)
            .map(|(counts, &length)| {
                query_terms
                    .iter()
                    .filter_map(|term| {
                        let tf = f64::from(*counts.get(term)?);
                        let df = f64::from(self.document_frequency[term]);
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        let norm = K1 * (1.0 - B + B * length / self.average_length.max(1e-9));
                        Some(idf * tf * (K1 + 1.0) / (tf + norm))
                    })
                    .sum()
            })
            .collect()
    }

    /// Document indices, best match first (ties in pool order).
    pub fn ranked(&self, query: &str) -> Vec<usize> {
        let scores = self.scores(query);
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order
    }
}
