//! Creates an asset, a customer and their wallet, issues 10.00 into it and
//! reads the balance back.
//!
//! ```text
//! cargo run -p wallet-client --example quickstart -- http://127.0.0.1:8080 ak_...
//! # or: WALLET_URL=http://127.0.0.1:8080 WALLET_KEY=ak_... cargo run -p wallet-client --example quickstart
//! ```
//!
//! The key is an access key of the project (`wallet-service key create
//! --project default`).

use wallet_client::wire::{CustomerBody, NewAssetBody, NewWalletBody, TransactionBody};
use wallet_client::{ops, Client, Posted};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .or_else(|| std::env::var("WALLET_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let key = args
        .next()
        .or_else(|| std::env::var("WALLET_KEY").ok())
        .ok_or("give the access key as the second argument or in WALLET_KEY")?;
    let balance = quickstart(&url, &key).await?;
    println!("balance: {balance}");
    Ok(())
}

/// The walk-through itself; returns the wallet's balance at the end (1000).
/// `tests/api/rust_client.rs` runs it against the real server.
pub async fn quickstart(url: &str, key: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let client = Client::new(url, key)?;

    // A fresh suffix, so the example can run again on the same server.
    let run = Client::new_reference_id()[3..9].to_uppercase();
    let asset = client
        .create_asset(&NewAssetBody {
            name: format!("Quickstart coins {run}"),
            code: format!("Q{run}"),
            fractions: 100,
        })
        .await?;
    let customer = client
        .create_customer(&CustomerBody {
            id: format!("quickstart-{run}"),
            name: Some("Quickstart customer".to_owned()),
            description: None,
        })
        .await?;
    let wallet = client
        .create_wallet(&NewWalletBody {
            customer_id: customer.id.clone(),
            asset_id: asset.id.clone(),
            name: Some("main".to_owned()),
            description: None,
        })
        .await?;
    println!(
        "asset {} ({}), customer {}, wallet {}",
        asset.id, asset.code, customer.id, wallet.id
    );

    // 10.00: amounts count the asset's smallest parts (here cents). The
    // referenceId makes a retry safe: the client resends the same one.
    let posted = client
        .post_transaction(&TransactionBody {
            reference_id: Client::new_reference_id(),
            operations: vec![ops::issue(&wallet.id, 1_000)],
            description: Some("quickstart issue".to_owned()),
        })
        .await?;
    match &posted {
        Posted::Completed(t) => println!("transaction {} completed", t.id),
        other => return Err(format!("the issue did not apply: {other:?}").into()),
    }

    let wallet = client.get_wallet(&wallet.id).await?;
    println!("available: {}", wallet.available);
    Ok(wallet.balance)
}
