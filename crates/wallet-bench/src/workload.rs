//! What each benchmark client sends, and how its answers are judged.
//!
//! Requests are written into a reused buffer from a fixed template: only the
//! wallet ids, amounts and reference ids change, so building one costs a few
//! hundred nanoseconds, not a JSON serialisation.

use super::http::Endpoint;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::sync::Arc;
use wallet_core::ids::WalletId;

/// What a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Transfer,
    /// A Transfer and a fee of 1 from the same source to one hot wallet.
    TransferFee,
    Entry,
    Balance,
    /// 90% balance reads, 10% transfers.
    Mixed,
    Batch(usize),
    /// A Hold, then a Capture of it, in turn (two transactions per hold).
    Hold,
    /// A GrantItem of one item per client, then trades of it: a Transfer
    /// from the buyer to the seller and a TransferItem of the item the
    /// other way, in one transaction.
    Trade,
    /// API v1's `GET /health`: HTTP and routing with no ledger work.
    Ceiling,
    /// Scale mode: v1 totals of one user.
    V1Wallet,
    /// Scale mode: v1 inventory of one user.
    V1Inventory,
    /// Scale mode: the first page of one wallet's entries.
    EntriesPage,
}

/// Everything the clients share: where to send, the credentials, the wallets.
pub(super) struct Fixture {
    pub endpoint: Arc<Endpoint>,
    /// `Bearer <access key>`.
    pub access: String,
    /// An authority's ES256 JWT (API v1), if the run needs one.
    pub jwt: Option<String>,
    pub wallets: Vec<WalletId>,
    /// The system wallet every `transfer-fee` transaction pays its fee
    /// into; none for the other workloads.
    pub fee_wallet: Option<WalletId>,
    /// API v1 users are `<user_prefix><i>` for i below `users`: names
    /// made on the fly rather than a million strings held in memory. For
    /// `trade`, the wallet at index i belongs to the customer
    /// `<user_prefix><i>`.
    pub user_prefix: String,
    pub users: usize,
    /// Makes reference ids unique across runs against one server.
    pub tag: String,
}

/// What a sent request was, so its answer can be judged.
#[derive(Debug, Clone, Copy)]
pub(super) enum Sent {
    Transfer,
    Read,
    Entry(i64),
    Batch(usize),
    /// A Hold: counted when its Capture succeeds.
    HoldPlaced,
    HoldCaptured,
    /// The item a `trade` client trades: counted as nothing.
    ItemGranted,
    Trade,
}

/// The verdict on one answer.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// Operations that succeeded (a batch counts its completed transfers).
    pub ops: u64,
    pub error: Option<String>,
    /// Sum of the amounts of acknowledged v1 entries.
    pub acknowledged: i64,
}

/// One client's request source.
pub(super) struct Generator {
    kind: Kind,
    fixture: Arc<Fixture>,
    rng: SmallRng,
    client: usize,
    seq: u64,
    body: Vec<u8>,
    /// The hold this client placed and captures next (`hold` workload).
    open_hold: Option<String>,
    /// The index of the wallet whose owner holds this client's item
    /// (`trade` workload), once granted.
    item_owner: Option<usize>,
}

impl Generator {
    pub fn new(kind: Kind, fixture: Arc<Fixture>, client: usize) -> Self {
        Self {
            kind,
            fixture,
            rng: SmallRng::seed_from_u64(0x5eed ^ client as u64),
            client,
            seq: 0,
            body: Vec::with_capacity(1024),
            open_hold: None,
            item_owner: None,
        }
    }

    /// Writes the next request into `out` (cleared first).
    pub fn next(&mut self, out: &mut Vec<u8>) -> Sent {
        out.clear();
        self.body.clear();
        let f = Arc::clone(&self.fixture);
        let kind = match self.kind {
            Kind::Mixed if self.rng.random_range(0..10) == 0 => Kind::Transfer,
            Kind::Mixed => Kind::Balance,
            other => other,
        };
        match kind {
            Kind::Transfer | Kind::Mixed | Kind::TransferFee => {
                self.transfer_json(kind == Kind::TransferFee);
                f.endpoint
                    .write_request(out, "POST", "/api/v2/transactions", &f.access, Some(&self.body));
                Sent::Transfer
            }
            Kind::Hold => {
                let sent = self.hold_json();
                f.endpoint
                    .write_request(out, "POST", "/api/v2/transactions", &f.access, Some(&self.body));
                sent
            }
            Kind::Trade => {
                let sent = self.trade_json();
                f.endpoint
                    .write_request(out, "POST", "/api/v2/transactions", &f.access, Some(&self.body));
                sent
            }
            Kind::Batch(size) => {
                self.body.extend_from_slice(b"{\"transactions\":[");
                for i in 0..size {
                    if i > 0 {
                        self.body.push(b',');
                    }
                    self.transfer_json(false);
                }
                self.body.extend_from_slice(b"]}");
                f.endpoint.write_request(
                    out,
                    "POST",
                    "/api/v2/transactions/batch",
                    &f.access,
                    Some(&self.body),
                );
                Sent::Batch(size)
            }
            Kind::Balance => {
                let path = format!("/api/v2/wallets/{}", self.wallet());
                f.endpoint.write_request(out, "GET", &path, &f.access, None);
                Sent::Read
            }
            Kind::Ceiling => {
                f.endpoint
                    .write_request(out, "GET", "/api/v1/health", &f.access, None);
                Sent::Read
            }
            Kind::EntriesPage => {
                let path = format!("/api/v2/wallets/{}/entries", self.wallet());
                f.endpoint.write_request(out, "GET", &path, &f.access, None);
                Sent::Read
            }
            Kind::Entry => {
                // Mostly credits, some spends: every wallet starts well funded.
                let amount: i64 = if self.rng.random_range(0..4) == 0 {
                    -self.rng.random_range(1..=5)
                } else {
                    self.rng.random_range(1..=10)
                };
                let user = self.user();
                let _ = write!(
                    self.body,
                    "{{\"user_id\":\"{}{user}\",\"amount\":{amount},\"reason\":\"bench\",\"item\":null}}",
                    f.user_prefix
                );
                f.endpoint
                    .write_request(out, "POST", "/api/v1/entry", self.jwt(), Some(&self.body));
                Sent::Entry(amount)
            }
            Kind::V1Wallet | Kind::V1Inventory => {
                let path = if kind == Kind::V1Wallet {
                    "/api/v1/wallet"
                } else {
                    "/api/v1/entry/inventory"
                };
                let path = format!("{path}?user_ids={}{}", f.user_prefix, self.user());
                f.endpoint.write_request(out, "GET", &path, self.jwt(), None);
                Sent::Read
            }
        }
    }

    /// Appends one transaction of one Transfer between two random wallets,
    /// and, `with_fee`, a second Transfer of 1 from the same source to the
    /// fee wallet (the hot row every such transaction credits).
    fn transfer_json(&mut self, with_fee: bool) {
        let wallets = &self.fixture.wallets;
        let source = self.rng.random_range(0..wallets.len());
        // Any other wallet: shift by 1..len so it never equals the source.
        let destination = (source + self.rng.random_range(1..wallets.len().max(2))) % wallets.len();
        let amount: u32 = self.rng.random_range(1..=10);
        self.seq += 1;
        let _ = write!(
            self.body,
            "{{\"referenceId\":\"{}-{}-{}\",\"operations\":[{{\"type\":\"Transfer\",\"source\":\"{}\",\
             \"destination\":\"{}\",\"amount\":{amount}}}",
            self.fixture.tag, self.client, self.seq, wallets[source], wallets[destination]
        );
        if let (true, Some(fee)) = (with_fee, self.fixture.fee_wallet) {
            let _ = write!(
                self.body,
                ",{{\"type\":\"Transfer\",\"source\":\"{}\",\"destination\":\"{fee}\",\"amount\":1}}",
                wallets[source]
            );
        }
        self.body.extend_from_slice(b"]}");
    }

    /// Appends the next transaction of the `hold` workload: a Hold of 1 to
    /// 10 from a random wallet for another, or the Capture of all of the
    /// one placed before (to the destination the Hold named).
    fn hold_json(&mut self) -> Sent {
        self.seq += 1;
        let reference = format!("{}-{}-{}", self.fixture.tag, self.client, self.seq);
        if let Some(hold) = self.open_hold.take() {
            let _ = write!(
                self.body,
                "{{\"referenceId\":\"{reference}\",\"operations\":[{{\"type\":\"Capture\",\"hold\":\"{hold}\"}}]}}"
            );
            return Sent::HoldCaptured;
        }
        let wallets = &self.fixture.wallets;
        let source = self.rng.random_range(0..wallets.len());
        let destination = (source + self.rng.random_range(1..wallets.len().max(2))) % wallets.len();
        let amount: u32 = self.rng.random_range(1..=10);
        // At most 30 characters: `h` + 6 + client + sequence.
        let hold = format!("h{reference}");
        let _ = write!(
            self.body,
            "{{\"referenceId\":\"{reference}\",\"operations\":[{{\"type\":\"Hold\",\"source\":\"{}\",\
             \"destination\":\"{}\",\"amount\":{amount},\"holdId\":\"{hold}\"}}]}}",
            wallets[source], wallets[destination]
        );
        self.open_hold = Some(hold);
        Sent::HoldPlaced
    }

    /// Appends the next transaction of the `trade` workload: first the
    /// GrantItem of this client's item (id `<tag>-<client>`) to the owner
    /// of a random wallet, then trades: the owner of another random wallet
    /// pays 1 to 10 to the item's owner and gets the item, which must still
    /// be the seller's (`from`).
    fn trade_json(&mut self) -> Sent {
        self.seq += 1;
        let f = Arc::clone(&self.fixture);
        let (tag, client, prefix) = (&f.tag, self.client, &f.user_prefix);
        let reference = format!("{tag}-{client}-{}", self.seq);
        let len = f.wallets.len();
        let Some(seller) = self.item_owner else {
            let owner = self.rng.random_range(0..len);
            let _ = write!(
                self.body,
                "{{\"referenceId\":\"{reference}\",\"operations\":[{{\"type\":\"GrantItem\",\
                 \"itemType\":\"sword\",\"customerId\":\"{prefix}{owner}\",\"itemId\":\"{tag}-{client}\",\
                 \"properties\":{{\"level\":1,\"serial\":{client}}}}}]}}"
            );
            self.item_owner = Some(owner);
            return Sent::ItemGranted;
        };
        let buyer = (seller + self.rng.random_range(1..len.max(2))) % len;
        let amount: u32 = self.rng.random_range(1..=10);
        let _ = write!(
            self.body,
            "{{\"referenceId\":\"{reference}\",\"operations\":[{{\"type\":\"Transfer\",\"source\":\"{}\",\
             \"destination\":\"{}\",\"amount\":{amount}}},{{\"type\":\"TransferItem\",\"item\":\"{tag}-{client}\",\
             \"from\":\"{prefix}{seller}\",\"to\":\"{prefix}{buyer}\"}}]}}",
            f.wallets[buyer], f.wallets[seller]
        );
        self.item_owner = Some(buyer);
        Sent::Trade
    }

    fn wallet(&mut self) -> WalletId {
        let wallets = &self.fixture.wallets;
        wallets[self.rng.random_range(0..wallets.len())]
    }

    /// The index of a random user.
    fn user(&mut self) -> usize {
        self.rng.random_range(0..self.fixture.users.max(1))
    }

    fn jwt(&self) -> &str {
        self.fixture.jwt.as_deref().unwrap_or_default()
    }
}

/// Judges one answer: the expected status means success; a batch succeeds
/// item by item.
pub(super) fn judge(sent: Sent, status: u16, body: &[u8]) -> Verdict {
    let expected = match sent {
        Sent::Transfer | Sent::HoldPlaced | Sent::HoldCaptured | Sent::ItemGranted | Sent::Trade => 201,
        Sent::Read | Sent::Entry(_) | Sent::Batch(_) => 200,
    };
    if status != expected {
        return Verdict {
            error: Some(format!("HTTP {status}{}", error_status(body))),
            ..Verdict::default()
        };
    }
    match sent {
        Sent::Batch(size) => {
            let completed = count(body, b"\"httpStatus\":201") as u64;
            Verdict {
                ops: completed,
                error: (completed < size as u64)
                    .then(|| format!("batch items not Completed: {}", size as u64 - completed)),
                acknowledged: 0,
            }
        }
        Sent::Entry(amount) => Verdict {
            ops: 1,
            error: None,
            acknowledged: amount,
        },
        Sent::Transfer | Sent::Read | Sent::HoldCaptured | Sent::Trade => Verdict {
            ops: 1,
            ..Verdict::default()
        },
        Sent::HoldPlaced | Sent::ItemGranted => Verdict::default(),
    }
}

/// ` STATUS` of a v2 error body (or the v1 message), to tell errors apart.
fn error_status(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let status = value
        .get("status")
        .or_else(|| value.get("error"))
        .and_then(|s| s.as_str());
    status.map(|s| format!(" {s}")).unwrap_or_default()
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

#[cfg(test)]
mod tests;
