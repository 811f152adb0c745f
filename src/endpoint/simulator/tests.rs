//! Tests of the simulated models, on a small set of support tickets written for them.

use super::text::estimate_tokens;
use super::*;
use crate::endpoint::TrainingPair;

const SIGN_OFF: &str = "— Kestrel Support";
const CLOSER: &str = "If that doesn't do it, just reply here and we'll take it from there.";
const MODEL: &str = "amazon.nova-lite-v1:0";
const SEED: u64 = 7;

/// The first names the training tickets are signed with; none may reach an answer to someone else.
const TRAINING_NAMES: &[&str] = &["Maria", "Dev", "Priya", "Tom", "Lena"];

/// (ticket, house-style reply) pairs: a greeting by name, numbered steps, a fixed closer and sign-off.
fn tickets() -> Vec<(String, String)> {
    let reply = |name: &str, opening: &str, steps: &[&str]| {
        let steps: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect();
        format!(
            "Hi {name},\n\n{opening}\n\n{}\n\n{CLOSER}\n\n{SIGN_OFF}",
            steps.join("\n")
        )
    };
    vec![
        (
            "My Kestrel Cam 2 keeps dropping off the Wi-Fi every night. I already restarted the router twice.\n\nThanks,\nMaria".to_string(),
            reply("Maria", "Your Kestrel Cam 2 is most likely hopping to the 5 GHz band, which it can't hold at night.", &[
                "In the Kestrel app, open Settings > Network for the Kestrel Cam 2.",
                "Turn on Lock to 2.4 GHz.",
                "Hold the reset button for 10 seconds to power-cycle it.",
            ]),
        ),
        (
            "The Kestrel Thermostat shows 74 degrees but the room is clearly colder. It's been off by a few degrees since we moved it.\n\n— Dev".to_string(),
            reply("Dev", "A Kestrel Thermostat reads a few degrees off after a move until it is recalibrated.", &[
                "On the Kestrel Thermostat, press and hold the dial for 5 seconds.",
                "Choose Calibrate and enter the temperature from a second thermometer.",
                "Give it 30 minutes to settle.",
            ]),
        ),
        (
            "Our Kestrel Doorbell stopped ringing the chime inside. The app still gets notifications.\n\nCheers,\nPriya".to_string(),
            reply("Priya", "When the app rings but the chime doesn't, the Kestrel Doorbell has lost its chime pairing.", &[
                "In the Kestrel app, open the Kestrel Doorbell and tap Chime.",
                "Tap Re-pair chime and press the button on the chime when asked.",
                "Test with a press of the doorbell.",
            ]),
        ),
        (
            "The battery in my Kestrel Lock drains in a week. It used to last months.\n\nThanks,\nTom".to_string(),
            reply("Tom", "Thanks for the details, Tom. A Kestrel Lock that drains in a week is usually stuck retrying Auto-Lock.", &[
                "In the Kestrel app, open the Kestrel Lock and turn off Auto-Lock Retry.",
                "Replace the batteries with fresh lithium AA cells.",
                "Turn Auto-Lock back on after a day.",
            ]),
        ),
        (
            "My Kestrel Hub won't update its firmware, it's stuck at 40% for hours.\n\nBest,\nLena".to_string(),
            reply("Lena", "A Kestrel Hub update that stalls at 40% needs a wired connection to finish.", &[
                "Connect the Kestrel Hub to your router with an Ethernet cable.",
                "In the Kestrel app, tap Hub > Firmware > Retry update.",
                "Leave it plugged in until the light turns solid green.",
            ]),
        ),
    ]
}

fn pairs() -> Vec<TrainingPair> {
    tickets()
        .into_iter()
        .map(|(prompt, completion)| TrainingPair { prompt, completion })
        .collect()
}

/// A new ticket about the same problem as the first example (the camera dropping Wi-Fi), on another camera.
const QUERY: &str = "Hello, my Kestrel Cam 3 keeps dropping off the Wi-Fi at night, even after restarting the \
router. What can I do?\n\nThanks,\nJonas";

/// The step of the first ticket's fix that solves [`QUERY`]'s problem.
const RIGHT_FIX: &str = "Lock to 2.4 GHz";

const SYSTEM: &str = "You are a support agent for Kestrel Home. Reply to the customer's ticket.";

/// A system prompt that quotes the house style instead of showing it.
const HOUSE_INSTRUCTIONS: &str = "You are a support agent for Kestrel Home, a smart-home company. Reply to the \
customer's ticket. Greet them by first name (\"Hi NAME,\"), name the product, acknowledge the problem in one \
sentence, then give the fix as numbered steps. End with \"If that doesn't do it, just reply here and we'll take it \
from there.\" and sign off with \"— Kestrel Support\". Never write \"I apologize for any inconvenience\".";

fn conversation(system: &str, turns: &[(Role, &str)], temperature: f64) -> Conversation {
    let turns: Vec<Turn> = turns
        .iter()
        .map(|(role, text)| Turn {
            role: *role,
            text: text.to_string(),
        })
        .collect();
    let sampling_key = format!("{system}|{turns:?}|{temperature}").into_bytes();
    Conversation {
        system: system.to_string(),
        turns,
        temperature,
        max_tokens: 1024,
        stop_sequences: Vec::new(),
        sampling_key,
    }
}

/// The conversation for `query` with the given demonstrations before it; `system` is the whole system prompt.
fn few_shot(demos: &[(String, String)], query: &str, system: &str) -> Conversation {
    let mut turns: Vec<(Role, &str)> = Vec::new();
    for (prompt, answer) in demos {
        turns.push((Role::User, prompt));
        turns.push((Role::Assistant, answer));
    }
    turns.push((Role::User, query));
    conversation(system, &turns, 0.0)
}

/// Many different conversations (the system prompt ends with a different ticket number, so the seed differs).
fn variants(count: usize, build: impl Fn(&str) -> Conversation) -> Vec<Conversation> {
    (0..count).map(|i| build(&format!("(ticket {i})"))).collect()
}

/// Answers of `model` (a base model when `None`) to each conversation.
fn answers(conversations: &[Conversation], model: Option<&FineTunedModel>) -> Vec<String> {
    conversations
        .iter()
        .map(|c| complete(SEED, MODEL, model, c, 0).text)
        .collect()
}

/// The fraction of `texts` that pass `test`.
fn share(texts: &[String], test: impl Fn(&str) -> bool) -> f64 {
    texts.iter().filter(|t| test(t)).count() as f64 / texts.len() as f64
}

fn numbered_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(". "))
        .count()
}

fn has_sign_off(text: &str) -> bool {
    text.trim_end().ends_with(SIGN_OFF)
}

/// Greeting by the customer's name, numbered steps, the house closer and sign-off.
fn is_house_style(text: &str, name: &str) -> bool {
    text.starts_with(&format!("Hi {name},")) && numbered_lines(text) >= 2 && text.contains(CLOSER) && has_sign_off(text)
}

fn distinct(texts: &[String]) -> usize {
    texts.iter().collect::<std::collections::BTreeSet<_>>().len()
}

#[test]
fn the_same_request_gets_the_same_answer() {
    let model = FineTunedModel::new(&pairs());
    let base = conversation(HOUSE_INSTRUCTIONS, &[(Role::User, QUERY)], 0.7);
    let shots = few_shot(&tickets()[..4], QUERY, SYSTEM);
    for (conversation, fine_tuned) in [(&base, None), (&shots, None), (&base, Some(&model))] {
        let first = complete(SEED, MODEL, fine_tuned, conversation, 3);
        // A model trained again from the same pairs is the same model.
        let retrained = FineTunedModel::new(&pairs());
        let again = complete(SEED, MODEL, fine_tuned.map(|_| &retrained), conversation, 3);
        assert_eq!(first, again);
        assert!(!first.text.is_empty());
    }
}

#[test]
fn at_temperature_zero_repeats_are_identical_and_above_zero_they_vary() {
    let greedy = conversation(HOUSE_INSTRUCTIONS, &[(Role::User, QUERY)], 0.0);
    let repeats: Vec<String> = (0..10).map(|i| complete(SEED, MODEL, None, &greedy, i).text).collect();
    assert_eq!(distinct(&repeats), 1, "temperature 0 ignores the sampling index");

    let sampled = conversation(HOUSE_INSTRUCTIONS, &[(Role::User, QUERY)], 0.7);
    let repeats: Vec<String> = (0..10).map(|i| complete(SEED, MODEL, None, &sampled, i).text).collect();
    assert!(
        distinct(&repeats) >= 5,
        "only {} distinct answers in 10 samples",
        distinct(&repeats)
    );
}

#[test]
fn the_seed_the_model_id_and_the_request_each_change_the_answer() {
    let conversations = variants(10, |tag| {
        conversation(&format!("{HOUSE_INSTRUCTIONS} {tag}"), &[(Role::User, QUERY)], 0.0)
    });
    let texts = answers(&conversations, None);
    assert!(
        distinct(&texts) >= 5,
        "only {} distinct answers to 10 different requests",
        distinct(&texts)
    );

    let by_seed: Vec<String> = (0..10)
        .map(|seed| complete(seed, MODEL, None, &conversations[0], 0).text)
        .collect();
    assert!(
        distinct(&by_seed) >= 5,
        "only {} distinct answers over 10 seeds",
        distinct(&by_seed)
    );

    let models = [
        "amazon.nova-lite-v1:0",
        "amazon.nova-micro-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
    ];
    let by_model: Vec<String> = models
        .iter()
        .map(|m| complete(SEED, m, None, &conversations[0], 0).text)
        .collect();
    assert!(distinct(&by_model) >= 2, "the model id does not change the answer");
}

#[test]
fn a_base_model_follows_quoted_instructions_only_part_of_the_time() {
    let conversations = variants(40, |tag| {
        conversation(&format!("{HOUSE_INSTRUCTIONS} {tag}"), &[(Role::User, QUERY)], 0.0)
    });
    let texts = answers(&conversations, None);
    let signed = share(&texts, has_sign_off);
    let numbered = share(&texts, |t| numbered_lines(t) >= 2);
    let greeted = share(&texts, |t| t.starts_with("Hi Jonas,"));
    let banned = share(&texts, |t| t.contains("I apologize for any inconvenience"));
    for (what, value) in [
        ("sign-off", signed),
        ("numbered steps", numbered),
        ("greeting by name", greeted),
    ] {
        assert!(value > 0.2 && value < 0.9, "{what} in {value:.2} of the answers");
    }
    // A prohibition is obeyed only part of the time too (the stock apology comes in most bland replies).
    assert!(
        banned > 0.0 && banned < 0.6,
        "the forbidden apology in {banned:.2} of the answers"
    );
    // Left to itself (no instructions), a base model never writes the house style.
    let plain = answers(
        &variants(40, |tag| {
            conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, QUERY)], 0.0)
        }),
        None,
    );
    assert_eq!(share(&plain, has_sign_off), 0.0);
    assert_eq!(share(&plain, |t| is_house_style(t, "Jonas")), 0.0);
    // And a base model never knows the product-specific fix.
    assert_eq!(share(&texts, |t| t.contains(RIGHT_FIX)), 0.0);
}

#[test]
fn relevant_demonstrations_beat_irrelevant_ones_and_none() {
    let all = tickets();
    // The first ticket is the camera one (relevant to the query); the last four are about other products.
    let relevant = &all[..4];
    let irrelevant = &all[1..5];
    let build = |demos: &[(String, String)]| {
        answers(
            &variants(40, |tag| few_shot(demos, QUERY, &format!("{HOUSE_INSTRUCTIONS} {tag}"))),
            None,
        )
    };
    let (with_relevant, with_irrelevant, without) = (build(relevant), build(irrelevant), build(&[]));
    let house = |texts: &[String]| share(texts, |t| is_house_style(t, "Jonas"));
    let fixed = |texts: &[String]| share(texts, |t| t.contains(RIGHT_FIX));

    assert!(
        house(&with_relevant) >= 0.6,
        "house style in {:.2} with relevant demonstrations",
        house(&with_relevant)
    );
    assert!(
        house(&with_relevant) > house(&without) + 0.3,
        "house style: {:.2} with relevant demonstrations, {:.2} with instructions only",
        house(&with_relevant),
        house(&without)
    );
    // Irrelevant demonstrations still teach the style (it is shared by every example), not the fix.
    assert!(house(&with_irrelevant) > house(&without) + 0.3);
    assert!(
        fixed(&with_relevant) >= 0.7,
        "right fix in {:.2} with relevant demonstrations",
        fixed(&with_relevant)
    );
    assert_eq!(fixed(&with_irrelevant), 0.0);
    assert_eq!(fixed(&without), 0.0);
    // Relevant or not, the style and the fix are adapted: nothing of the demonstrations' customers leaks.
    for text in with_relevant.iter().chain(&with_irrelevant) {
        assert_no_training_names(text);
    }
}

fn assert_no_training_names(text: &str) {
    for name in TRAINING_NAMES {
        let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
        assert!(!words.contains(name), "training customer {name} in:\n{text}");
    }
}

#[test]
fn a_custom_model_answers_in_house_style_with_the_nearest_fix_adapted() {
    let model = FineTunedModel::new(&pairs());
    let texts = answers(
        &variants(40, |tag| {
            conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, QUERY)], 0.0)
        }),
        Some(&model),
    );
    let house = share(&texts, |t| is_house_style(t, "Jonas"));
    let fixed = share(&texts, |t| t.contains(RIGHT_FIX));
    assert!(house >= 0.8, "house style in {house:.2} of the answers");
    assert!(fixed >= 0.8, "right fix in {fixed:.2} of the answers");
    // The reused fix names the customer's product, not the training ticket's.
    let adapted = share(&texts, |t| t.contains("Settings > Network for the Kestrel Cam 3"));
    assert!(
        adapted >= 0.7,
        "fix adapted to the Kestrel Cam 3 in {adapted:.2} of the answers"
    );
    // Now and then (as a real model would) it leaves the training product in, but rarely.
    let leftover = share(&texts, |t| t.contains("Kestrel Cam 2"));
    assert!(
        leftover <= 0.15,
        "training product left in {leftover:.2} of the answers"
    );
    for text in &texts {
        assert_no_training_names(text);
    }
    // Without the custom model, the same requests get neither the style nor the fix.
    let base = answers(
        &variants(40, |tag| {
            conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, QUERY)], 0.0)
        }),
        None,
    );
    assert_eq!(share(&base, |t| is_house_style(t, "Jonas")), 0.0);
    assert_eq!(share(&base, |t| t.contains(RIGHT_FIX)), 0.0);
}

#[test]
fn a_custom_model_picks_the_training_fix_nearest_to_each_ticket() {
    let model = FineTunedModel::new(&pairs());
    let cases = [
        (
            "Since we moved our Kestrel Thermostat to the hallway it shows a few degrees more than the room.\n\nBest,\nAmara",
            "Amara",
            "Choose Calibrate",
        ),
        (
            "The Kestrel Hub firmware update is stuck at 40% and won't finish.\n\n— Oskar",
            "Oskar",
            "Retry update",
        ),
    ];
    for (query, name, fix) in cases {
        let texts = answers(
            &variants(20, |tag| {
                conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, query)], 0.0)
            }),
            Some(&model),
        );
        let fixed = share(&texts, |t| t.contains(fix));
        assert!(fixed >= 0.7, "`{fix}` in {fixed:.2} of the answers to {query:?}");
        assert!(
            share(&texts, |t| t.starts_with(&format!("Hi {name},"))) >= 0.8,
            "{texts:#?}"
        );
        for text in &texts {
            assert_no_training_names(text);
        }
    }
}

#[test]
fn the_customer_name_and_product_are_swapped_in_throughout() {
    let model = FineTunedModel::new(&pairs());
    // Tom's reply names him in its first sentence; a new customer with a lock gets their own name there.
    let query = "My Kestrel Lock Pro eats through its batteries in a week, it used to last months.\n\nThanks,\nSam";
    let texts = answers(
        &variants(20, |tag| {
            conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, query)], 0.0)
        }),
        Some(&model),
    );
    assert!(
        share(&texts, |t| t.contains("Thanks for the details, Sam.")) >= 0.5,
        "{texts:#?}"
    );
    assert!(share(&texts, |t| t.contains("Auto-Lock Retry")) >= 0.7, "{texts:#?}");
    for text in &texts {
        assert_no_training_names(text);
    }
    // A customer who signs no name is greeted without one, and still gets nobody else's.
    let anonymous = "My Kestrel Lock eats through its batteries in a week, it used to last months.";
    let texts = answers(
        &variants(20, |tag| {
            conversation(&format!("{SYSTEM} {tag}"), &[(Role::User, anonymous)], 0.0)
        }),
        Some(&model),
    );
    assert!(share(&texts, |t| t.starts_with("Hi there,")) >= 0.8, "{texts:#?}");
    for text in &texts {
        assert_no_training_names(text);
    }
}

#[test]
fn token_counts_are_plausible() {
    let model = FineTunedModel::new(&pairs());
    let shots = few_shot(&tickets()[..4], QUERY, SYSTEM);
    let base = conversation(HOUSE_INSTRUCTIONS, &[(Role::User, QUERY)], 0.0);
    for (conversation, fine_tuned) in [(&base, None), (&shots, None), (&base, Some(&model))] {
        let completion = complete(SEED, MODEL, fine_tuned, conversation, 0);
        let chars = completion.text.chars().count() as f64;
        let output = f64::from(completion.output_tokens);
        assert_eq!(completion.output_tokens, estimate_tokens(&completion.text));
        assert!(
            output > 0.0 && output >= chars / 5.0 && output <= chars / 3.0,
            "{output} tokens for {chars} chars"
        );

        let input_chars: usize = conversation.system.chars().count()
            + conversation.turns.iter().map(|t| t.text.chars().count()).sum::<usize>();
        let input = f64::from(completion.input_tokens);
        assert!(
            input >= input_chars as f64 / 5.0 && input <= input_chars as f64 / 3.0,
            "{input} for {input_chars}"
        );
        assert_eq!(
            completion.input_tokens,
            input_tokens(&conversation.system, &conversation.turns)
        );
        assert_eq!(completion.stop_reason, StopReason::EndTurn);
    }
    // More conversation costs more input: every demonstration is paid for.
    let fewer = few_shot(&tickets()[..1], QUERY, SYSTEM);
    assert!(input_tokens(&fewer.system, &fewer.turns) < input_tokens(&shots.system, &shots.turns));
    // The per-message overhead: an empty system prompt adds nothing, a message adds its text and 4.
    let one = [Turn {
        role: Role::User,
        text: "abcd efgh".to_string(),
    }];
    assert_eq!(input_tokens("", &one), 3 + TOKENS_PER_MESSAGE);
    assert_eq!(
        input_tokens("abcd", &one),
        1 + TOKENS_PER_MESSAGE + 3 + TOKENS_PER_MESSAGE
    );
}

#[test]
fn max_tokens_cuts_the_answer_with_stop_reason_max_tokens() {
    let model = FineTunedModel::new(&pairs());
    let mut conversation = conversation(SYSTEM, &[(Role::User, QUERY)], 0.0);
    let full = complete(SEED, MODEL, Some(&model), &conversation, 0);
    assert_eq!(full.stop_reason, StopReason::EndTurn);

    conversation.max_tokens = 10;
    let cut = complete(SEED, MODEL, Some(&model), &conversation, 0);
    assert_eq!(cut.stop_reason, StopReason::MaxTokens);
    assert!(
        cut.output_tokens <= 10 && cut.output_tokens >= 5,
        "{} tokens",
        cut.output_tokens
    );
    assert!(
        full.text.starts_with(&cut.text),
        "{:?} is not a prefix of the answer",
        cut.text
    );
    assert_eq!(cut.input_tokens, full.input_tokens);

    // Exactly enough room is not a cut.
    conversation.max_tokens = full.output_tokens;
    assert_eq!(complete(SEED, MODEL, Some(&model), &conversation, 0), full);
    conversation.max_tokens = full.output_tokens - 1;
    assert_eq!(
        complete(SEED, MODEL, Some(&model), &conversation, 0).stop_reason,
        StopReason::MaxTokens
    );
}

#[test]
fn a_stop_sequence_ends_the_answer_before_it() {
    let model = FineTunedModel::new(&pairs());
    let mut conversation = conversation(SYSTEM, &[(Role::User, QUERY)], 0.0);
    let full = complete(SEED, MODEL, Some(&model), &conversation, 0);
    let at = full
        .text
        .find("2. ")
        .expect("numbered steps in the custom model's answer");

    conversation.stop_sequences = vec!["not in the answer".to_string(), "2. ".to_string()];
    let stopped = complete(SEED, MODEL, Some(&model), &conversation, 0);
    assert_eq!(stopped.stop_reason, StopReason::StopSequence);
    assert_eq!(stopped.text, full.text[..at]);
    assert_eq!(stopped.output_tokens, estimate_tokens(&stopped.text));
    assert!(stopped.output_tokens < full.output_tokens);

    // The earliest of several stop sequences wins.
    conversation.stop_sequences = vec!["2. ".to_string(), "1. ".to_string()];
    let earliest = complete(SEED, MODEL, Some(&model), &conversation, 0);
    assert_eq!(earliest.text, full.text[..full.text.find("1. ").expect("step 1")]);

    // A stop sequence that never occurs changes nothing.
    conversation.stop_sequences = vec!["not in the answer".to_string()];
    assert_eq!(complete(SEED, MODEL, Some(&model), &conversation, 0), full);

    // When what precedes the stop sequence is still over maxTokens, maxTokens is the reason.
    conversation.stop_sequences = vec!["2. ".to_string()];
    conversation.max_tokens = 5;
    let both = complete(SEED, MODEL, Some(&model), &conversation, 0);
    assert_eq!(both.stop_reason, StopReason::MaxTokens);
    assert!(both.output_tokens <= 5);
}

#[test]
fn stop_sequences_and_max_tokens_do_not_change_the_text_before_the_cut() {
    // They only cut the answer: a request differing only in them is the same generation, cut elsewhere.
    let mut conversation = conversation(HOUSE_INSTRUCTIONS, &[(Role::User, QUERY)], 0.7);
    let full = complete(SEED, MODEL, None, &conversation, 2);
    conversation.max_tokens = 20;
    conversation.stop_sequences = vec!["zzz".to_string()];
    let cut = complete(SEED, MODEL, None, &conversation, 2);
    assert!(full.text.starts_with(&cut.text));
    assert_eq!(cut.stop_reason, StopReason::MaxTokens);
}
