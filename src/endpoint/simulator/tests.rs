//! Tests of the simulated models, on a small set of support tickets written for them.

use super::text::{content_terms, estimate_tokens, product_phrases, signed_name, Corpus};
use super::*;
use crate::endpoint::TrainingPair;

const SIGN_OFF: &str = "— Kestrel Support";
const CLOSER: &str = "If that doesn't do it, just reply here and we'll take it from there.";

/// (ticket, house-style reply) pairs: a greeting by name, numbered steps, a fixed closer and sign-off.
fn tickets() -> Vec<(String, String)> {
    let reply = |name: &str, opening: &str, steps: &[&str]| {
        let steps: Vec<String> = steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect();
        format!("Hi {name},\n\n{opening}\n\n{}\n\n{CLOSER}\n\n{SIGN_OFF}", steps.join("\n"))
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
            reply("Tom", "A Kestrel Lock that drains in a week is usually stuck retrying Auto-Lock.", &[
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
    tickets().into_iter().map(|(prompt, completion)| TrainingPair { prompt, completion }).collect()
}

/// A new ticket about the same problem as the first example (the camera dropping Wi-Fi), on another camera.
const QUERY: &str = "Hello, my Kestrel Cam 3 keeps dropping off the Wi-Fi at night, even after restarting the \
router. What can I do?\n\nThanks,\nJonas";

const SYSTEM: &str = "You are a support agent for Kestrel Home. Reply to the customer's ticket.";

fn conversation(system: &str, turns: &[(Role, &str)], temperature: f64) -> Conversation {
    let turns: Vec<Turn> = turns.iter().map(|(role, text)| Turn { role: *role, text: text.to_string() }).collect();
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

/// The conversation for `query` with the given demonstrations before it.
fn few_shot(demos: &[(String, String)], query: &str, seed_text: &str) -> Conversation {
    let mut turns: Vec<(Role, &str)> = Vec::new();
    for (prompt, answer) in demos {
        turns.push((Role::User, prompt));
        turns.push((Role::Assistant, answer));
    }
    turns.push((Role::User, query));
    conversation(&format!("{SYSTEM} {seed_text}"), &turns, 0.0)
}

/// Many different conversations for `query` (the system prompt varies, so the seed does).
fn variants(count: usize, build: impl Fn(&str) -> Conversation) -> Vec<Conversation> {
    (0..count).map(|i| build(&format!("(ticket {i})"))).collect()
}

fn share(conversations: &[Conversation], model: Option<&FineTunedModel>, test: impl Fn(&str) -> bool) -> f64 {
    let hits = conversations.iter().filter(|c| test(&complete(7, "amazon.nova-lite-v1:0", model, c, 0).text)).count();
    hits as f64 / conversations.len() as f64
}

#[test]
fn scratch_print() {
    let model = FineTunedModel::new(&pairs());
    let base = conversation(
        "You are a support agent for Kestrel Home, a smart-home company. Reply to the customer's ticket. Greet them by first name (\"Hi NAME,\"), name the product, acknowledge the problem in one sentence, then give the fix as numbered steps. End with \"If that doesn't do it, just reply here and we'll take it from there.\" and sign off with \"— Kestrel Support\". Never write \"I apologize for any inconvenience\".",
        &[(Role::User, QUERY)],
        0.0,
    );
    for i in 0..3 {
        let mut c = base.clone();
        c.sampling_key.push(i);
        println!("--- base {i}\n{}", complete(7, "amazon.nova-lite-v1:0", None, &c, 0).text);
    }
    let fs = few_shot(&tickets()[..4], QUERY, "");
    println!("--- few-shot\n{}", complete(7, "amazon.nova-lite-v1:0", None, &fs, 0).text);
    let fs2 = few_shot(&tickets()[1..5], QUERY, "");
    println!("--- few-shot irrelevant\n{}", complete(7, "amazon.nova-lite-v1:0", None, &fs2, 0).text);
    let custom = conversation(SYSTEM, &[(Role::User, QUERY)], 0.0);
    println!("--- custom\n{}", complete(7, "arn", Some(&model), &custom, 0).text);
    let q = super::compose::Query::new(QUERY);
    let demos: Vec<super::style::Demonstration> = tickets().iter().map(|(p, a)| super::style::Demonstration::new(p, a)).collect();
    let corpus = Corpus::new(demos.iter().map(|d| d.terms.clone()).collect());
    for i in 0..demos.len() {
        println!("sim {i}: {:.3} {:?}", corpus.similarity(&q.terms, i), demos[i].products);
    }
    println!("{:?} {:?}", q.products, q.name);
    let style = super::style::HouseStyle::learn(&demos);
    println!("{style:?}");
    println!("{:?}", style.parts(&demos[0]));
}
