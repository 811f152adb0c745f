//! The plan: every (example, config, repeat) request a suite needs, each with its fingerprint.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{InputError, InputErrors};
use crate::prompt::RequestBuilder;
use crate::provider::ModelRequest;
use crate::suite::Suite;

/// One request the run must make.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    /// The held-out example's id.
    pub example_id: String,
    /// The config's name.
    pub config: String,
    /// Repeat index, from 0.
    pub repeat: u32,
    /// Hash of the request and repeat index: a record with this fingerprint means the call is done.
    pub fingerprint: RequestFingerprint,
    /// What is sent.
    pub request: ModelRequest,
    /// For a judge call, the rubric criterion it asks about.
    pub criterion: Option<String>,
}

/// SHA-256 (hex) over the canonical JSON of a request and its repeat index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RequestFingerprint(pub String);

/// A [`RequestFingerprint`]'s 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FingerprintKey(pub [u8; 32]);

impl RequestFingerprint {
    /// The fingerprint of `request`'s `repeat`-th asking (judge requests: the same request from any config is the
    /// same question, asked once).
    pub fn of(request: &ModelRequest, repeat: u32) -> Self {
        Self::canonical(None, request, repeat)
    }

    /// The fingerprint of config `config`'s request: two configs that happen to send the same request still make
    /// separate calls, each recorded under its config (they may be deliberate replicas, sampled independently).
    pub fn of_config(config: &str, request: &ModelRequest, repeat: u32) -> Self {
        Self::canonical(Some(config), request, repeat)
    }

    /// The fingerprint as its 32 bytes: the compact key for sets and maps of millions of fingerprints (a fraction of
    /// the hex string's memory). `None` for text that is not 64 hex digits, which no fingerprint of ours is.
    pub fn key(&self) -> Option<FingerprintKey> {
        let hex = self.0.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(FingerprintKey(key))
    }

    fn canonical(config: Option<&str>, request: &ModelRequest, repeat: u32) -> Self {
        #[derive(Serialize)]
        struct Canonical<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            config: Option<&'a str>,
            request: &'a ModelRequest,
            repeat: u32,
        }
        // serde_json writes struct fields in declaration order, so this is canonical for our types.
        let bytes = serde_json::to_vec(&Canonical {
            config,
            request,
            repeat,
        })
        .unwrap_or_default();
        RequestFingerprint(crate::dataset::sha256_hex(&Sha256::digest(&bytes)[..]))
    }
}

/// Every request of the suite, ordered example-major (so an interrupted run has whole examples done across configs).
pub fn build_plan(suite: &Suite) -> Result<Vec<PlannedRequest>, InputErrors> {
    let mut plan =
        Vec::with_capacity(suite.held_out.examples.len() * suite.file.configs.len() * suite.file.repeats as usize);
    for planned in plan_requests(suite) {
        plan.push(planned?);
    }
    Ok(plan)
}

/// The plan as a stream, in [`build_plan`]'s order: each request is built when it is reached, so a plan of a million
/// requests never sits in memory at once. An example whose request cannot be built yields its error and ends it.
pub fn plan_requests(suite: &Suite) -> PlanRequests<'_> {
    PlanRequests {
        suite,
        builders: suite
            .file
            .configs
            .iter()
            .map(|config| RequestBuilder::new(config, suite.pool()))
            .collect(),
        example: 0,
        config: 0,
        current: None,
        failed: false,
        wanted: None,
    }
}

/// How many requests [`plan_requests`] yields for `suite` when every request can be built (the plan's positions).
pub fn plan_len(suite: &Suite) -> usize {
    suite.held_out.examples.len() * suite.file.configs.len() * suite.file.repeats as usize
}

/// Every plan position's fingerprint key, in plan order: `(key, position)` pairs, and apart the positions whose
/// fingerprint is not a key (none of ours: a key is a SHA-256). The plan is shared out in contiguous runs, one per
/// core: building a million requests to hash them is most of what a resume or a report does before its real work.
#[derive(Debug, Default)]
pub struct PlanKeys {
    /// Keyed positions, in plan order.
    pub keys: Vec<(FingerprintKey, u32)>,
    /// Positions without a key, in plan order.
    pub unkeyed: Vec<u32>,
}

/// Below this many plan positions, one thread builds the keys: threads would cost more than they save.
const POSITIONS_PER_THREAD: usize = 20_000;

/// Builds [`PlanKeys`] for `suite`; the first request that cannot be built is the error.
pub fn plan_keys(suite: &Suite) -> Result<PlanKeys, InputError> {
    let total = plan_len(suite);
    if u32::try_from(total).is_err() {
        return Err(InputError::in_file(
            &suite.path,
            "the plan has more than 4 billion requests; split the suite",
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let parts = cores.min(total / POSITIONS_PER_THREAD).max(1);
    let shares = (0..parts).map(|i| total * i / parts..total * (i + 1) / parts);
    let built = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .map(|share| scope.spawn(move || share_keys(suite, share)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<Vec<_>>()
    });
    // The first share grows to hold the others, each freed once it is in.
    let mut built = built.into_iter();
    let mut all = built.next().transpose()?.unwrap_or_default();
    for share in built {
        let share = share?;
        all.keys.extend(share.keys);
        all.unkeyed.extend(share.unkeyed);
    }
    Ok(all)
}

/// The keys of the plan positions in `share`.
fn share_keys(suite: &Suite, share: std::ops::Range<usize>) -> Result<PlanKeys, InputError> {
    let mut keys = PlanKeys {
        keys: Vec::with_capacity(share.len()),
        unkeyed: Vec::new(),
    };
    let wanted = share.clone();
    for (position, request) in share.zip(plan_requests(suite).only(move |position| wanted.contains(&position))) {
        // Below 2^32: `plan_keys` checked the plan's length.
        let position = position as u32;
        match request?.fingerprint.key() {
            Some(key) => keys.keys.push((key, position)),
            None => keys.unkeyed.push(position),
        }
    }
    Ok(keys)
}

/// Where a plan position lies: (example index, config index, repeat).
pub fn plan_position(suite: &Suite, position: usize) -> (usize, usize, u32) {
    let repeats = (suite.file.repeats as usize).max(1);
    let configs = suite.file.configs.len().max(1);
    let (pair, repeat) = (position / repeats, position % repeats);
    (pair / configs, pair % configs, repeat as u32)
}

/// The iterator of [`plan_requests`].
pub struct PlanRequests<'a> {
    suite: &'a Suite,
    builders: Vec<RequestBuilder<'a>>,
    /// The next (example, config) position to build a request for.
    example: usize,
    config: usize,
    /// The request being repeated: (example, config, request, next repeat).
    current: Option<(usize, usize, ModelRequest, u32)>,
    failed: bool,
    /// Which plan positions to yield (all when `None`); a request none of whose repeats is wanted is not built.
    wanted: Option<Box<dyn Fn(usize) -> bool + 'a>>,
}

impl<'a> PlanRequests<'a> {
    /// Only the requests at the plan positions (counted from 0 in plan order) that `wanted` accepts, in the same
    /// order; the others are never built, so skipping most of a plan costs next to nothing.
    pub fn only(mut self, wanted: impl Fn(usize) -> bool + 'a) -> Self {
        self.wanted = Some(Box::new(wanted));
        self
    }

    fn position(&self, example: usize, config: usize, repeat: u32) -> usize {
        let repeats = self.suite.file.repeats as usize;
        (example * self.suite.file.configs.len() + config) * repeats + repeat as usize
    }

    fn wants(&self, example: usize, config: usize, repeat: u32) -> bool {
        self.wanted
            .as_ref()
            .is_none_or(|wanted| wanted(self.position(example, config, repeat)))
    }
}

impl Iterator for PlanRequests<'_> {
    type Item = Result<PlannedRequest, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (suite, repeats) = (self.suite, self.suite.file.repeats);
        loop {
            if self.failed {
                return None;
            }
            if let Some((example, config, _, repeat)) = self.current.as_ref() {
                let (example, config, repeat) = (*example, *config, *repeat);
                if repeat < repeats {
                    let wanted = self.wants(example, config, repeat);
                    let Some((_, _, request, next)) = self.current.as_mut() else {
                        continue;
                    };
                    *next += 1;
                    if !wanted {
                        continue;
                    }
                    let name = &suite.file.configs[config].name;
                    return Some(Ok(PlannedRequest {
                        example_id: suite.held_out.examples[example].id.clone(),
                        config: name.clone(),
                        repeat,
                        fingerprint: RequestFingerprint::of_config(name, request, repeat),
                        request: request.clone(),
                        criterion: None,
                    }));
                }
                self.current = None;
            }
            let example = suite.held_out.examples.get(self.example)?;
            let Some(builder) = self.builders.get(self.config) else {
                (self.example, self.config) = (self.example + 1, 0);
                continue;
            };
            if (0..repeats).any(|repeat| self.wants(self.example, self.config, repeat)) {
                match builder.build(example) {
                    Ok(request) => self.current = Some((self.example, self.config, request, 0)),
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(InputError::at_line(
                            &suite.held_out.path,
                            example.line,
                            e.to_string(),
                        )
                        .field("template")));
                    }
                }
            }
            self.config += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_the_fingerprints_bytes_and_refuses_what_is_not_one() {
        let hex = "00ff10ab".repeat(8);
        let key = RequestFingerprint(hex.clone()).key().unwrap();
        assert_eq!(&key.0[..4], &[0x00, 0xff, 0x10, 0xab]);
        assert_eq!(RequestFingerprint(hex.to_uppercase()).key(), Some(key));
        assert_eq!(RequestFingerprint("0f".repeat(31)).key(), None);
        assert_eq!(RequestFingerprint(format!("{}zz", "0f".repeat(31))).key(), None);
        assert_eq!(RequestFingerprint("é".repeat(32)).key(), None);
    }
}
