//! Setting up and auditing a run against a server named by `--url`, through
//! its public API only: API v2 through `wallet-client` (the typed client),
//! API v1 (which it does not cover) through the bench's own `http` client.
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
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use wallet_client::wire::{
    CustomerBody, NewAssetBody, NewSystemWalletBody, NewWalletBody, NewWebhookBody, OperationBody,
    TransactionBody, Wallet,
};
use wallet_client::{ops, Client, Paged, Paging, Posted};
use wallet_core::ids::WalletId;

/// One setup request and the status that means it worked.
struct Job {
    method: &'static str,
    path: String,
    body: Option<String>,
    expect: u16,
}

/// `jobs` dealt round-robin into at most `clients` shares (at least one),
/// each job with its index.
fn shares<J>(jobs: Vec<J>, clients: usize) -> Vec<Vec<(usize, J)>> {
    let clients = clients.clamp(1, jobs.len().max(1));
    let mut shares: Vec<Vec<(usize, J)>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        shares[i % clients].push((i, job));
    }
    shares
}

/// A share's task: its jobs' results, each with the job's index.
type ShareTask<T> = tokio::task::JoinHandle<anyhow::Result<Vec<(usize, T)>>>;

/// The shares' results, awaited, back in job order.
async fn in_job_order<T>(tasks: Vec<ShareTask<T>>) -> anyhow::Result<Vec<T>> {
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await??);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

/// Runs `jobs` over `clients` connections; returns the bodies in job order.
async fn fan_out(
    endpoint: &Arc<Endpoint>,
    authorization: &str,
    clients: usize,
    jobs: Vec<Job>,
) -> anyhow::Result<Vec<Value>> {
    let tasks: Vec<_> = shares(jobs, clients)
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
    in_job_order(tasks).await
}

/// The API v2 client of the server `endpoint` names, with `access` (the
/// `Authorization` value, `Bearer <key>`). Setup and audit go through it;
/// only the measured load loop uses the lean `http` client.
pub(super) fn v2_client(endpoint: &Endpoint, access: &str) -> anyhow::Result<Client> {
    let key = access.strip_prefix("Bearer ").unwrap_or(access);
    Ok(Client::new(
        &format!("http://{}{}", endpoint.addr, endpoint.prefix),
        key,
    )?)
}

/// Runs `call` on each of `jobs` over `clients` concurrent tasks; returns
/// the results in job order.
async fn fan_out_v2<J, T, F, Fut>(
    client: &Client,
    clients: usize,
    jobs: Vec<J>,
    call: F,
) -> anyhow::Result<Vec<T>>
where
    J: Send + 'static,
    T: Send + 'static,
    F: Fn(Client, J) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, wallet_client::Error>> + Send,
{
    let tasks: Vec<_> = shares(jobs, clients)
        .into_iter()
        .map(|share| {
            let (client, call) = (client.clone(), call.clone());
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(share.len());
                for (i, job) in share {
                    out.push((i, call(client.clone(), job).await?));
                }
                Ok::<_, anyhow::Error>(out)
            })
        })
        .collect();
    in_job_order(tasks).await
}

/// A wallet's numeric id, as the API writes it.
fn wallet_id(wallet: &Wallet) -> anyhow::Result<WalletId> {
    wallet
        .id
        .parse()
        .map(WalletId::new)
        .with_context(|| format!("no numeric wallet id: {}", wallet.id))
}

/// Posts `body`, which must apply (a `DuplicateReferenceId` after the
/// client's own retry is the first attempt's success).
async fn apply(client: Client, body: TransactionBody) -> Result<(), wallet_client::Error> {
    match client.post_transaction(&body).await? {
        Posted::Completed(_) | Posted::Duplicate { retried: true, .. } => Ok(()),
        other => Err(wallet_client::Error::Unexpected {
            http: 0,
            body: format!("transaction {} did not apply: {other:?}", body.reference_id),
        }),
    }
}

/// `count` funded wallets of a new asset: system wallets, or with `owners`
/// the wallet at index i of a new customer `<owners><i>` (for `trade`,
/// whose items move between customers). Returns the asset id and the
/// wallet ids.
pub(super) async fn v2_wallets(
    client: &Client,
    count: usize,
    clients: usize,
    tag: &str,
    owners: Option<&str>,
) -> anyhow::Result<(String, Vec<WalletId>)> {
    let asset = client
        .create_asset(&NewAssetBody {
            name: "bench".to_owned(),
            code: format!("B{tag}"),
            fractions: 1,
        })
        .await?
        .id;
    let made = match owners {
        None => {
            let asset = asset.clone();
            fan_out_v2(client, clients, vec![(); count], move |c, ()| {
                let body = NewSystemWalletBody {
                    asset_id: asset.clone(),
                    name: None,
                    description: None,
                };
                async move { c.create_system_wallet(&body).await }
            })
            .await?
        }
        Some(prefix) => {
            let ids: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
            fan_out_v2(client, clients, ids.clone(), |c, id| async move {
                c.create_customer(&CustomerBody {
                    id,
                    name: None,
                    description: None,
                })
                .await
            })
            .await?;
            let asset = asset.clone();
            fan_out_v2(client, clients, ids, move |c, customer_id| {
                let body = NewWalletBody {
                    customer_id,
                    asset_id: asset.clone(),
                    name: None,
                    description: None,
                };
                async move { c.create_wallet(&body).await }
            })
            .await?
        }
    };
    let wallets = made
        .iter()
        .map(wallet_id)
        .collect::<anyhow::Result<Vec<WalletId>>>()?;
    let fund = wallets
        .chunks(100)
        .enumerate()
        .map(|(k, chunk)| TransactionBody {
            reference_id: format!("f{tag}-{k}"),
            operations: chunk
                .iter()
                .map(|w| ops::issue(&w.to_string(), FUNDING))
                .collect(),
            description: None,
        })
        .collect();
    fan_out_v2(client, clients, fund, apply).await?;
    Ok((asset, wallets))
}

/// Registers a webhook at `url` receiving every event type (the bench's
/// receiver).
pub(super) async fn register_webhook(client: &Client, url: String) -> anyhow::Result<()> {
    client
        .create_webhook(&NewWebhookBody {
            url,
            types: None,
            description: Some("bench".to_owned()),
        })
        .await?;
    Ok(())
}

/// A new system wallet of `asset` (an id, as the API writes it), empty:
/// the fee wallet of `transfer-fee`.
pub(super) async fn system_wallet(client: &Client, asset: &str) -> anyhow::Result<WalletId> {
    let made = client
        .create_system_wallet(&NewSystemWalletBody {
            asset_id: asset.to_owned(),
            name: Some("fees".to_owned()),
            description: None,
        })
        .await?;
    wallet_id(&made)
}

/// Gives each wallet `lots` open lots, as the preload of a local run does
/// (`preload::LOT_AMOUNT` each, expiring at `preload::lot_expiry`): one
/// transaction of `lots` Issues per wallet.
pub(super) async fn issue_lots(
    client: &Client,
    wallets: &[WalletId],
    lots: usize,
    clients: usize,
    tag: &str,
) -> anyhow::Result<()> {
    let now = wallet_core::clock::system_now();
    let jobs = wallets
        .iter()
        .map(|wallet| TransactionBody {
            reference_id: format!("{tag}-lots-{wallet}"),
            operations: (0..lots)
                .map(|k| OperationBody {
                    expires_at: Some(lot_expiry(now, k)),
                    ..ops::issue(&wallet.to_string(), LOT_AMOUNT)
                })
                .collect(),
            description: None,
        })
        .collect();
    fan_out_v2(client, clients, jobs, apply).await?;
    Ok(())
}

/// Count and balance sum of the asset's system wallets.
pub(super) async fn v2_totals(client: &Client, asset: &str) -> anyhow::Result<(i64, i128)> {
    let (mut count, mut sum) = (0, 0);
    let mut paging = Some(Paging::of(1000));
    while let Some(page) = paging {
        let wallets = client.list_system_wallets(page).await?;
        for wallet in wallets.items.iter().filter(|w| w.asset_id == asset) {
            count += 1;
            sum += i128::from(wallet.balance);
        }
        paging = wallets.next_page();
    }
    Ok((count, sum))
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
        let client = v2_client(&endpoint, &access)?;
        let (asset, ids) = v2_wallets(&client, wallets, clients, &tag, owners).await?;
        fixture.wallets = ids;
        if args.workload == WorkloadKind::TransferFee {
            fixture.fee_wallet = Some(system_wallet(&client, &asset).await?);
        }
        if args.lots > 0 {
            eprintln!("setup: {} open lots in each wallet", args.lots);
            issue_lots(&client, &fixture.wallets, args.lots, clients, &tag).await?;
        }
        fixture.access = access.clone();
        before = v2_totals(&client, &asset).await?;
        totals = measure(
            Arc::new(fixture),
            args.kind(),
            clients,
            args.duration,
            "bench",
            false,
        )
        .await?;
        after = v2_totals(&client, &asset).await?;
    }
    super::report::print_totals(&format!("{:?}", args.workload), args.unit(), clients, &totals);
    let conserved = before.0 == after.0 && super::report::money(args.workload, before.1, after.1, &totals);
    println!("check: skipped (remote server: run `wallet-service check` where its database is)");
    Ok(super::report::exit_code(conserved))
}
