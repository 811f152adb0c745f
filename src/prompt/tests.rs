use super::*;
use crate::dataset::parse_line;
use crate::suite::schema::{InferenceSection, ShotsSection};

fn example(id: &str, prompt: &str, completion: &str) -> Example {
    let line = serde_json::json!({"id": id, "prompt": prompt, "completion": completion, "customer": "Aiko"});
    parse_line(&line.to_string(), 1).unwrap()
}

fn config(kind: ConfigKind, shots: Option<ShotsSection>, template: Option<&str>) -> ConfigSection {
    ConfigSection {
        name: "c".into(),
        kind,
        model: "amazon.nova-lite-v1:0".into(),
        system: Some("Be brief.".into()),
        template: template.map(str::to_string),
        shots,
        inference: InferenceSection::default(),
        cache: false,
        provider: Default::default(),
        base_url: None,
        api_key_env: None,
    }
}

fn pool() -> Vec<Example> {
    vec![
        example("t1", "my lock jams when turning", "Calibrate the lock."),
        example("t2", "camera offline after router change", "Reconnect to 2.4 GHz."),
        example("t3", "thermostat short cycling in winter", "Set the minimum run time."),
        example("t4", "lock battery drains fast", "Use lithium AA batteries."),
    ]
}

fn shots(k: usize, select: ShotSelection) -> Option<ShotsSection> {
    Some(ShotsSection { k, select, seed: 11 })
}

#[test]
fn prompt_config_is_system_plus_input() {
    let config = config(ConfigKind::Prompt, None, Some("Ticket from {{customer}}:\n{{input}}"));
    let request = RequestBuilder::new(&config, &[])
        .build(&example("h1", "door lock stuck", "x"))
        .unwrap();
    assert_eq!(request.system.as_deref(), Some("Be brief."));
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].text, "Ticket from Aiko:\ndoor lock stuck");
}

#[test]
fn similar_picks_the_most_similar_demonstrations_first() {
    let pool = pool();
    let config = config(ConfigKind::FewShot, shots(2, ShotSelection::Similar), None);
    let builder = RequestBuilder::new(&config, &pool);
    let ids: Vec<&str> = builder
        .demonstrations(&example("h1", "the lock jams and battery drains", "x"))
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"t1") && ids.contains(&"t4"), "{ids:?}");
}

#[test]
fn demonstrations_never_include_the_example_or_an_identical_input() {
    let pool = pool();
    let config = config(ConfigKind::FewShot, shots(4, ShotSelection::Similar), None);
    let builder = RequestBuilder::new(&config, &pool);
    // Same id as a pool entry, and another pool entry with the same input up to case and spacing.
    let held_out = example("t2", "My  LOCK jams when turning", "x");
    let ids: Vec<&str> = builder
        .demonstrations(&held_out)
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&"t1") && !ids.contains(&"t2"), "{ids:?}");
    assert_eq!(builder.eligible_count(&held_out), 2);
}

#[test]
fn random_selection_is_seeded_and_per_example() {
    let pool = pool();
    let config = config(ConfigKind::FewShot, shots(2, ShotSelection::Random), None);
    let builder = RequestBuilder::new(&config, &pool);
    let a = example("h1", "question one", "x");
    let first: Vec<String> = builder.demonstrations(&a).iter().map(|e| e.id.clone()).collect();
    let again: Vec<String> = builder.demonstrations(&a).iter().map(|e| e.id.clone()).collect();
    assert_eq!(first, again);
    assert_eq!(first.len(), 2);
}

#[test]
fn few_shot_request_alternates_demonstrations_then_the_input() {
    let pool = pool();
    let config = config(ConfigKind::FewShot, shots(2, ShotSelection::Fixed), None);
    let request = RequestBuilder::new(&config, &pool)
        .build(&example("h1", "new question", "x"))
        .unwrap();
    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant, Role::User]
    );
    assert_eq!(request.messages[1].text, "Calibrate the lock.");
    assert_eq!(request.messages[4].text, "new question");
}

#[test]
fn template_errors_name_the_field() {
    let config = config(ConfigKind::Prompt, None, Some("{{nope}}"));
    let error = RequestBuilder::new(&config, &[])
        .build(&example("h1", "q", "x"))
        .unwrap_err();
    assert!(error.to_string().contains("`{{nope}}`"), "{error}");
    assert_eq!(template_fields("a {{ input }} b {{x"), Err(TemplateError::Unclosed));
}

#[test]
fn the_cache_point_follows_the_shared_prefix() {
    let pool = pool();
    let held_out = example("h1", "the lock jams and battery drains", "x");
    let cached = |kind, shots| {
        let mut config = config(kind, shots, None);
        config.cache = true;
        RequestBuilder::new(&config, &pool).build(&held_out).unwrap()
    };
    // Fixed demonstrations are the same for every example: the cache point follows them (2 × 2 messages).
    assert_eq!(
        cached(ConfigKind::FewShot, shots(2, ShotSelection::Fixed)).cache_after_messages,
        Some(4)
    );
    // Similar ones differ per example: only the system prompt is a shared prefix.
    assert_eq!(
        cached(ConfigKind::FewShot, shots(2, ShotSelection::Similar)).cache_after_messages,
        Some(0)
    );
    assert_eq!(cached(ConfigKind::Prompt, None).cache_after_messages, Some(0));
    let plain = RequestBuilder::new(&config(ConfigKind::Prompt, None, None), &pool)
        .build(&held_out)
        .unwrap();
    assert_eq!(plain.cache_after_messages, None);
}
