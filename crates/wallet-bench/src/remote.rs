//! Setting up and auditing a run against a server named by `--url`, through
//! its public API only.
//!
//! API v2 runs get their own asset (so the money check sums exactly the
//! benchmark's wallets) and system wallets funded by Issue transactions of
//! 100 operations; API v1 runs get their own users, funded by one entry each.

use super::http::{Conn, Endpoint};
use super::preload::{lot_expiry, FUNDING, LOT_AMOUNT};
use super::workload::Fixture;
use super::{measure, run_tag, BenchArgs, WorkloadKind};
use anyhow::Context;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use wallet_core::ids::WalletId;

/// One setup request and the status that means it worked.
struct Job {
    method: &'static str,
    path: String,
    body: Option<String>,
    expect: u16,
}

/// Runs `jobs` over `clients` connections; returns the bodies in job order.
async fn fan_out(
    endpoint: &Arc<Endpoint>,
    authorization: &str,
    clients: usize,
    jobs: Vec<Job>,
) -> anyhow::Result<Vec<Value>> {
    let clients = clients.clamp(1, jobs.len().max(1));
    let mut shares: Vec<Vec<(usize, Job)>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        shares[i % clients].push((i, job));
    }
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let endpoint = Arc::clone(endpoint);
            let authorization = authorization.to_owned();
            tokio::spawn(async move {
                let mut conn = Conn::new(Arc::clone(&endpoint));
                let mut request = Vec::new();
                let mut out = Vec::with_capacity(share.len());
                for (i, job) in share {
                    request.clear();
                    let body = job.body.as_deref().map(str::as_bytes);
                    endpoint.write_request(&mut request, job.method, &job.path, &authorization, body);
                    let response = conn.roundtrip(&request).await?;
                    let text = String::from_utf8_lossy(response.body);
                    anyhow::ensure!(
                        response.status == job.expect,
                        "{} {} answered {}: {text}",
                        job.method,
                        job.path,
                        response.status
                    );
                    out.push((i, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)));
                }
                Ok::<_, anyhow::Error>(out)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await??);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

fn id_of(value: &Value) -> anyhow::Result<i64> {
    value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("no numeric id in {value}"))
}

/// A new asset and `count` funded system wallets in it. Returns the asset id
/// and the wallet ids.
/// `count` funded wallets of a new asset: system wallets, or with `owners`
/// the wallet at index i of a new customer `<owners><i>` (for `trade`,
/// whose items move between customers).
pub(super) async fn v2_wallets(
    endpoint: &Arc<Endpoint>,
    access: &str,
    count: usize,
    clients: usize,
    tag: &str,
    owners: Option<&str>,
) -> anyhow::Result<(String, Vec<WalletId>)> {
    let asset = fan_out(
        endpoint,
        access,
        1,
        vec![Job {
            method: "POST",
            path: "/api/v2/assets".to_owned(),
            body: Some(json!({"name": "bench", "code": format!("B{tag}"), "fractions": 1}).to_string()),
            expect: 201,
        }],
    )
    .await?;
    let asset = id_of(asset.first().unwrap_or(&Value::Null))?.to_string();
    let create = match owners {
        None => (0..count)
            .map(|_| Job {
                method: "POST",
                path: "/api/v2/system-wallets".to_owned(),
                body: Some(json!({ "assetId": asset }).to_string()),
                expect: 201,
            })
            .collect(),
        Some(prefix) => {
            let customers = (0..count)
                .map(|i| Job {
                    method: "POST",
                    path: "/api/v2/customers".to_owned(),
                    body: Some(json!({ "id": format!("{prefix}{i}") }).to_string()),
                    expect: 201,
                })
                .collect();
            fan_out(endpoint, access, clients, customers).await?;
            (0..count)
                .map(|i| Job {
                    method: "POST",
                    path: "/api/v2/wallets".to_owned(),
                    body: Some(json!({ "customerId": format!("{prefix}{i}"), "assetId": asset }).to_string()),
                    expect: 201,
                })
                .collect()
        }
    };
    let wallets = fan_out(endpoint, access, clients, create)
        .await?
        .iter()
        .map(|wallet| id_of(wallet).map(WalletId::new))
        .collect::<anyhow::Result<Vec<WalletId>>>()?;
    let fund = wallets
        .chunks(100)
        .enumerate()
        .map(|(k, chunk)| {
            let operations: Vec<Value> = chunk
                .iter()
                .map(|w| json!({"type": "Issue", "destination": w.to_string(), "amount": FUNDING}))
                .collect();
            Job {
                method: "POST",
                path: "/api/v2/transactions".to_owned(),
                body: Some(
                    json!({"referenceId": format!("f{tag}-{k}"), "operations": operations}).to_string(),
                ),
                expect: 201,
            }
        })
        .collect();
    fan_out(endpoint, access, clients, fund).await?;
    Ok((asset, wallets))
}

/// One POST that must answer `expect` (the bench's webhook registration).
pub(super) async fn post_expecting(
    endpoint: &Arc<Endpoint>,
    access: &str,
    path: &str,
    body: String,
    expect: u16,
) -> anyhow::Result<()> {
    fan_out(
        endpoint,
        access,
        1,
        vec![Job {
            method: "POST",
            path: path.to_owned(),
            body: Some(body),
            expect,
        }],
    )
    .await
    .map(drop)
}

/// A new system wallet of `asset` (an id, as the API writes it), empty:
/// the fee wallet of `transfer-fee`.
pub(super) async fn system_wallet(
    endpoint: &Arc<Endpoint>,
    access: &str,
    asset: &str,
) -> anyhow::Result<WalletId> {
    let made = fan_out(
        endpoint,
        access,
        1,
        vec![Job {
            method: "POST",
            path: "/api/v2/system-wallets".to_owned(),
            body: Some(json!({ "assetId": asset, "name": "fees" }).to_string()),
            expect: 201,
        }],
    )
    .await?;
    Ok(WalletId::new(id_of(made.first().unwrap_or(&Value::Null))?))
}

/// Gives each wallet `lots` open lots, as the preload of a local run does
/// (`preload::LOT_AMOUNT` each, expiring at `preload::lot_expiry`): one
/// transaction of `lots` Issues per wallet.
pub(super) async fn issue_lots(
    endpoint: &Arc<Endpoint>,
    access: &str,
    wallets: &[WalletId],
    lots: usize,
    clients: usize,
    tag: &str,
) -> anyhow::Result<()> {
    let now = wallet_core::clock::system_now();
    let jobs = wallets
        .iter()
        .map(|wallet| {
            let operations: Vec<Value> = (0..lots)
                .map(|k| {
                    json!({
                        "type": "Issue",
                        "destination": wallet.to_string(),
                        "amount": LOT_AMOUNT,
                        "expiresAt": lot_expiry(now, k),
                    })
                })
                .collect();
            Job {
                method: "POST",
                path: "/api/v2/transactions".to_owned(),
                body: Some(
                    json!({ "referenceId": format!("{tag}-lots-{wallet}"), "operations": operations })
                        .to_string(),
                ),
                expect: 201,
            }
        })
        .collect();
    fan_out(endpoint, access, clients, jobs).await?;
    Ok(())
}

/// Count and balance sum of the asset's system wallets.
pub(super) async fn v2_totals(
    endpoint: &Arc<Endpoint>,
    access: &str,
    asset: &str,
) -> anyhow::Result<(i64, i128)> {
    let (mut count, mut sum, mut page) = (0, 0, 0);
    loop {
        let job = Job {
            method: "GET",
            path: format!("/api/v2/system-wallets?page={page}&pageSize=1000"),
            body: None,
            expect: 200,
        };
        let body = fan_out(endpoint, access, 1, vec![job]).await?;
        let items = body
            .first()
            .and_then(|b| b.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return Ok((count, sum));
        }
        for wallet in items
            .iter()
            .filter(|w| w.get("assetId").and_then(Value::as_str) == Some(asset))
        {
            count += 1;
            sum += i128::from(wallet.get("balance").and_then(Value::as_i64).unwrap_or(0));
        }
        page += 1;
    }
}

/// `count` API v1 users, each funded by one entry.
pub(super) async fn v1_users(
    endpoint: &Arc<Endpoint>,
    jwt: &str,
    prefix: &str,
    count: usize,
    clients: usize,
) -> anyhow::Result<Vec<String>> {
    let users: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    let jobs = users
        .iter()
        .map(|user| Job {
            method: "POST",
            path: "/api/v1/entry".to_owned(),
            body: Some(
                json!({"user_id": user, "amount": FUNDING, "reason": "bench funding", "item": null})
                    .to_string(),
            ),
            expect: 200,
        })
        .collect();
    fan_out(endpoint, jwt, clients, jobs).await?;
    Ok(users)
}

/// Count and total of the users' API v1 wallets.
pub(super) async fn v1_totals(
    endpoint: &Arc<Endpoint>,
    jwt: &str,
    users: &[String],
) -> anyhow::Result<(i64, i128)> {
    let jobs = users
        .chunks(100)
        .map(|chunk| Job {
            method: "GET",
            path: format!("/api/v1/wallet?user_ids={}", chunk.join(",")),
            body: None,
            expect: 200,
        })
        .collect();
    let (mut count, mut sum) = (0, 0);
    for body in fan_out(endpoint, jwt, 8, jobs).await? {
        for wallet in body
            .get("wallets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            count += 1;
            sum += i128::from(wallet.get("total").and_then(Value::as_i64).unwrap_or(0));
        }
    }
    Ok((count, sum))
}

/// A run against the server at `url`, set up and audited through its API.
pub(super) async fn run(url: &str, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let endpoint = Arc::new(Endpoint::parse(url)?);
    let (tag, wallets, clients) = (
        run_tag(),
        args.wallets.unwrap_or(100_000),
        args.clients.unwrap_or(64),
    );
    let mut fixture = Fixture {
        endpoint: Arc::clone(&endpoint),
        access: String::new(),
        jwt: None,
        wallets: Vec::new(),
        fee_wallet: None,
        user_prefix: format!("b{tag}-"),
        users: 0,
        tag: tag.clone(),
    };
    let (before, after, totals);
    if args.workload == WorkloadKind::Entry {
        let config = args.authority_config.as_ref().ok_or_else(|| {
            anyhow::anyhow!("the entry workload against --url needs --authority-config FILE")
        })?;
        let jwt = super::target::Signer::from_config_file(config)?.jwt()?;
        eprintln!("setup: funding {wallets} API v1 users");
        let users = v1_users(&endpoint, &jwt, &fixture.user_prefix, wallets, clients).await?;
        fixture.users = users.len();
        fixture.jwt = Some(jwt.clone());
        before = v1_totals(&endpoint, &jwt, &users).await?;
        totals = measure(
            Arc::new(fixture),
            args.kind(),
            clients,
            args.duration,
            "bench",
            false,
        )
        .await?;
        after = v1_totals(&endpoint, &jwt, &users).await?;
    } else {
        let key = args
            .key
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("--url needs --key ACCESS_KEY (an API v2 access key)"))?;
        let access = format!("Bearer {key}");
        eprintln!("setup: creating and funding {wallets} wallets");
        let owners = (args.workload == WorkloadKind::Trade).then_some(fixture.user_prefix.as_str());
        let (asset, ids) = v2_wallets(&endpoint, &access, wallets, clients, &tag, owners).await?;
        fixture.wallets = ids;
        if args.workload == WorkloadKind::TransferFee {
            fixture.fee_wallet = Some(system_wallet(&endpoint, &access, &asset).await?);
        }
        if args.lots > 0 {
            eprintln!("setup: {} open lots in each wallet", args.lots);
            issue_lots(&endpoint, &access, &fixture.wallets, args.lots, clients, &tag).await?;
        }
        fixture.access = access.clone();
        before = v2_totals(&endpoint, &access, &asset).await?;
        totals = measure(
            Arc::new(fixture),
            args.kind(),
            clients,
            args.duration,
            "bench",
            false,
        )
        .await?;
        after = v2_totals(&endpoint, &access, &asset).await?;
    }
    super::report::print_totals(&format!("{:?}", args.workload), args.unit(), clients, &totals);
    let conserved = before.0 == after.0 && super::report::money(args.workload, before.1, after.1, &totals);
    println!("check: skipped (remote server: run `wallet-service check` where its database is)");
    Ok(super::report::exit_code(conserved))
}
