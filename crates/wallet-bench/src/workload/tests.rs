//! What the generator writes is what the server parses: each request is
//! split back into its head and body here and checked as the server would.

use super::*;
use crate::http::Endpoint;
use serde_json::Value;
use std::collections::HashSet;

const FEE_WALLET: i64 = 99;

fn fixture(wallets: &[i64], users: usize) -> Arc<Fixture> {
    Arc::new(Fixture {
        endpoint: Arc::new(Endpoint::parse("http://127.0.0.1:9/prefix").expect("a valid url")),
        access: "Bearer ak_test".to_owned(),
        jwt: Some("a.jwt.sig".to_owned()),
        wallets: wallets.iter().copied().map(WalletId::new).collect(),
        // Only `transfer-fee` may pay into it.
        fee_wallet: Some(WalletId::new(FEE_WALLET)),
        user_prefix: "u".to_owned(),
        users,
        tag: "abc123".to_owned(),
    })
}

/// A request as the server sees it.
struct Request {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn parse(bytes: &[u8]) -> Self {
        let at = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head ending in an empty line");
        let head = std::str::from_utf8(&bytes[..at]).expect("an ASCII head");
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .map(|l| {
                let (name, value) = l.split_once(": ").expect("`name: value`");
                (name.to_ascii_lowercase(), value.to_owned())
            })
            .collect();
        Self {
            line,
            headers,
            body: bytes[at + 4..].to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, after checking that `Content-Length` frames it.
    fn json(&self) -> Value {
        assert_eq!(
            self.header("content-length"),
            Some(self.body.len().to_string().as_str()),
            "{}",
            self.line
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn next(generator: &mut Generator) -> (Sent, Request) {
    let mut out = Vec::new();
    let sent = generator.next(&mut out);
    (sent, Request::parse(&out))
}

fn transfer_of(value: &Value) -> (String, String, String, i64) {
    let op = &value["operations"][0];
    assert_eq!(op["type"], "Transfer", "{value}");
    (
        value["referenceId"].as_str().expect("a referenceId").to_owned(),
        op["source"].as_str().expect("a source").to_owned(),
        op["destination"].as_str().expect("a destination").to_owned(),
        op["amount"].as_i64().expect("an amount"),
    )
}

#[test]
fn transfers_move_1_to_10_between_two_known_wallets_under_unique_references() {
    let wallets = [11, 12, 13];
    let mut generator = Generator::new(Kind::Transfer, fixture(&wallets, 3), 4);
    let known: HashSet<String> = wallets.iter().map(i64::to_string).collect();
    let mut references = HashSet::new();
    for _ in 0..500 {
        let (sent, request) = next(&mut generator);
        assert!(matches!(sent, Sent::Transfer));
        assert_eq!(request.line, "POST /prefix/api/v2/transactions HTTP/1.1");
        assert_eq!(request.header("host"), Some("127.0.0.1:9"));
        assert_eq!(request.header("authorization"), Some("Bearer ak_test"));
        let (reference, source, destination, amount) = transfer_of(&request.json());
        assert!(reference.starts_with("abc123-4-"), "{reference}");
        assert!(references.insert(reference), "a reference id came twice");
        assert!(known.contains(&source) && known.contains(&destination));
        assert_ne!(source, destination, "a transfer to itself");
        assert!((1..=10).contains(&amount), "{amount}");
        let operations = request.json()["operations"].as_array().map_or(0, Vec::len);
        assert_eq!(operations, 1, "a plain transfer pays no fee");
    }
}

#[test]
fn transfer_fee_adds_a_fee_of_1_from_the_same_source_to_the_one_fee_wallet() {
    let wallets = [11, 12, 13];
    let mut generator = Generator::new(Kind::TransferFee, fixture(&wallets, 3), 2);
    let known: HashSet<String> = wallets.iter().map(i64::to_string).collect();
    for _ in 0..200 {
        let (sent, request) = next(&mut generator);
        assert!(matches!(sent, Sent::Transfer), "judged as one transaction");
        assert_eq!(request.line, "POST /prefix/api/v2/transactions HTTP/1.1");
        let body = request.json();
        let (_, source, destination, amount) = transfer_of(&body);
        assert!(known.contains(&source) && known.contains(&destination));
        assert!((1..=10).contains(&amount), "{amount}");
        let operations = body["operations"].as_array().expect("operations");
        assert_eq!(operations.len(), 2, "{body}");
        let fee = &operations[1];
        assert_eq!(fee["type"], "Transfer", "{body}");
        assert_eq!(fee["source"].as_str(), Some(source.as_str()), "{body}");
        assert_eq!(fee["destination"], FEE_WALLET.to_string(), "{body}");
        assert_eq!(fee["amount"], 1, "{body}");
    }
}

#[test]
fn clients_send_different_streams() {
    let f = fixture(&[1, 2, 3, 4, 5, 6, 7, 8], 8);
    let mut streams = (0..2).map(|client| {
        let mut generator = Generator::new(Kind::Transfer, Arc::clone(&f), client);
        (0..20)
            .map(|_| {
                let (_, request) = next(&mut generator);
                let (_, source, destination, amount) = transfer_of(&request.json());
                (source, destination, amount)
            })
            .collect::<Vec<_>>()
    });
    let (a, b) = (streams.next(), streams.next());
    assert_ne!(a, b, "two clients would load the same wallets in lockstep");
}

#[test]
fn a_batch_holds_batch_size_transfers() {
    let mut generator = Generator::new(Kind::Batch(25), fixture(&[1, 2], 2), 0);
    let (sent, request) = next(&mut generator);
    assert!(matches!(sent, Sent::Batch(25)));
    assert_eq!(request.line, "POST /prefix/api/v2/transactions/batch HTTP/1.1");
    let body = request.json();
    let transactions = body["transactions"].as_array().expect("a transactions array");
    assert_eq!(transactions.len(), 25);
    let references: HashSet<_> = transactions.iter().map(|t| transfer_of(t).0).collect();
    assert_eq!(references.len(), 25, "references repeat within a batch");
    assert!(
        transactions
            .iter()
            .all(|t| t["operations"].as_array().map_or(0, Vec::len) == 1),
        "a batch transfer pays no fee"
    );
}

#[test]
fn v1_entries_name_a_known_user_and_are_signed_by_the_jwt() {
    let mut generator = Generator::new(Kind::Entry, fixture(&[1, 2], 50), 1);
    let (mut credits, mut spends) = (0, 0);
    for _ in 0..400 {
        let (sent, request) = next(&mut generator);
        assert_eq!(request.line, "POST /prefix/api/v1/entry HTTP/1.1");
        assert_eq!(request.header("authorization"), Some("a.jwt.sig"));
        let body = request.json();
        let amount = body["amount"].as_i64().expect("an amount");
        assert!(
            matches!(sent, Sent::Entry(a) if a == amount),
            "{sent:?} vs {amount}"
        );
        let user = body["user_id"].as_str().expect("a user_id");
        let index: usize = user.strip_prefix('u').and_then(|i| i.parse().ok()).expect("u<i>");
        assert!(index < 50, "{user}");
        assert!(body["item"].is_null());
        match amount {
            1..=10 => credits += 1,
            -5..=-1 => spends += 1,
            other => panic!("amount {other} out of range"),
        }
    }
    // One in four is a spend: both kinds appear, credits outnumber spends.
    assert!(
        spends > 0 && credits > 2 * spends,
        "{credits} credits, {spends} spends"
    );
}

#[test]
fn reads_are_bodiless_gets_of_known_wallets_and_users() {
    // Wallets 7 and 8; users u0 and u1.
    let (wallets, users) = (&["7", "8"], &["0", "1"]);
    let cases = [
        (
            Kind::Balance,
            "/prefix/api/v2/wallets/",
            "",
            wallets,
            "Bearer ak_test",
        ),
        (
            Kind::EntriesPage,
            "/prefix/api/v2/wallets/",
            "/entries",
            wallets,
            "Bearer ak_test",
        ),
        (
            Kind::V1Wallet,
            "/prefix/api/v1/wallet?user_ids=u",
            "",
            users,
            "a.jwt.sig",
        ),
        (
            Kind::V1Inventory,
            "/prefix/api/v1/entry/inventory?user_ids=u",
            "",
            users,
            "a.jwt.sig",
        ),
    ];
    for (kind, before, after, ids, authorization) in cases {
        let mut generator = Generator::new(kind, fixture(&[7, 8], 2), 0);
        for _ in 0..50 {
            let (sent, request) = next(&mut generator);
            assert!(matches!(sent, Sent::Read), "{kind:?}");
            let target = request
                .line
                .strip_prefix("GET ")
                .and_then(|l| l.strip_suffix(" HTTP/1.1"))
                .expect("a GET request line");
            let id = target
                .strip_prefix(before)
                .and_then(|t| t.strip_suffix(after))
                .unwrap_or_else(|| panic!("{kind:?}: {target}"));
            assert!(ids.contains(&id), "{kind:?}: {target}");
            assert_eq!(request.header("authorization"), Some(authorization));
            assert!(request.body.is_empty() && request.header("content-length").is_none());
        }
    }
}

#[test]
fn the_ceiling_is_a_bodiless_get_of_v1_health_with_the_same_headers_as_a_read() {
    let mut generator = Generator::new(Kind::Ceiling, fixture(&[7, 8], 2), 0);
    let mut balance = Generator::new(Kind::Balance, fixture(&[7, 8], 2), 0);
    for _ in 0..5 {
        let (sent, request) = next(&mut generator);
        let (_, read) = next(&mut balance);
        assert!(matches!(sent, Sent::Read));
        assert_eq!(request.line, "GET /prefix/api/v1/health HTTP/1.1");
        assert_eq!(
            request.headers, read.headers,
            "the same headers as a balance read"
        );
        assert!(request.body.is_empty());
    }
}

#[test]
fn mixed_is_mostly_balance_reads() {
    let mut generator = Generator::new(Kind::Mixed, fixture(&[1, 2, 3], 3), 0);
    let transfers = (0..2000)
        .filter(|_| matches!(next(&mut generator).0, Sent::Transfer))
        .count();
    // 10% expected: 200 of 2000, well inside 100..300.
    assert!((100..300).contains(&transfers), "{transfers} transfers in 2000");
}

/// An answer and the verdict it must get.
struct Answer {
    sent: Sent,
    status: u16,
    body: &'static [u8],
    ops: u64,
    error: Option<&'static str>,
    acknowledged: i64,
}

#[test]
fn answers_are_judged_by_status_and_batch_items() {
    let ok = |sent, status, body, ops, acknowledged| Answer {
        sent,
        status,
        body,
        ops,
        error: None,
        acknowledged,
    };
    let failed = |sent, status, body, ops, error| Answer {
        sent,
        status,
        body,
        ops,
        error: Some(error),
        acknowledged: 0,
    };
    let batch_of_one_refused = br#"{"results":[{"httpStatus":201,"body":{}},{"httpStatus":409,"body":{}}]}"#;
    let cases = [
        ok(Sent::Transfer, 201, b"{}", 1, 0),
        failed(Sent::Transfer, 200, b"{}", 0, "HTTP 200"),
        failed(
            Sent::Transfer,
            409,
            br#"{"status":"INSUFFICIENT_FUNDS"}"#,
            0,
            "HTTP 409 INSUFFICIENT_FUNDS",
        ),
        ok(Sent::Read, 200, b"{}", 1, 0),
        failed(Sent::Read, 503, b"not json", 0, "HTTP 503"),
        ok(Sent::Entry(-3), 200, b"{}", 1, -3),
        failed(
            Sent::Entry(4),
            400,
            br#"{"error":"bad amount"}"#,
            0,
            "HTTP 400 bad amount",
        ),
        failed(
            Sent::Batch(2),
            200,
            batch_of_one_refused,
            1,
            "batch items not Completed: 1",
        ),
        ok(
            Sent::Batch(2),
            200,
            br#"{"results":[{"httpStatus":201},{"httpStatus":201}]}"#,
            2,
            0,
        ),
    ];
    for case in cases {
        let verdict = judge(case.sent, case.status, case.body);
        let what = format!(
            "{:?} answered {} {}",
            case.sent,
            case.status,
            String::from_utf8_lossy(case.body)
        );
        assert_eq!(verdict.ops, case.ops, "{what}");
        assert_eq!(verdict.error.as_deref(), case.error, "{what}");
        assert_eq!(verdict.acknowledged, case.acknowledged, "{what}");
    }
}

#[test]
fn hold_places_a_hold_then_captures_all_of_it_and_counts_the_pair_once() {
    let wallets = [11, 12, 13];
    let mut generator = Generator::new(Kind::Hold, fixture(&wallets, 3), 7);
    let known: HashSet<String> = wallets.iter().map(i64::to_string).collect();
    let mut references = HashSet::new();
    let mut holds = HashSet::new();
    for _ in 0..100 {
        let (sent, request) = next(&mut generator);
        assert!(matches!(sent, Sent::HoldPlaced));
        assert_eq!(request.line, "POST /prefix/api/v2/transactions HTTP/1.1");
        let placed = request.json();
        let op = &placed["operations"][0];
        assert_eq!(op["type"], "Hold", "{placed}");
        let hold = op["holdId"].as_str().expect("a holdId").to_owned();
        assert!(hold.len() <= 30, "{hold}");
        assert!(holds.insert(hold.clone()), "a hold id came twice");
        let (source, destination) = (
            op["source"].as_str().expect("a source"),
            op["destination"].as_str().expect("a destination"),
        );
        assert!(known.contains(source) && known.contains(destination) && source != destination);
        assert!(
            (1..=10).contains(&op["amount"].as_i64().expect("an amount")),
            "{placed}"
        );

        let (sent, request) = next(&mut generator);
        assert!(matches!(sent, Sent::HoldCaptured));
        let captured = request.json();
        assert_eq!(
            captured["operations"],
            serde_json::json!([{"type": "Capture", "hold": hold}]),
            "all of it, to the hold's destination"
        );
        for body in [&placed, &captured] {
            let reference = body["referenceId"].as_str().expect("a referenceId").to_owned();
            assert!(references.insert(reference), "a reference id came twice");
        }
    }
    assert_eq!(
        judge(Sent::HoldPlaced, 201, b"{}").ops,
        0,
        "counted at its capture"
    );
    assert!(judge(Sent::HoldPlaced, 201, b"{}").error.is_none());
    assert_eq!(judge(Sent::HoldCaptured, 201, b"{}").ops, 1);
    assert!(
        judge(Sent::HoldCaptured, 409, br#"{"status":"WRONG_HOLD_STATUS"}"#)
            .error
            .is_some_and(|e| e.contains("WRONG_HOLD_STATUS"))
    );
}

#[test]
fn trade_grants_one_item_then_sells_it_on_paying_the_seller() {
    let wallets = [11, 12, 13, 14];
    let mut generator = Generator::new(Kind::Trade, fixture(&wallets, 4), 5);
    let owner_of = |wallet: &str| {
        let i = wallets
            .iter()
            .position(|w| w.to_string() == wallet)
            .expect("a known wallet");
        format!("u{i}")
    };
    let (sent, request) = next(&mut generator);
    assert!(matches!(sent, Sent::ItemGranted));
    let granted = request.json();
    let grant = &granted["operations"][0];
    assert_eq!(grant["type"], "GrantItem", "{granted}");
    assert_eq!(grant["itemId"], "abc123-5");
    let mut owner = grant["customerId"].as_str().expect("an owner").to_owned();
    let mut references = HashSet::from([granted["referenceId"].to_string()]);
    for _ in 0..100 {
        let (sent, request) = next(&mut generator);
        assert!(matches!(sent, Sent::Trade));
        let trade = request.json();
        let (pay, give) = (&trade["operations"][0], &trade["operations"][1]);
        assert_eq!(
            (pay["type"].as_str(), give["type"].as_str()),
            (Some("Transfer"), Some("TransferItem"))
        );
        let (buyer, seller) = (
            owner_of(pay["source"].as_str().expect("a source")),
            owner_of(pay["destination"].as_str().expect("a destination")),
        );
        assert_ne!(buyer, seller);
        assert_eq!(seller, owner, "the item's owner is paid: {trade}");
        assert_eq!(give["item"], "abc123-5");
        assert_eq!(
            give["from"].as_str(),
            Some(owner.as_str()),
            "checked against its owner"
        );
        assert_eq!(give["to"].as_str(), Some(buyer.as_str()), "the buyer gets it");
        assert!((1..=10).contains(&pay["amount"].as_i64().expect("an amount")));
        assert!(
            references.insert(trade["referenceId"].to_string()),
            "a reference id came twice"
        );
        owner = buyer;
    }
    assert_eq!(judge(Sent::ItemGranted, 201, b"{}").ops, 0, "the grant is set-up");
    assert_eq!(judge(Sent::Trade, 201, b"{}").ops, 1);
    assert!(judge(Sent::Trade, 409, br#"{"status":"WRONG_ITEM_OWNER"}"#)
        .error
        .is_some_and(|e| e.contains("WRONG_ITEM_OWNER")));
}
