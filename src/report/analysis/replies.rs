//! One config's scored replies by example, held flat: every reply in one vector, in example order, and per example
//! where its replies start. A million replies take a few tens of bytes each (their criterion scores shared between
//! replies scored alike, see `tally`), where a map of vectors took a heap allocation or two per example.

use std::ops::Range;

use crate::score::common_criteria::ScoredReply;

/// Example index → its scored replies (one per repeat that has a quality), in example order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExampleReplies {
    /// Per example with replies, in ascending order: (example index, where its replies start); 32 bits each, as no
    /// run comes near 4 billion requests, which halves the index of a large run.
    index: Vec<(u32, u32)>,
    replies: Vec<ScoredReply>,
}

impl ExampleReplies {
    /// No replies.
    pub fn new() -> Self {
        Self::default()
    }

    /// No replies, with room for `examples` examples of `repeats` replies each.
    pub fn with_capacity(examples: usize, repeats: usize) -> Self {
        ExampleReplies {
            index: Vec::with_capacity(examples),
            replies: Vec::with_capacity(examples * repeats),
        }
    }

    /// Adds a reply to `example`. Replies arriving in example order (as a run's rows do) are appended; any other
    /// order is still kept right, at the cost of rebuilding the list.
    pub fn push(&mut self, example: usize, reply: ScoredReply) {
        match self.index.last().map(|&(last, _)| last as usize) {
            Some(last) if last == example => self.replies.push(reply),
            Some(last) if last > example => {
                let mut all: Vec<(usize, ScoredReply)> = self
                    .iter()
                    .flat_map(|(i, r)| r.iter().map(move |r| (i, r.clone())))
                    .collect();
                all.push((example, reply));
                all.sort_by_key(|(i, _)| *i);
                *self = Self::new();
                for (i, r) in all {
                    self.push(i, r);
                }
            }
            _ => {
                self.index.push((narrow(example), narrow(self.replies.len())));
                self.replies.push(reply);
            }
        }
    }

    /// Adds every reply of `example`.
    pub fn insert(&mut self, example: usize, replies: Vec<ScoredReply>) {
        for reply in replies {
            self.push(example, reply);
        }
    }

    /// Examples with replies.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no example has a reply.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Where the replies of the `position`-th example with replies sit among all replies.
    fn range(&self, position: usize) -> Range<usize> {
        let start = self.index[position].1 as usize;
        let end = self
            .index
            .get(position + 1)
            .map_or(self.replies.len(), |e| e.1 as usize);
        start..end
    }

    /// The replies of the `position`-th example with replies.
    fn slice(&self, position: usize) -> &[ScoredReply] {
        &self.replies[self.range(position)]
    }

    /// (example index, its replies), in example order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[ScoredReply])> + '_ {
        (0..self.index.len()).map(|p| (self.index[p].0 as usize, self.slice(p)))
    }

    /// Each example's replies, in example order.
    pub fn values(&self) -> impl Iterator<Item = &[ScoredReply]> + '_ {
        (0..self.index.len()).map(|p| self.slice(p))
    }

    /// The examples with replies, in order.
    pub fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        self.index.iter().map(|(i, _)| *i as usize)
    }

    /// `example`'s replies, if it has any.
    pub fn get(&self, example: usize) -> Option<&[ScoredReply]> {
        Some(&self.replies[self.span(example)?])
    }

    /// Where `example`'s replies sit among all the replies held, numbered from 0 in the order they were pushed when
    /// they were pushed in example order (as the scoring pass hands rows on): data kept beside each reply, in a
    /// vector filled as the replies were pushed, is found by it.
    pub fn span(&self, example: usize) -> Option<Range<usize>> {
        let position = self.index.binary_search_by_key(&example, |(i, _)| *i as usize).ok()?;
        Some(self.range(position))
    }

    /// Whether `example` has replies.
    pub fn contains_key(&self, example: usize) -> bool {
        self.get(example).is_some()
    }
}

/// An example index or reply count as the index holds it.
fn narrow(value: usize) -> u32 {
    u32::try_from(value).expect("a run has fewer than 2^32 replies")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(quality: f64) -> ScoredReply {
        ScoredReply::new([Some(quality)], quality)
    }

    #[test]
    fn replies_in_any_order_read_back_by_example_in_order() {
        let mut replies = ExampleReplies::new();
        for (example, quality) in [(2, 0.2), (2, 0.25), (5, 0.5), (1, 0.1), (5, 0.55), (9, 0.9)] {
            replies.push(example, reply(quality));
        }
        let got: Vec<(usize, Vec<f64>)> = replies
            .iter()
            .map(|(i, r)| (i, r.iter().map(ScoredReply::quality).collect()))
            .collect();
        assert_eq!(
            got,
            [
                (1, vec![0.1]),
                (2, vec![0.2, 0.25]),
                (5, vec![0.5, 0.55]),
                (9, vec![0.9])
            ]
        );
        assert_eq!(replies.keys().collect::<Vec<_>>(), [1, 2, 5, 9]);
        assert_eq!(replies.get(5).map(<[_]>::len), Some(2));
        assert_eq!(
            (replies.span(5), replies.span(9), replies.span(3)),
            (Some(3..5), Some(5..6), None)
        );
        assert!(replies.get(3).is_none() && !replies.contains_key(0) && replies.contains_key(9));
        assert_eq!((replies.len(), replies.values().count()), (4, 4));
    }
}
