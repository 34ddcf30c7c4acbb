//! Input at the edges (issue 9, item 11): every body is a JSON object; a
//! numeric id has one spelling; a text id holds no invisible or bidi
//! formatting character.

use serde_json::{json, Value};
use wallet_testkit::app::v2::{ctx, issue, Ctx, Failures};
use wallet_testkit::app::{json_of, spawn_app, TestApp};

/// What a refused request must not have changed: the ledger's counts and
/// every list the table's routes write to.
async fn snapshot(app: &TestApp, c: &Ctx, cookie: &str) -> Vec<Value> {
    let check = app.check().await;
    let mut out = vec![json!([check.entries, check.transactions, check.wallets])];
    for path in [
        "/customers?pageSize=1000",
        "/assets",
        "/customers/holder/keys",
        "/system-wallets",
    ] {
        out.push(c.get_ok(app, path).await);
    }
    for path in [
        "/projects",
        "/projects/default/authorities",
        "/maintenance",
        "/projects/default/customers/holder",
    ] {
        let (status, body) = json_of(app.admin("GET", path, cookie, None, None).await).await;
        assert_eq!(status, 200, "admin GET {path}: {body}");
        out.push(body);
    }
    out
}

#[tokio::test]
async fn every_body_taking_route_refuses_a_body_that_is_not_an_object() {
    let app = spawn_app().await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "holder").await;
    c.fund(&app, &wallet, 10).await;
    let (cookie, csrf) = app.admin_login().await;
    let asset = &c.asset;
    // (API, method, path): every route that reads a body.
    let routes: Vec<(&str, &str, String)> = vec![
        ("v1", "POST", "/api/v1/entry".into()),
        ("v2", "POST", "/api/v2/assets".into()),
        ("v2", "PUT", format!("/api/v2/assets/{asset}/name")),
        ("v2", "POST", "/api/v2/customers".into()),
        ("v2", "PUT", "/api/v2/customers/holder".into()),
        ("v2", "POST", "/api/v2/customers/holder/resume".into()),
        ("v2", "POST", "/api/v2/customers/holder/keys".into()),
        ("v2", "POST", "/api/v2/wallets".into()),
        ("v2", "POST", "/api/v2/system-wallets".into()),
        ("v2", "PUT", format!("/api/v2/wallets/{wallet}/name")),
        ("v2", "PUT", format!("/api/v2/wallets/{wallet}/description")),
        // The one route that also takes a bare string: a status name.
        ("v2", "PUT", format!("/api/v2/wallets/{wallet}/status")),
        ("v2", "POST", "/api/v2/transactions".into()),
        ("v2", "POST", "/api/v2/transactions/batch".into()),
        ("admin", "POST", "/admin/api/login".into()),
        ("admin", "PUT", "/admin/api/maintenance".into()),
        ("admin", "POST", "/admin/api/projects".into()),
        ("admin", "POST", "/admin/api/projects/default/assets".into()),
        ("admin", "POST", "/admin/api/projects/default/authorities".into()),
        ("admin", "POST", "/admin/api/projects/default/access-keys".into()),
        (
            "admin",
            "POST",
            "/admin/api/projects/default/customers/holder/resume".into(),
        ),
        (
            "admin",
            "POST",
            "/admin/api/projects/default/customers/holder/keys".into(),
        ),
    ];
    // Arrays of the fields' values are what serde would read as a struct.
    let bodies = [
        "[]",
        "[null]",
        "[null, null]",
        "[1]",
        "[true]",
        "[[]]",
        "[\"x\", \"y\"]",
        "\"x\"",
        "1",
        "null",
        "true",
    ];
    let before = snapshot(&app, &c, &cookie).await;
    let mut failures = Failures::default();
    for (api, method, path) in &routes {
        for body in bodies {
            let mut request = app
                .client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(path),
                )
                .header("Content-Type", "application/json")
                .body(body);
            request = match *api {
                "v1" => request.header("Authorization", &authority.token),
                "v2" => request.header("Authorization", format!("Bearer {}", c.key)),
                _ => request.header("Cookie", &cookie).header("X-CSRF-Token", &csrf),
            };
            let (status, reply) = json_of(request.send().await.unwrap()).await;
            let shape_ok = match *api {
                "v2" => reply["status"] == "VALIDATION_ERROR" && reply["message"].is_string(),
                _ => reply["error"].is_string(),
            };
            failures.check(
                status == 400 && shape_ok,
                &format!("{method} {path} {body}"),
                format!("expected 400 in the API's error shape, got {status} {reply}"),
            );
        }
    }
    failures.assert_none();
    assert_eq!(
        snapshot(&app, &c, &cookie).await,
        before,
        "a refused body changed something"
    );
}

fn expect_404(failures: &mut Failures, case: String, reply: (u16, Value)) {
    failures.check(
        reply.0 == 404,
        &case,
        format!("expected 404, got {} {}", reply.0, reply.1),
    );
}

#[tokio::test]
async fn a_numeric_id_has_one_spelling() {
    let app = spawn_app().await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "holder").await;
    let tx = c.tx_ok(&app, vec![issue(&wallet, 10)]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, item) = json_of(
        app.post_entry(
            &authority.token,
            &json!({ "user_id": "holder", "amount": 1, "reason": "x", "item": { "name": "sword" } }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{item}");
    let entry = item["entry"]["entry_id"].as_str().unwrap().to_owned();
    let (cookie, _) = app.admin_login().await;
    let before = app.check().await;
    // Other spellings of the same number, as sent in a JSON body.
    let spellings = |id: &str| {
        [
            format!("+{id}"),
            format!("0{id}"),
            format!("000{id}"),
            format!(" {id}"),
            format!("{id} "),
            format!("{id}.0"),
            format!("{id}\u{0}"),
        ]
    };
    // The same in a URL: every byte but letters and digits escaped.
    let url = |raw: &str| -> String {
        raw.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let mut failures = Failures::default();
    for raw in spellings(&wallet) {
        let w = url(&raw);
        expect_404(
            &mut failures,
            format!("GET /wallets/{w}"),
            c.get(&app, &format!("/wallets/{w}")).await,
        );
        expect_404(
            &mut failures,
            format!("GET /wallets/{w}/entries"),
            c.get(&app, &format!("/wallets/{w}/entries")).await,
        );
        let body = json!({ "name": "renamed" });
        expect_404(
            &mut failures,
            format!("PUT /wallets/{w}/name"),
            app.v2("PUT", &format!("/wallets/{w}/name"), Some(&c.key), Some(&body))
                .await,
        );
        expect_404(
            &mut failures,
            format!("POST /transactions to {raw:?}"),
            c.tx(&app, &format!("sp-{w}"), vec![issue(&raw, 1)]).await,
        );
        expect_404(
            &mut failures,
            format!("resume with wallet {raw:?}"),
            app.v2(
                "POST",
                "/customers/holder/resume",
                Some(&c.key),
                Some(&json!({ "walletIds": [raw] })),
            )
            .await,
        );
        expect_404(
            &mut failures,
            format!("admin entries of wallet {w}"),
            json_of(
                app.admin(
                    "GET",
                    &format!("/projects/default/wallets/{w}/entries"),
                    &cookie,
                    None,
                    None,
                )
                .await,
            )
            .await,
        );
    }
    for raw in spellings(&c.asset) {
        let a = url(&raw);
        expect_404(
            &mut failures,
            format!("GET /assets/{a}"),
            c.get(&app, &format!("/assets/{a}")).await,
        );
        expect_404(
            &mut failures,
            format!("POST /wallets in asset {raw:?}"),
            app.v2(
                "POST",
                "/wallets",
                Some(&c.key),
                Some(&json!({ "customerId": "holder", "assetId": raw })),
            )
            .await,
        );
    }
    for raw in spellings(&tx) {
        let t = url(&raw);
        expect_404(
            &mut failures,
            format!("GET /transactions/{t}"),
            c.get(&app, &format!("/transactions/{t}")).await,
        );
        expect_404(
            &mut failures,
            format!("admin GET transaction {t}"),
            json_of(
                app.admin(
                    "GET",
                    &format!("/projects/default/transactions/{t}"),
                    &cookie,
                    None,
                    None,
                )
                .await,
            )
            .await,
        );
    }
    for raw in spellings(&entry) {
        let e = url(&raw);
        let path = format!("/api/v1/entry/{e}/inventory/use");
        let reply = json_of(
            app.client
                .post(app.url(&path))
                .header("Authorization", &authority.token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        expect_404(&mut failures, format!("POST {path}"), reply);
        // Spaces around a listed id are trimmed (the SDK joins lists with ", ").
        if raw.trim() != entry {
            let query = format!("/api/v1/entry/inventory?entry_ids={e}");
            let (status, found) = json_of(app.get(&authority.token, &query).await).await;
            failures.check(
                status == 200 && found["inventory"].as_array().is_some_and(Vec::is_empty),
                &format!("GET {query}"),
                format!("another spelling matched entry {entry}: {status} {found}"),
            );
        }
    }
    failures.assert_none();
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets),
        "nothing was written through another spelling"
    );
    assert_eq!(c.wallet_of(&app, &wallet).await["name"], "holder's");
}

#[tokio::test]
async fn text_ids_refuse_invisible_and_bidi_characters() {
    let app = spawn_app().await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "holder").await;
    // Zero-width space, right-to-left override, left-to-right isolate, BOM,
    // soft hyphen, word joiner, line and paragraph separators, a C1 control.
    let invisible = [
        "\u{200B}", "\u{202E}", "\u{2066}", "\u{FEFF}", "\u{00AD}", "\u{2060}", "\u{2028}", "\u{2029}",
        "\u{0085}",
    ];
    let before = app.check().await;
    let mut failures = Failures::default();
    for ch in invisible {
        let id = format!("bob{ch}by");
        let case = format!("{id:?}");
        let reply = app
            .v2("POST", "/customers", Some(&c.key), Some(&json!({ "id": id })))
            .await;
        failures.error(
            &format!("POST /customers {case}"),
            &reply,
            400,
            "VALIDATION_ERROR",
        );
        let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
        let reply = app
            .v2(
                "PUT",
                &format!("/customers/{encoded}"),
                Some(&c.key),
                Some(&json!({ "name": "x" })),
            )
            .await;
        failures.error(&format!("PUT /customers/{case}"), &reply, 400, "VALIDATION_ERROR");
        let (status, reply) = json_of(
            app.post_entry(
                &authority.token,
                &json!({ "user_id": id, "amount": 1, "reason": "x" }),
            )
            .await,
        )
        .await;
        failures.check(
            status == 400 && reply["error"].is_string(),
            &format!("v1 entry for user {case}"),
            format!("expected 400, got {status} {reply}"),
        );
        let reply = c.tx(&app, &format!("ref{ch}1"), vec![issue(&wallet, 1)]).await;
        failures.error(
            &format!("referenceId {:?}", format!("ref{ch}1")),
            &reply,
            400,
            "VALIDATION_ERROR",
        );
    }
    failures.assert_none();
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets),
        "nothing was created"
    );
    let customers = c.get_ok(&app, "/customers?pageSize=1000").await;
    assert_eq!(customers["total"], 1, "only holder: {customers}");
    // Visible non-ASCII stays welcome in customer ids (UUIDs, names, scripts).
    for id in ["jöhn", "ユーザー", "user name", "a-b_c.d@e"] {
        let reply = app
            .v2("POST", "/customers", Some(&c.key), Some(&json!({ "id": id })))
            .await;
        assert_eq!(reply.0, 201, "{id}: {reply:?}");
    }
}
