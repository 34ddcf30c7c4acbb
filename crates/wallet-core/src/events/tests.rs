use super::canonical::{canonical, NotJson};
use super::*;
use crate::text::PublicId;
use proptest::prelude::*;

#[test]
fn canonical_json_sorts_keys_at_every_level_and_drops_whitespace() {
    assert_eq!(
        canonical(r#" { "b" : 1, "a" : { "z" : [ 1 , 2 ], "y" : null } } "#),
        Ok(r#"{"a":{"y":null,"z":[1,2]},"b":1}"#.to_owned())
    );
}

#[test]
fn canonical_json_keeps_numbers_as_written_and_escapes_only_what_json_requires() {
    assert_eq!(
        canonical(r#"[12345678901234567890123, -0.50, 1e3, 7]"#),
        Ok("[12345678901234567890123,-0.50,1e3,7]".to_owned())
    );
    assert_eq!(
        canonical(r#""caf\u00e9 \ud83d\ude00 \/ \" \\ \n \u0001""#),
        Ok("\"café 😀 / \\\" \\\\ \\n \\u0001\"".to_owned())
    );
}

/// Item properties are kept byte for byte, lone surrogate escapes and
/// all: their events keep such a string as written (it has no UTF-8 form)
/// instead of refusing the write.
#[test]
fn canonical_json_keeps_a_string_with_a_lone_surrogate_as_written() {
    assert_eq!(
        canonical(r#"{"b":"\ud800","a":[ "x\udfff\n" ]}"#),
        Ok(r#"{"a":["x\udfff\n"],"b":"\ud800"}"#.to_owned())
    );
    assert_eq!(canonical(r#""\ud83d\ude00""#), Ok("\"\u{1f600}\"".to_owned()));
    assert_eq!(
        canonical("\"\\ud800\u{1}\""),
        Err(NotJson),
        "raw control characters stay refused"
    );
}

#[test]
fn canonical_json_refuses_what_is_not_one_json_value() {
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\" 1}",
        "01",
        "1.",
        "tru",
        "1 2",
        "\"a",
        "{\"a\":1,}",
    ] {
        assert_eq!(canonical(bad), Err(NotJson), "{bad:?}");
    }
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(canonical(&deep), Err(NotJson));
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        "[ -~é😀\\n\\t\"\\\\]{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-zA-Z_é]{0,6}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Canonical JSON is the same value, its own canonical form, and the
    /// same whatever the spacing of the input.
    #[test]
    fn canonical_json_is_the_same_value_and_a_fixed_point(value in json_value()) {
        let compact = serde_json::to_string(&value).unwrap_or_default();
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        let c = canonical(&compact).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: serde_json::Value = serde_json::from_str(&c).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(canonical(&c), Ok(c.clone()));
        prop_assert_eq!(canonical(&pretty), Ok(c));
    }
}

fn draft(kind: EventType, data: &str) -> Draft {
    Draft {
        kind,
        data: canonical::canonical_raw(data)
            .unwrap_or_else(|_| canonical::canonical_raw("null").unwrap_or_default()),
        customers: Vec::new(),
    }
}

#[test]
fn the_hash_covers_the_previous_hash_and_the_canonical_event() {
    let (events, head) = chain(
        &EventHead::genesis(),
        "default",
        1_700_000_000_000,
        vec![
            draft(EventType::AssetCreated, r#"{"id":"1"}"#),
            draft(EventType::AssetDeleted, r#"{"id":"1"}"#),
        ],
    );
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.id(), "default:1");
    let body = r#"{"createdAt":1700000000000,"data":{"id":"1"},"id":"default:1","projectId":"default","seq":1,"type":"asset.created"}"#;
    assert_eq!(first.canonical_body(), body);
    let mut hasher = Sha256::new();
    hasher.update(GENESIS.as_bytes());
    hasher.update(body.as_bytes());
    assert_eq!(first.hash, hex(&hasher.finalize()));
    assert_eq!(events[1].seq, 2);
    assert_eq!(events[1].hash, events[1].expected_hash(&first.hash));
    assert_eq!(
        head,
        EventHead {
            seq: 2,
            hash: events[1].hash.clone()
        }
    );
    // As served: the same keys, `hash` among them, sorted.
    assert_eq!(
        first.to_json(),
        format!(
            r#"{{"createdAt":1700000000000,"data":{{"id":"1"}},"hash":"{}","id":"default:1","projectId":"default","seq":1,"type":"asset.created"}}"#,
            first.hash
        )
    );
    // Any change to the content changes the hash.
    let mut edited = first.clone();
    edited.data = canonical::canonical_raw(r#"{"id":"2"}"#).unwrap_or_else(|_| first.data.clone());
    assert_ne!(edited.expected_hash(GENESIS), first.hash);
}

#[test]
fn event_types_round_trip_their_dotted_names() {
    for kind in EventType::ALL {
        assert_eq!(kind.as_str().parse::<EventType>(), Ok(*kind));
    }
    assert_eq!(EventType::ALL.len(), 18);
    assert_eq!(
        EventType::parse_list("hold.created, transaction.completed,,hold.created"),
        Ok(vec![EventType::TransactionCompleted, EventType::HoldCreated])
    );
    assert!(EventType::parse_list("transaction.done").is_err());
}

fn webhook(progress: WebhookProgress) -> Webhook {
    Webhook {
        id: PublicId::random("wh_"),
        project_id: "default".to_owned(),
        url: "http://127.0.0.1:9/".to_owned(),
        types: None,
        description: None,
        salt: "salt".to_owned(),
        created_at: 0,
        progress,
    }
}

fn failed() -> Attempt {
    Attempt::Failed {
        http_status: Some(500),
        error: "HTTP 500".to_owned(),
    }
}

#[test]
fn a_delivery_moves_the_queue_past_the_event() {
    let hook = webhook(WebhookProgress {
        cursor: 4,
        failures: 2,
        first_failure_at: Some(10),
        next_attempt_at: 20,
    });
    let settled = settle(
        &hook,
        7,
        Attempt::Delivered { http_status: 204 },
        100,
        &RetrySchedule::standard(),
        0.0,
    );
    assert_eq!(settled.delivery.status, DeliveryStatus::Delivered);
    assert_eq!(settled.delivery.attempt, 3);
    assert_eq!(settled.delivery.http_status, Some(204));
    assert_eq!(settled.progress, WebhookProgress::at(7, 100));
}

#[test]
fn failures_follow_the_schedule_then_the_event_is_dead() {
    let schedule = RetrySchedule::standard();
    let mut hook = webhook(WebhookProgress::at(0, 0));
    let mut now = 0;
    let mut delays = Vec::new();
    loop {
        let settled = settle(&hook, 1, failed(), now, &schedule, 0.0);
        if settled.delivery.status == DeliveryStatus::Dead {
            assert_eq!(settled.progress.cursor, 1, "a dead event is settled");
            assert_eq!(settled.progress.failures, 0);
            break;
        }
        assert_eq!(settled.delivery.status, DeliveryStatus::Failed);
        assert_eq!(settled.progress.cursor, 0, "a failed event is tried again");
        let next = settled.delivery.next_attempt_at.unwrap_or_default();
        delays.push(next - now);
        now = next;
        hook.progress = settled.progress;
    }
    let s = 1000;
    assert_eq!(
        &delays[..6],
        &[5 * s, 30 * s, 120 * s, 600 * s, 3600 * s, 6 * 3600 * s]
    );
    // Up to 3 days after the first failure, then one last attempt.
    assert!(now >= 72 * 3600 * s && now < 78 * 3600 * s + 3600 * s, "{now}");
}

#[test]
fn jitter_stays_within_its_fraction() {
    let schedule = RetrySchedule::standard();
    for spread in [-1.0, -0.5, 0.0, 0.5, 1.0, 7.0] {
        let d = schedule.delay(1, spread);
        assert!((4000..=6000).contains(&d), "{d}");
    }
    let fast = RetrySchedule::scaled_down(1000);
    assert_eq!(fast.delay(1, 0.0), 5);
    assert_eq!(fast.give_up_after, 259_200);
}

#[test]
fn a_key_with_a_lone_surrogate_escape_is_kept_as_written() {
    assert_eq!(
        canonical(r#"{"b":1,"\ud800x":2,"a":{"\udc00":3}}"#),
        Ok(r#"{"\ud800x":2,"a":{"\udc00":3},"b":1}"#.to_owned())
    );
}

#[test]
fn a_run_settles_each_attempt_on_the_queue_the_one_before_left_and_stops_passing_over_at_a_failure() {
    let hook = webhook(WebhookProgress::at(4, 100));
    let schedule = RetrySchedule::standard();
    let ok = Attempt::Delivered { http_status: 200 };
    let failure = Attempt::Failed {
        http_status: Some(500),
        error: "answered 500".to_owned(),
    };
    let mut run = Run::new(&hook);
    assert!(run.is_empty());
    assert_eq!(
        run.settle(&hook, 5, ok.clone(), 200, &schedule, 0.0),
        DeliveryStatus::Delivered
    );
    assert_eq!(
        run.settle(&hook, 7, ok, 210, &schedule, 0.0),
        DeliveryStatus::Delivered
    );
    assert_eq!(run.progress, WebhookProgress::at(7, 210));
    // What recording each attempt on its own would leave.
    let mut one_by_one = hook.clone();
    one_by_one.progress = WebhookProgress::at(7, 210);
    let alone = settle(&one_by_one, 9, failure.clone(), 220, &schedule, 0.0);
    assert_eq!(
        run.settle(&hook, 9, failure, 220, &schedule, 0.0),
        DeliveryStatus::Failed
    );
    assert_eq!(run.progress, alone.progress);
    assert_eq!(run.deliveries.last(), Some(&alone.delivery));
    assert_eq!(run.deliveries.len(), 3);
    // A failure waits at its event: the cursor is not passed over it.
    run.pass_over_to(20);
    assert_eq!(run.progress.cursor, 7);
    let mut quiet = Run::new(&hook);
    quiet.pass_over_to(3);
    assert!(quiet.is_empty(), "never back");
    quiet.pass_over_to(20);
    assert_eq!(quiet.progress.cursor, 20);
    assert!(!quiet.is_empty());
}

#[test]
fn a_page_that_is_not_full_was_looked_at_up_to_the_head() {
    let page = |head, full| WebhookPage {
        head,
        events: Vec::new(),
        full,
    };
    assert_eq!(page(12, false).looked_at(), 12);
    assert_eq!(
        page(12, true).looked_at(),
        i64::MIN,
        "no event: nothing to pass over"
    );
}
