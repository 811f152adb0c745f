//! The plan: every (example, config, repeat) request a suite needs, each with its fingerprint.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dataset::Example;
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

/// The hex of a request's [`FingerprintKey`]: SHA-256 of the SHA-256 digest of the canonical JSON of the request,
/// its config and its repeat index ([`KeyHasher`]).
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
        FingerprintKey::from_hex(self.0.as_bytes())
    }

    fn canonical(config: Option<&str>, request: &ModelRequest, repeat: u32) -> Self {
        Self::from_key(&KeyHasher::default().key(config, request, repeat))
    }

    /// The fingerprint whose bytes are `key`.
    pub fn from_key(key: &FingerprintKey) -> Self {
        RequestFingerprint(crate::dataset::hex(&key.0))
    }
}

impl FingerprintKey {
    /// The key whose hex is `hex`; `None` for anything but 64 hex digits.
    pub fn from_hex(hex: &[u8]) -> Option<Self> {
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
}

/// Fingerprint keys of requests: SHA-256 of the SHA-256 digest of the canonical JSON of `{config, request, repeat}`
/// (the struct's fields in declaration order, as serde_json writes them; `config` absent for judge requests).
///
/// The canonical JSON begins with the config's name, the model and the system prompt, which most of a plan's
/// requests share with the request before them of the same config; the hash's state after that beginning is kept and
/// reused while it is the same, so only the rest of each request is written out and hashed. A hasher per config
/// keeps that state for its requests.
#[derive(Default, Clone)]
pub struct KeyHasher {
    /// The beginning last hashed — config, model, system prompt — and the hash's state after it.
    head: Option<(Option<String>, String, Option<String>, Sha256)>,
    /// The rest of a request's canonical JSON, reused from request to request.
    json: Vec<u8>,
}

impl KeyHasher {
    /// The key of `request`'s `repeat`-th asking by `config` (`None`: a judge request).
    pub fn key(&mut self, config: Option<&str>, request: &ModelRequest, repeat: u32) -> FingerprintKey {
        let same_head = self.head.as_ref().is_some_and(|(c, model, system, _)| {
            c.as_deref() == config && *model == request.model && system.as_deref() == request.system.as_deref()
        });
        if !same_head {
            let mut head = Vec::new();
            head.push(b'{');
            if let Some(config) = config {
                head.extend_from_slice(b"\"config\":");
                write_json(&mut head, config);
                head.push(b',');
            }
            head.extend_from_slice(b"\"request\":{\"model\":");
            write_json(&mut head, &request.model);
            head.extend_from_slice(b",\"system\":");
            write_json(&mut head, &request.system);
            head.extend_from_slice(b",\"messages\":");
            let state = Sha256::new_with_prefix(&head);
            self.head = Some((
                config.map(str::to_string),
                request.model.clone(),
                request.system.clone(),
                state,
            ));
        }
        let json = &mut self.json;
        json.clear();
        write_json(json, &request.messages);
        json.extend_from_slice(b",\"inference\":");
        write_json(json, &request.inference);
        if let Some(after) = request.cache_after_messages {
            json.extend_from_slice(b",\"cache_after_messages\":");
            write_json(json, &after);
        }
        json.extend_from_slice(b"},\"repeat\":");
        write_json(json, &repeat);
        json.push(b'}');
        let Some((.., state)) = &self.head else {
            unreachable!("the head was hashed above")
        };
        let inner = state.clone().chain_update(&*json).finalize();
        FingerprintKey(Sha256::digest(inner).into())
    }
}

/// Appends `value`'s JSON to `out` (writing to memory cannot fail, nor can our request types' serialisation).
fn write_json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    serde_json::to_writer(out, value).unwrap_or_default();
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

/// Every plan position's fingerprint key, in plan order, as `(key, position)` pairs. The plan is shared out in
/// contiguous runs, one per core: building a million requests to hash them is most of what a resume or a report
/// does before its real work.
pub type PlanKeys = Vec<(FingerprintKey, u32)>;

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
    keys_in_parts(suite, cores.min(total / POSITIONS_PER_THREAD).max(1))
}

/// [`plan_keys`], the plan shared out among `parts` threads.
fn keys_in_parts(suite: &Suite, parts: usize) -> Result<PlanKeys, InputError> {
    let total = plan_len(suite);
    // One vector, each thread filling its own contiguous share in place: joining shares built apart would, for a
    // moment, hold every key twice (the joined vector grown while the shares are still alive).
    let mut keys: PlanKeys = vec![(FingerprintKey([0; 32]), 0); total];
    let built = std::thread::scope(|scope| {
        let mut rest = keys.as_mut_slice();
        let mut workers = Vec::with_capacity(parts);
        for i in 0..parts {
            let share = total * i / parts..total * (i + 1) / parts;
            let (slots, after) = std::mem::take(&mut rest).split_at_mut(share.len());
            rest = after;
            workers.push(scope.spawn(move || share_keys(suite, share, slots)));
        }
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<Vec<_>>()
    });
    // The first share's error is the plan's first.
    built.into_iter().collect::<Result<(), _>>()?;
    Ok(keys)
}

/// Writes into `slots` the keys of the plan positions in `share`, in order: each (example, config) request built
/// once, then hashed per repeat, as [`plan_requests`] would fingerprint it.
fn share_keys(
    suite: &Suite,
    share: std::ops::Range<usize>,
    slots: &mut [(FingerprintKey, u32)],
) -> Result<(), InputError> {
    let configs = &suite.file.configs;
    let builders: Vec<RequestBuilder> = configs
        .iter()
        .map(|config| RequestBuilder::new(config, suite.pool()))
        .collect();
    let mut hashers = vec![KeyHasher::default(); configs.len()];
    let mut slots = slots.iter_mut();
    let mut position = share.start;
    while position < share.end {
        let (example, config, first_repeat) = plan_position(suite, position);
        let example = &suite.held_out.examples[example];
        let request = build_request(suite, &builders[config], example)?;
        for repeat in first_repeat..suite.file.repeats {
            let Some(slot) = slots.next() else { break };
            // Below 2^32: `plan_keys` checked the plan's length.
            *slot = (
                hashers[config].key(Some(&configs[config].name), &request, repeat),
                position as u32,
            );
            position += 1;
        }
    }
    Ok(())
}

/// `builder`'s request for `example`; a template that cannot be rendered is an error naming the example's line.
fn build_request(suite: &Suite, builder: &RequestBuilder, example: &Example) -> Result<ModelRequest, InputError> {
    builder
        .build(example)
        .map_err(|e| InputError::at_line(&suite.held_out.path, example.line, e.to_string()).field("template"))
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
                match build_request(suite, builder, example) {
                    Ok(request) => self.current = Some((self.example, self.config, request, 0)),
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
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

    /// The fingerprint as first defined: serde_json's canonical JSON of the whole struct, hashed twice.
    fn reference_fingerprint(config: Option<&str>, request: &ModelRequest, repeat: u32) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            config: Option<&'a str>,
            request: &'a ModelRequest,
            repeat: u32,
        }
        let bytes = serde_json::to_vec(&Canonical {
            config,
            request,
            repeat,
        })
        .unwrap();
        crate::dataset::sha256_hex(&Sha256::digest(&bytes))
    }

    #[test]
    fn a_hashers_keys_are_the_canonical_json_fingerprints_whatever_the_requests_share() {
        use crate::dataset::{Role, Turn};
        use crate::suite::schema::InferenceSection;
        let turn = |role, text: &str| Turn {
            role,
            text: text.to_string(),
        };
        let hostile = "quote \" back\\slash \u{0} \n\t \u{7f} \u{2028} — </script> ﬃ 😀";
        let base = ModelRequest {
            model: "amazon.nova-micro-v1:0".to_string(),
            system: Some("You are a support agent.".to_string()),
            messages: vec![turn(Role::User, "Ticket 1: it jams.")],
            inference: InferenceSection {
                max_tokens: Some(300),
                temperature: Some(0.0),
                ..InferenceSection::default()
            },
            cache_after_messages: None,
        };
        let mut requests = vec![base.clone()];
        requests.push(ModelRequest {
            messages: vec![turn(Role::User, hostile)],
            ..base.clone()
        });
        requests.push(ModelRequest {
            system: None,
            ..base.clone()
        });
        requests.push(ModelRequest {
            system: Some(hostile.to_string()),
            model: hostile.to_string(),
            ..base.clone()
        });
        requests.push(ModelRequest {
            messages: vec![
                turn(Role::User, "demo"),
                turn(Role::Assistant, hostile),
                turn(Role::User, "Ticket 2"),
            ],
            cache_after_messages: Some(2),
            inference: InferenceSection {
                max_tokens: None,
                temperature: Some(0.7),
                top_p: Some(0.9),
                stop_sequences: vec!["END".to_string(), hostile.to_string()],
            },
            ..base.clone()
        });
        requests.push(ModelRequest {
            cache_after_messages: Some(0),
            messages: Vec::new(),
            ..base.clone()
        });
        requests.push(base.clone());
        // One hasher through every request in turn (its kept beginning hit and missed), and a fresh one for each.
        let mut hasher = KeyHasher::default();
        for config in [Some("c0"), Some(hostile), None, Some("c0")] {
            for request in &requests {
                for repeat in [0, 1, u32::MAX] {
                    let expected = reference_fingerprint(config, request, repeat);
                    let key = hasher.key(config, request, repeat);
                    assert_eq!(RequestFingerprint::from_key(&key).0, expected);
                    assert_eq!(RequestFingerprint(expected.clone()).key(), Some(key));
                    let fresh = match config {
                        Some(config) => RequestFingerprint::of_config(config, request, repeat),
                        None => RequestFingerprint::of(request, repeat),
                    };
                    assert_eq!(fresh.0, expected);
                }
            }
        }
    }

    #[test]
    fn the_keys_are_the_plans_fingerprints_however_the_plan_is_shared_out() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini/suite.yaml");
        let mut suite = crate::suite::load(&path).unwrap();
        // Three repeats, so that shares also end between an example's repeats.
        suite.file.repeats = 3;
        let expected: PlanKeys = build_plan(&suite)
            .unwrap()
            .iter()
            .enumerate()
            .map(|(position, planned)| (planned.fingerprint.key().unwrap(), position as u32))
            .collect();
        assert_eq!(expected.len(), 72);
        for parts in [1, 2, 5, 7, 72] {
            assert_eq!(keys_in_parts(&suite, parts).unwrap(), expected, "{parts} parts");
        }
    }

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
