//! The admin API and holds (issue 12): wallets show `held`, `available` and
//! `creditLimit`; a wallet's holds are listed; the operator voids a hold and
//! sets a credit limit — behind the session and its CSRF token, refused in
//! maintenance where the ledger's history must not move, and changing
//! nothing when refused.
//!
//! Holds are placed through the ledger, as an authority's transaction.

use crate::app::v2::{ctx, ids, missing_like, next_ref, Ctx, Failures};
use crate::app::{json_of, spawn_app, TestApp};
use serde_json::{json, Value};
use wallet_core::ids::WalletId;
use wallet_core::operation::Operation;
use wallet_core::policy::Caller;
use wallet_core::TransactionOutcome;
use wallet_testkit::fixture::{capture, hold, request, void};

/// A project's access key, a wallet of `alice` holding `funds`, an empty
/// wallet of `bob`, and an admin session.
struct Setup {
    app: TestApp,
    c: Ctx,
    poster: Caller,
    alice: String,
    bob: String,
    cookie: String,
    csrf: String,
}

async fn setup(funds: i64) -> Setup {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let bob = c.customer_wallet(&app, "bob").await;
    if funds > 0 {
        c.fund(&app, &alice, funds).await;
    }
    let poster = poster(&app, &c).await;
    let (cookie, csrf) = app.admin_login().await;
    Setup {
        app,
        c,
        poster,
        alice,
        bob,
        cookie,
        csrf,
    }
}

/// The authority behind a context's access key, as a request would find it.
async fn poster(app: &TestApp, c: &Ctx) -> Caller {
    app.credentials()
        .authenticate(Some(&format!("Bearer {}", c.key)))
        .await
        .expect("the access key authenticates")
}

fn wid(id: &str) -> WalletId {
    WalletId::parse(id).expect("a wallet id")
}

/// Posts operations as `poster`; they must complete.
async fn post(app: &TestApp, poster: &Caller, operations: Vec<Operation>) {
    let outcome = app
        .ledger()
        .post_transaction(poster, request(&next_ref("admin-holds"), operations.clone()))
        .await
        .expect("the transaction is answered");
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{operations:?}: {outcome:?}"
    );
}

impl Setup {
    /// Places hold `id` of `amount` on alice's wallet, for bob's wallet.
    async fn place(&self, id: &str, amount: i64) {
        let op = hold(id, wid(&self.alice), amount, Some(wid(&self.bob)), None);
        post(&self.app, &self.poster, vec![op]).await;
    }

    async fn post(&self, operations: Vec<Operation>) {
        post(&self.app, &self.poster, operations).await;
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        json_of(self.app.admin("GET", path, &self.cookie, None, None).await).await
    }

    /// A write with the session and its CSRF token.
    async fn write(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        json_of(
            self.app
                .admin(method, path, &self.cookie, Some(&self.csrf), Some(body))
                .await,
        )
        .await
    }

    async fn void(&self, hold: &str) -> (u16, Value) {
        self.write("POST", "/projects/default/holds/void", &json!({ "holdId": hold }))
            .await
    }

    /// A write of a body sent exactly as given.
    async fn raw(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .app
            .client
            .request(method, self.app.url(&format!("/admin/api{path}")))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    async fn set_limit(&self, wallet: &str, body: &Value) -> (u16, Value) {
        let path = format!("/projects/default/wallets/{wallet}/credit-limit");
        self.write("PUT", &path, body).await
    }

    /// A customer's wallet as the admin API shows it (each has one here).
    async fn wallet(&self, customer: &str) -> Value {
        let (status, body) = self.get(&format!("/projects/default/customers/{customer}")).await;
        assert_eq!(status, 200, "{body}");
        body["wallets"][0].clone()
    }

    async fn holds(&self, wallet: &str, query: &str) -> (u16, Value) {
        self.get(&format!("/projects/default/wallets/{wallet}/holds{query}"))
            .await
    }

    async fn hold(&self, id: &str) -> Value {
        let (status, page) = self.holds(&self.alice, "?pageSize=1000").await;
        assert_eq!(status, 200, "{page}");
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("hold {id} is not listed: {page}"))
            .clone()
    }

    /// What a refused request must leave as it was: both wallets, alice's
    /// holds, and the number of transactions.
    async fn state(&self) -> Value {
        let transactions = self.c.get_ok(&self.app, "/transactions?pageSize=1").await;
        json!({
            "alice": self.wallet("alice").await,
            "bob": self.wallet("bob").await,
            "holds": self.holds(&self.alice, "?pageSize=1000").await.1,
            "transactions": transactions["total"],
        })
    }
}

/// `(held, available, creditLimit, balance)` of a wallet object.
fn figures(wallet: &Value) -> (i64, i64, i64, i64) {
    let n = |name: &str| {
        wallet[name]
            .as_i64()
            .unwrap_or_else(|| panic!("{name} is not an integer in {wallet}"))
    };
    (n("held"), n("available"), n("creditLimit"), n("balance"))
}

fn is_admin_error(body: &Value) -> bool {
    body["error"].is_string()
}

#[tokio::test]
async fn wallets_show_held_available_and_credit_limit() {
    let s = setup(100).await;
    assert_eq!(figures(&s.wallet("alice").await), (0, 100, 0, 100), "no hold yet");

    s.place("h1", 30).await;
    s.place("h2", 5).await;
    assert_eq!(
        figures(&s.wallet("alice").await),
        (35, 65, 0, 100),
        "held is the open holds' sum; available = balance - held + creditLimit"
    );
    assert_eq!(
        figures(&s.wallet("bob").await),
        (0, 0, 0, 0),
        "a destination holds nothing yet"
    );

    s.post(vec![capture("h1", Some(10))]).await;
    assert_eq!(
        figures(&s.wallet("alice").await),
        (25, 65, 0, 90),
        "a partial capture"
    );
    assert_eq!(figures(&s.wallet("bob").await), (0, 10, 0, 10));

    let (status, wallet) = s.set_limit(&s.bob, &json!({ "creditLimit": 50 })).await;
    assert_eq!(status, 200, "{wallet}");
    assert_eq!(
        figures(&wallet),
        (0, 60, 50, 10),
        "the reply is the wallet: {wallet}"
    );
    assert_eq!(wallet["id"], s.bob.as_str());
    assert_eq!(
        figures(&s.wallet("bob").await),
        (0, 60, 50, 10),
        "and it is stored"
    );
    s.app.assert_invariants().await;
}

#[tokio::test]
async fn a_wallets_holds_are_listed_newest_first_paged_and_filtered() {
    let s = setup(100).await;
    s.place("h1", 10).await;
    let expires_at = wallet_core::clock::system_now() + 3_600_000;
    s.post(vec![hold("h2", wid(&s.alice), 20, None, Some(expires_at))])
        .await;
    s.place("h3", 30).await;
    s.post(vec![void("h2")]).await;
    s.post(vec![capture("h3", Some(5))]).await;

    let (status, page) = s.holds(&s.alice, "").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), ["h3", "h2", "h1"], "newest first: {page}");
    assert_eq!(
        (&page["total"], &page["page"], &page["pageSize"]),
        (&json!(3), &json!(0), &json!(20))
    );
    let h3 = &page["items"][0];
    let mut keys: Vec<&str> = h3
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "amount",
            "assetId",
            "captured",
            "createdAt",
            "destinationWalletId",
            "expiresAt",
            "id",
            "remaining",
            "sourceWalletId",
            "status",
            "transactionId",
            "updatedAt"
        ],
        "the Hold object of API v2: {h3}"
    );
    assert_eq!(
        (
            &h3["sourceWalletId"],
            &h3["destinationWalletId"],
            &h3["assetId"],
            &h3["amount"],
            &h3["captured"],
            &h3["remaining"],
            &h3["status"],
            &h3["expiresAt"]
        ),
        (
            &json!(s.alice),
            &json!(s.bob),
            &json!(s.c.asset),
            &json!(30),
            &json!(5),
            &json!(25),
            &json!("Open"),
            &Value::Null
        ),
        "{h3}"
    );
    assert!(h3["createdAt"].is_i64() && h3["updatedAt"].is_i64() && h3["transactionId"].is_string());
    let h2 = &page["items"][1];
    assert_eq!(
        (
            &h2["status"],
            &h2["remaining"],
            &h2["destinationWalletId"],
            &h2["expiresAt"]
        ),
        (&json!("Voided"), &json!(0), &Value::Null, &json!(expires_at)),
        "{h2}"
    );

    let mut failures = Failures::default();
    for (query, expected, total) in [
        ("?pageSize=2", vec!["h3", "h2"], 3),
        ("?page=1&pageSize=2", vec!["h1"], 3),
        ("?page=7", vec![], 3),
        ("?page=4294967295&pageSize=1000", vec![], 3),
        ("?status=Open", vec!["h3", "h1"], 2),
        ("?status=Voided", vec!["h2"], 1),
        ("?status=Captured", vec![], 0),
        ("?status=Expired&page=0&pageSize=5", vec![], 0),
    ] {
        let (status, page) = s.holds(&s.alice, query).await;
        failures.check(
            status == 200 && ids(&page) == expected && page["total"] == total,
            query,
            format!("expected {expected:?} of {total}, got {status} {page}"),
        );
    }
    for query in [
        "?status=open",
        "?status=Bogus",
        "?status=",
        "?pageSize=0",
        "?pageSize=1001",
        "?page=-1",
        "?page=x",
        "?from=0",
    ] {
        let (status, body) = s.holds(&s.alice, query).await;
        failures.check(
            status == 400 && is_admin_error(&body),
            query,
            format!("expected 400 {{error}}, got {status} {body}"),
        );
    }

    // Another project's wallet is not found through this one, and is there.
    s.app.create_project("other").await;
    let other = ctx(&s.app, "other").await;
    let theirs = other.customer_wallet(&s.app, "carol").await;
    for (path, expected) in [
        (format!("/projects/default/wallets/{theirs}/holds"), 404),
        (
            format!("/projects/default/wallets/{}/holds", missing_like(&s.alice)),
            404,
        ),
        ("/projects/default/wallets/not-a-wallet/holds".to_owned(), 404),
        (format!("/projects/nowhere/wallets/{}/holds", s.alice), 404),
        (format!("/projects/other/wallets/{theirs}/holds"), 200),
    ] {
        let (status, body) = s.get(&path).await;
        failures.check(
            status == expected && (expected == 200 || is_admin_error(&body)),
            &path,
            format!("expected {expected}, got {status} {body}"),
        );
    }
    failures.assert_none();
}

#[tokio::test]
async fn the_operator_voids_an_open_hold_and_releases_what_it_held() {
    let s = setup(100).await;
    s.place("h1", 40).await;
    s.post(vec![capture("h1", Some(15))]).await;
    assert_eq!(figures(&s.wallet("alice").await), (25, 60, 0, 85));

    let (status, reply) = s.void("h1").await;
    assert_eq!(status, 200, "{reply}");
    let hold = &reply["hold"];
    assert_eq!(
        (
            &hold["id"],
            &hold["status"],
            &hold["captured"],
            &hold["remaining"]
        ),
        (&json!("h1"), &json!("Voided"), &json!(15), &json!(0)),
        "{reply}"
    );
    let transaction = &reply["transaction"];
    assert_eq!(
        (
            &transaction["status"],
            &transaction["referenceId"],
            &transaction["description"]
        ),
        (
            &json!("Completed"),
            &Value::Null,
            &json!("hold h1 voided by the operator")
        ),
        "the void is a transaction of its own, named for the record: {reply}"
    );
    let id = transaction["id"].as_str().expect("a transaction id");
    let (status, stored) = s.get(&format!("/projects/default/transactions/{id}")).await;
    assert_eq!(
        (status, &stored["description"]),
        (200, &transaction["description"])
    );
    assert_eq!(
        figures(&s.wallet("alice").await),
        (0, 85, 0, 85),
        "what remained is available again; the capture stays"
    );
    assert_eq!(figures(&s.wallet("bob").await), (0, 15, 0, 15));
    assert_eq!(s.hold("h1").await["status"], "Voided");
    s.app.assert_invariants().await;
}

#[tokio::test]
async fn a_void_that_cannot_be_done_is_refused_and_changes_nothing() {
    let s = setup(100).await;
    s.place("voided", 10).await;
    s.post(vec![void("voided")]).await;
    s.place("captured", 10).await;
    s.post(vec![capture("captured", None)]).await;
    s.place("open", 10).await;
    s.app.create_project("other").await;
    let other = ctx(&s.app, "other").await;
    let theirs = other.customer_wallet(&s.app, "carol").await;
    other.fund(&s.app, &theirs, 10).await;
    let other_poster = poster(&s.app, &other).await;
    post(
        &s.app,
        &other_poster,
        vec![hold("theirs", wid(&theirs), 10, None, None)],
    )
    .await;

    let before = s.state().await;
    let mut failures = Failures::default();
    let cases: Vec<(&str, Value, u16, Option<&str>)> = vec![
        (
            "voided hold",
            json!({ "holdId": "voided" }),
            409,
            Some("WRONG_HOLD_STATUS"),
        ),
        (
            "captured hold",
            json!({ "holdId": "captured" }),
            409,
            Some("WRONG_HOLD_STATUS"),
        ),
        (
            "unknown hold",
            json!({ "holdId": "nope" }),
            404,
            Some("HOLD_NOT_FOUND"),
        ),
        (
            "another project's hold",
            json!({ "holdId": "theirs" }),
            404,
            Some("HOLD_NOT_FOUND"),
        ),
        ("empty id", json!({ "holdId": "" }), 400, None),
        (
            "id of 31 characters",
            json!({ "holdId": "a".repeat(31) }),
            400,
            None,
        ),
        (
            "id with a control character",
            json!({ "holdId": "a\u{7}b" }),
            400,
            None,
        ),
        ("id not a string", json!({ "holdId": 5 }), 400, None),
        ("no id", json!({}), 400, None),
        (
            "an unknown field",
            json!({ "holdId": "open", "amount": 1 }),
            400,
            None,
        ),
        ("not an object", json!(["open"]), 400, None),
    ];
    for (case, body, http, code) in cases {
        let (status, reply) = s.write("POST", "/projects/default/holds/void", &body).await;
        failures.check(
            status == http && is_admin_error(&reply) && code.is_none_or(|c| reply["status"] == c),
            case,
            format!("expected {http} {code:?}, got {status} {reply}"),
        );
        failures.check(s.state().await == before, case, "the refusal changed something");
    }
    // A hold whose source wallet is not Open: Void needs it Open, as in API v2.
    s.c.set_status(&s.app, &s.alice, "Suspended").await;
    let suspended = s.state().await;
    let (status, reply) = s.void("open").await;
    failures.check(
        status == 409 && reply["status"] == "WRONG_WALLET_STATUS",
        "source suspended",
        format!("got {status} {reply}"),
    );
    failures.check(
        s.state().await == suspended,
        "source suspended",
        "changed something",
    );
    failures.assert_none();

    // The other project's operator voids its own hold.
    let (status, reply) = json_of(
        s.app
            .admin(
                "POST",
                "/projects/other/holds/void",
                &s.cookie,
                Some(&s.csrf),
                Some(&json!({ "holdId": "theirs" })),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, &reply["hold"]["status"]),
        (200, &json!("Voided")),
        "{reply}"
    );
    s.app.assert_invariants().await;
}

/// Voids racing each other and a capture of the same hold: exactly one
/// wins, the others are refused, and value is conserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_voids_and_a_capture_of_one_hold_settle_it_once() {
    let s = setup(100).await;
    s.place("raced", 40).await;
    let transactions = s.state().await["transactions"].clone();
    // The voids run on the runtime's threads while this task posts the capture.
    let voids: Vec<_> = (0..8)
        .map(|_| {
            let request = s
                .app
                .client
                .post(s.app.url("/admin/api/projects/default/holds/void"))
                .header("Cookie", &s.cookie)
                .header("X-CSRF-Token", &s.csrf)
                .json(&json!({ "holdId": "raced" }));
            tokio::spawn(async move { json_of(request.send().await.unwrap()).await })
        })
        .collect();
    let captured = s
        .app
        .ledger()
        .post_transaction(
            &s.poster,
            request(&next_ref("race"), vec![capture("raced", None)]),
        )
        .await
        .expect("answered");
    let mut results = Vec::new();
    for void in voids {
        results.push(void.await.unwrap());
    }
    let voids = results;
    let voided = voids.iter().filter(|(status, _)| *status == 200).count();
    let refused = voids
        .iter()
        .filter(|(status, body)| *status == 409 && body["status"] == "WRONG_HOLD_STATUS")
        .count();
    let capture_won = matches!(captured, TransactionOutcome::Completed(..));
    assert_eq!(
        (usize::from(capture_won) + voided, voided + refused),
        (1, 8),
        "one winner, every other void refused: capture {captured:?}, voids {voids:?}"
    );
    let state = s.state().await;
    let moved = if capture_won { 40 } else { 0 };
    assert_eq!(figures(&state["alice"]), (0, 100 - moved, 0, 100 - moved));
    assert_eq!(figures(&state["bob"]), (0, moved, 0, moved));
    let (Some(after), Some(before)) = (state["transactions"].as_i64(), transactions.as_i64()) else {
        panic!("transaction totals: {state}");
    };
    // A losing capture is recorded as a Failed transaction (it has a reference id).
    assert_eq!(after - before, if capture_won { 1 } else { 2 }, "{state}");
    s.app.assert_invariants().await;
}

/// Hold ids are the caller's (1-30 characters, nearly any): each one can be
/// voided from the page, whatever a URL path would make of it.
#[tokio::test]
async fn a_hold_of_any_valid_id_can_be_voided() {
    let s = setup(100).await;
    let spellings = [
        "..",
        ".",
        "a/b",
        "%2F",
        "50%",
        "q?x=1&y=2",
        "#top",
        "a b",
        "ü-ñ",
        "<b>x</b>",
        "\\",
        "a+b",
    ];
    for id in spellings {
        s.place(id, 1).await;
    }
    let mut failures = Failures::default();
    for id in spellings {
        let (status, reply) = s.void(id).await;
        failures.check(
            status == 200 && reply["hold"]["id"] == id && reply["hold"]["status"] == "Voided",
            id,
            format!("got {status} {reply}"),
        );
    }
    failures.assert_none();
    let (_, page) = s.holds(&s.alice, "?status=Voided").await;
    assert_eq!(page["total"], spellings.len(), "{page}");
    assert_eq!(figures(&s.wallet("alice").await), (0, 100, 0, 100));
}

/// A request: method, path under `/admin/api`, JSON body.
type Call<'a> = (&'a str, &'a str, Option<&'a Value>);

/// What a request shows of a session: its cookie and CSRF header, each if any.
#[derive(Clone, Copy)]
struct Asker<'a> {
    cookie: Option<&'a str>,
    csrf: Option<&'a str>,
}

#[tokio::test]
async fn holds_and_their_writes_need_the_session_and_writes_its_csrf_token() {
    let s = setup(100).await;
    s.place("h1", 10).await;
    let (_, other_csrf) = s.app.admin_login().await;
    let (stale_cookie, stale_csrf) = s.app.admin_login().await;
    let logout = s
        .app
        .admin("POST", "/logout", &stale_cookie, Some(&stale_csrf), None)
        .await;
    assert_eq!(logout.status().as_u16(), 204);

    let before = s.state().await;
    let void = json!({ "holdId": "h1" });
    let limit = json!({ "creditLimit": 10 });
    let limit_path = format!("/projects/default/wallets/{}/credit-limit", s.alice);
    let limit_path = limit_path.as_str();
    let holds_path = format!("/projects/default/wallets/{}/holds", s.alice);
    let holds_path = holds_path.as_str();
    let (cookie, csrf, stale_cookie, stale_csrf) = (
        s.cookie.as_str(),
        s.csrf.as_str(),
        stale_cookie.as_str(),
        stale_csrf.as_str(),
    );
    let void = ("POST", "/projects/default/holds/void", Some(&void));
    let limit = ("PUT", limit_path, Some(&limit));
    let holds = ("GET", holds_path, None);
    let asker = |cookie, csrf| Asker { cookie, csrf };
    let mut failures = Failures::default();
    let cases: Vec<(&str, Call, Asker, u16)> = vec![
        ("void, no session", void, asker(None, Some(csrf)), 401),
        (
            "void, ended session",
            void,
            asker(Some(stale_cookie), Some(stale_csrf)),
            401,
        ),
        ("void, no CSRF token", void, asker(Some(cookie), None), 403),
        (
            "void, wrong CSRF token",
            void,
            asker(Some(cookie), Some("guess")),
            403,
        ),
        (
            "void, another session's token",
            void,
            asker(Some(cookie), Some(&other_csrf)),
            403,
        ),
        ("limit, no session", limit, asker(None, Some(csrf)), 401),
        ("limit, no CSRF token", limit, asker(Some(cookie), None), 403),
        (
            "limit, wrong CSRF token",
            limit,
            asker(Some(cookie), Some("guess")),
            403,
        ),
        ("holds, no session", holds, asker(None, None), 401),
        (
            "holds, ended session",
            holds,
            asker(Some(stale_cookie), None),
            401,
        ),
    ];
    for (case, (method, path, body), who, http) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = s
            .app
            .client
            .request(method, s.app.url(&format!("/admin/api{path}")));
        if let Some(cookie) = who.cookie {
            request = request.header("Cookie", cookie);
        }
        if let Some(csrf) = who.csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let (status, reply) = json_of(request.send().await.unwrap()).await;
        failures.check(
            status == http && is_admin_error(&reply),
            case,
            format!("expected {http}, got {status} {reply}"),
        );
    }
    failures.check(
        s.state().await == before,
        "all",
        "a refused request changed something",
    );
    failures.assert_none();
}

#[tokio::test]
async fn credit_limits_out_of_range_or_below_use_are_refused() {
    let s = setup(0).await;
    let (status, wallet) = s.set_limit(&s.alice, &json!({ "creditLimit": 10 })).await;
    assert_eq!((status, figures(&wallet)), (200, (0, 10, 10, 0)), "{wallet}");
    s.place("tab", 8).await;
    assert_eq!(
        figures(&s.wallet("alice").await),
        (8, 2, 10, 0),
        "the hold uses the credit"
    );

    let before = s.state().await;
    let mut failures = Failures::default();
    let max = wallet_core::MAX_CREDIT_LIMIT;
    let limit_path = format!("/projects/default/wallets/{}/credit-limit", s.alice);
    for (case, body, http) in [
        (
            "below what the wallet uses",
            r#"{"creditLimit": 7}"#.to_owned(),
            409,
        ),
        ("negative", r#"{"creditLimit": -1}"#.to_owned(), 400),
        (
            "past the largest",
            format!(r#"{{"creditLimit": {}}}"#, max + 1),
            400,
        ),
        (
            "past i64",
            r#"{"creditLimit": 99999999999999999999}"#.to_owned(),
            400,
        ),
        ("a fraction", r#"{"creditLimit": 1.5}"#.to_owned(), 400),
        ("in exponent form", r#"{"creditLimit": 1e3}"#.to_owned(), 400),
        ("a string", r#"{"creditLimit": "20"}"#.to_owned(), 400),
        ("null", r#"{"creditLimit": null}"#.to_owned(), 400),
        ("missing", "{}".to_owned(), 400),
        (
            "an unknown field",
            r#"{"creditLimit": 20, "x": 1}"#.to_owned(),
            400,
        ),
        ("not JSON", "creditLimit=20".to_owned(), 400),
    ] {
        let (status, reply) = s.raw("PUT", &limit_path, &body).await;
        failures.check(
            status == http && is_admin_error(&reply),
            case,
            format!("expected {http}, got {status} {reply}"),
        );
        failures.check(s.state().await == before, case, "the refusal changed something");
    }
    for (case, wallet) in [
        ("unknown wallet", missing_like(&s.alice)),
        ("not a wallet id", "nope".to_owned()),
    ] {
        let (status, reply) = s.set_limit(&wallet, &json!({ "creditLimit": 1 })).await;
        failures.check(
            status == 404 && reply["status"] == "WALLET_NOT_FOUND",
            case,
            format!("got {status} {reply}"),
        );
    }
    failures.assert_none();
    let (status, wallet) = s.set_limit(&s.alice, &json!({ "creditLimit": 8 })).await;
    assert_eq!(
        (status, figures(&wallet)),
        (200, (8, 0, 8, 0)),
        "exactly what it uses: {wallet}"
    );
    let (status, wallet) = s.set_limit(&s.alice, &json!({ "creditLimit": max })).await;
    assert_eq!(status, 200, "the largest limit: {wallet}");
    s.app.assert_invariants().await;
}

/// In maintenance the ledger's history stands still (a project may be
/// being exported): the operator's void, a transaction, is refused like
/// every other; the operator's settings (a credit limit) go on, like
/// suspending a customer.
#[tokio::test]
async fn an_operators_void_is_refused_in_maintenance() {
    let s = setup(100).await;
    s.place("h1", 10).await;
    let switch = |on: bool| {
        let s = &s;
        async move {
            let (status, body) = s.write("PUT", "/maintenance", &json!({ "enabled": on })).await;
            assert_eq!((status, &body["enabled"]), (200, &json!(on)), "{body}");
        }
    };
    switch(true).await;
    let before = s.state().await;
    let response = s
        .app
        .admin(
            "POST",
            "/projects/default/holds/void",
            &s.cookie,
            Some(&s.csrf),
            Some(&json!({ "holdId": "h1" })),
        )
        .await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = json_of(response).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("maintenance")),
        "{body}"
    );
    assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("60"));
    assert_eq!(s.state().await, before, "the refused void changed nothing");

    let (status, wallet) = s.set_limit(&s.alice, &json!({ "creditLimit": 5 })).await;
    assert_eq!((status, &wallet["creditLimit"]), (200, &json!(5)), "{wallet}");

    switch(false).await;
    let (status, reply) = s.void("h1").await;
    assert_eq!(
        (status, &reply["hold"]["status"]),
        (200, &json!("Voided")),
        "{reply}"
    );
    assert_eq!(figures(&s.wallet("alice").await), (0, 105, 5, 100));
}

/// A wallet's lots through the admin API (issue 14): soonest expiry first
/// with the same object as API v2, `expiring` on the wallet, a status
/// filter, a refused status, and the session required.
#[tokio::test]
async fn a_wallets_lots_and_expiring_value_are_shown() {
    use wallet_testkit::fixture::issue_expiring;
    let s = setup(100).await;
    let now = wallet_core::clock::system_now();
    let (soon, later) = (now + 3_600_000, now + 7_200_000);
    s.post(vec![
        issue_expiring(wid(&s.alice), 40, later),
        issue_expiring(wid(&s.alice), 60, soon),
    ])
    .await;
    // 70 leaves: all of the sooner lot, then 10 of the later one.
    s.post(vec![Operation::Redeem {
        source: wid(&s.alice),
        amount: wallet_core::operation::Quantity::new(70).expect("an amount"),
    }])
    .await;

    let wallet = s.wallet("alice").await;
    assert_eq!(wallet["balance"], 130, "{wallet}");
    assert_eq!(
        wallet["expiring"],
        json!([{ "expiresAt": later, "amount": 30 }]),
        "{wallet}"
    );
    let path = format!("/projects/default/wallets/{}/lots", s.alice);
    let (status, page) = s.get(&path).await;
    assert_eq!(status, 200, "{page}");
    let lots: Vec<(i64, i64, &str)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| {
            (
                l["expiresAt"].as_i64().expect("expiresAt"),
                l["remaining"].as_i64().expect("remaining"),
                l["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(lots, [(soon, 0, "Spent"), (later, 30, "Open")], "{page}");
    let (status, open) = s.get(&format!("{path}?status=Open")).await;
    assert_eq!((status, &open["total"]), (200, &json!(1)), "{open}");
    let (status, refused) = s.get(&format!("{path}?status=Closed")).await;
    assert_eq!(status, 400, "{refused}");
    assert!(is_admin_error(&refused), "{refused}");
    let (status, _) = s
        .get(&format!(
            "/projects/default/wallets/{}/lots",
            missing_like(&s.alice)
        ))
        .await;
    assert_eq!(status, 404);
    let anonymous = s
        .app
        .client
        .get(s.app.url(&format!("/admin/api{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}
