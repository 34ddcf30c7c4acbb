//! wallet-client: a typed async client of wallet-service's API v2.
//!
//! One method per endpoint; they send and return the server's own wire
//! types ([`wallet_core::wire`]), so client and server cannot drift. Errors
//! are [`Error`]: the server's refusal (HTTP status, error code, message)
//! or a request that got no answer.
//!
//! ```no_run
//! use wallet_client::{ops, Client};
//! use wallet_core::wire::{CustomerBody, NewAssetBody, NewWalletBody, TransactionBody};
//!
//! # async fn run() -> Result<(), wallet_client::Error> {
//! let client = Client::new("http://127.0.0.1:8080", "ak_...")?;
//! let asset = client
//!     .create_asset(&NewAssetBody { name: "Gold".into(), code: "GLD".into(), fractions: 100 })
//!     .await?;
//! client
//!     .create_customer(&CustomerBody { id: "alice".into(), name: None, description: None })
//!     .await?;
//! let wallet = client
//!     .create_wallet(&NewWalletBody {
//!         customer_id: "alice".into(),
//!         asset_id: asset.id.clone(),
//!         name: None,
//!         description: None,
//!     })
//!     .await?;
//! let posted = client
//!     .post_transaction(&TransactionBody {
//!         reference_id: Client::new_reference_id(),
//!         operations: vec![ops::issue(&wallet.id, 1_000)],
//!         description: None,
//!     })
//!     .await?;
//! assert!(posted.is_completed());
//! println!("balance: {}", client.get_wallet(&wallet.id).await?.balance);
//! # Ok(())
//! # }
//! ```
//!
//! # Retries
//!
//! Failed requests are sent again only when that cannot apply them twice
//! (see [`retry`] for the table): GETs, PUTs, and `POST /transactions` and
//! the batch (the same body, so the same `referenceId`: a second delivery is
//! a `DuplicateReferenceId`, never a second application) on dropped
//! connections, timeouts, 502/503/504 and 429; any request when the
//! connection could not be made or on 429. By default 4 attempts, 200 ms
//! doubling, `Retry-After` honoured, at most 10 s;
//! [`ClientBuilder::retry`] changes it ([`RetryPolicy::none`]: never).
//! A retried transaction that had applied the first time answers
//! [`Posted::Duplicate`] with `retried: true` and the stored transaction.
//!
//! # Events
//!
//! [`Client::events`] reads the feed (long-poll with `wait`);
//! [`Client::events_stream`] is the Server-Sent Events stream as a
//! [`futures_core::Stream`] of [`EventDoc`]s that reconnects when the
//! connection drops and resumes after the last `seq` it yielded
//! (`Last-Event-ID`), so no event is lost or repeated:
//!
//! ```no_run
//! use futures_util::StreamExt;
//! # async fn run(client: wallet_client::Client) -> Result<(), wallet_client::Error> {
//! let mut events = client.events_stream(Some(0), &[]);
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     println!("{} {}", event.seq, event.kind);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Pages
//!
//! List methods take a [`Paging`] and return one page; [`Paged::next_page`]
//! is the `Paging` of the next one, `None` after the last.

mod error;
pub mod ops;
pub mod retry;
mod sse;
mod stream;

pub use error::Error;
pub use retry::RetryPolicy;
pub use stream::EventStream;
pub use wallet_core::wire;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use retry::Failure;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use wallet_core::wire::{
    Asset, AssetPage, BalanceAt, BatchBody, CreditLimitBody, Customer, CustomerBody, CustomerKey,
    CustomerKeyPage, CustomerPage, CustomerUpdateBody, DeliveryPage, DescriptionBody, Duplicate, EntryPage,
    EventDoc, Hold, HoldPage, HoldStatus, Item, ItemHistoryPage, ItemPage, ItemStatus, LotPage, LotStatus,
    NameBody, NewAssetBody, NewKeyBody, NewSystemWalletBody, NewWalletBody, NewWebhookBody, Project,
    ReplayBody, ResumeBody, StatusBody, Transaction, TransactionBody, TransactionPage, TransactionStatus,
    Wallet, WalletPage, WalletStatus, Webhook, WebhookCreated, WebhookList,
};

/// A client of one server with one credential: an access key (`ak_…`), a
/// customer key (`ck_…`) or an authority's JWT. Cheap to clone (the
/// connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    authorization: HeaderValue,
    retry: RetryPolicy,
    timeout: Duration,
}

/// Options of a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    base: String,
    key: String,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
}

impl ClientBuilder {
    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long one attempt may take (default 30 s; a long poll's `wait` is
    /// added). The event stream has none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long making a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let base = self.base.trim_end_matches('/').to_owned();
        let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
        if !scheme_ok || reqwest::Url::parse(&base).is_err() {
            return Err(Error::BaseUrl(self.base));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", self.key))
            .map_err(|_| Error::BaseUrl("the key is not a valid header value".to_owned()))?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .build()?;
        Ok(Client {
            http,
            base,
            authorization,
            retry: self.retry,
            timeout: self.timeout,
        })
    }
}

/// Which page of a list: from 0, of 1–1000 items (default: page 0 of 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 0,
            page_size: 20,
        }
    }
}

impl Paging {
    /// Page 0 of `page_size`.
    pub fn of(page_size: u32) -> Self {
        Self { page: 0, page_size }
    }

    fn query(self, q: &mut Vec<(&'static str, String)>) {
        q.push(("page", self.page.to_string()));
        q.push(("pageSize", self.page_size.to_string()));
    }
}

/// A page of a list.
pub trait Paged {
    /// The page number, its size, and the items of all pages.
    fn position(&self) -> (u32, u32, i64);

    /// The `Paging` of the next page, `None` when this one is the last.
    fn next_page(&self) -> Option<Paging> {
        let (page, page_size, total) = self.position();
        let seen = (i64::from(page) + 1) * i64::from(page_size);
        (seen < total).then_some(Paging {
            page: page + 1,
            page_size,
        })
    }
}

macro_rules! paged {
    ($($page:ty),*) => {
        $(impl Paged for $page {
            fn position(&self) -> (u32, u32, i64) {
                (self.page, self.page_size, self.total)
            }
        })*
    };
}

paged!(
    AssetPage,
    CustomerPage,
    WalletPage,
    EntryPage,
    TransactionPage,
    HoldPage,
    LotPage,
    CustomerKeyPage,
    ItemPage,
    ItemHistoryPage,
    DeliveryPage
);

/// A time range of entries or transactions: epoch milliseconds, `from`
/// inclusive, `to` exclusive; `None`: unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The filter of an item list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemsFilter {
    pub item_type: Option<String>,
    pub status: Option<ItemStatus>,
}

/// A page of the events feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventPage {
    /// Oldest first.
    pub events: Vec<EventDoc>,
    /// The `after` of the next call.
    pub next: i64,
}

/// What `POST /transactions` did.
#[derive(Debug)]
pub enum Posted {
    /// Applied (201).
    Completed(Transaction),
    /// Recorded as `Failed` (400 or 409): nothing moved; `error` and
    /// `message` say why.
    Failed(Transaction),
    /// The `referenceId` was used before (409): nothing was applied now.
    /// `retried`: this client had sent the request before and that attempt
    /// may have reached the server (its answer was lost, or a 502/503/504
    /// came back), so the stored transaction is most likely this request's
    /// own first attempt; `false` after no retry, or only retries of
    /// attempts that never reached it (no connection, 429).
    Duplicate { duplicate: Duplicate, retried: bool },
}

impl Posted {
    pub fn is_completed(&self) -> bool {
        matches!(self, Posted::Completed(_))
    }

    /// The transaction: the new one, the failed one or the stored one.
    pub fn transaction(&self) -> &Transaction {
        match self {
            Posted::Completed(t) | Posted::Failed(t) => t,
            Posted::Duplicate { duplicate, .. } => &duplicate.transaction,
        }
    }
}

/// A reply of `POST /transactions` other than 201 (the server's
/// `TransactionReply`). Read one shape after the other from the text, not
/// as an untagged enum: serde buffers those, and item properties (kept as
/// raw JSON) cannot be read from a buffer.
enum Reply {
    Transaction(Transaction),
    Duplicate(Duplicate),
    Error(error::ErrorBody),
}

impl Reply {
    fn parse(text: &[u8]) -> Option<Reply> {
        if let Ok(t) = serde_json::from_slice(text) {
            return Some(Reply::Transaction(t));
        }
        if let Ok(d) = serde_json::from_slice(text) {
            return Some(Reply::Duplicate(d));
        }
        serde_json::from_slice(text).ok().map(Reply::Error)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchResult {
    http_status: u16,
    body: Box<serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct BatchReply {
    results: Vec<BatchResult>,
}

/// May a request be sent twice (see [`retry`])?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Safety {
    Idempotent,
    Once,
}

/// One request.
struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    safety: Safety,
    timeout: Duration,
}

/// An answer, read in full.
struct Answer {
    http: u16,
    body: Vec<u8>,
    /// An earlier attempt may have reached the server (then it was lost).
    resent: bool,
}

/// A path segment, percent-encoded (ids are the caller's strings).
fn seg(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client of the server at `base_url` (`http://host:port`) with the
    /// default options.
    pub fn new(base_url: &str, key: &str) -> Result<Self, Error> {
        Self::builder(base_url, key).build()
    }

    pub fn builder(base_url: &str, key: &str) -> ClientBuilder {
        ClientBuilder {
            base: base_url.to_owned(),
            key: key.to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// A fresh `referenceId` (`rc_` and 20 random letters and digits).
    pub fn new_reference_id() -> String {
        format!("rc_{}", wallet_core::text::random_base32(20))
    }

    fn call(&self, method: Method, path: String) -> Call {
        let safety = if method == Method::GET || method == Method::PUT {
            Safety::Idempotent
        } else {
            Safety::Once
        };
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            safety,
            timeout: self.timeout,
        }
    }

    fn with_body<B: Serialize>(mut call: Call, body: &B) -> Result<Call, Error> {
        call.body = Some(serde_json::to_vec(body)?);
        Ok(call)
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api/v2{path}", self.base))
            .header(AUTHORIZATION, self.authorization.clone())
    }

    pub(crate) fn policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends `call`, retrying as its safety allows; the last answer, or the
    /// last transport error.
    async fn execute(&self, call: &Call) -> Result<Answer, Error> {
        let (mut attempt, mut resent) = (1, false);
        loop {
            let mut request = self
                .request(call.method.clone(), &call.path)
                .query(&call.query)
                .timeout(call.timeout);
            if let Some(body) = &call.body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let (failure, outcome) = match request.send().await {
                Ok(response) => {
                    let http = response.status().as_u16();
                    let retry_after =
                        retry::retry_after(response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()));
                    match response.bytes().await {
                        Ok(body) => (
                            Failure::Status { http, retry_after },
                            Ok(Answer {
                                http,
                                body: body.to_vec(),
                                resent,
                            }),
                        ),
                        Err(e) => (Failure::Transport, Err(Error::Transport(e))),
                    }
                }
                Err(e) if e.is_connect() => (Failure::Connect, Err(Error::Transport(e))),
                Err(e) => (Failure::Transport, Err(Error::Transport(e))),
            };
            match self
                .retry
                .delay(attempt, call.safety == Safety::Idempotent, failure)
            {
                Some(wait) => {
                    resent |= matches!(
                        failure,
                        Failure::Transport | Failure::Status { http: 502..=504, .. }
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return outcome,
            }
        }
    }

    /// `call`, whose success is `expect` with a `T` body.
    async fn json<T: DeserializeOwned>(&self, call: Call, expect: u16) -> Result<T, Error> {
        let answer = self.execute(&call).await?;
        if answer.http != expect {
            return Err(error::refusal(answer.http, &answer.body));
        }
        serde_json::from_slice(&answer.body).map_err(|_| Error::Unexpected {
            http: answer.http,
            body: String::from_utf8_lossy(&answer.body).chars().take(500).collect(),
        })
    }

    /// `call`, whose success is `expect` with no body worth reading.
    async fn empty(&self, call: Call, expect: u16) -> Result<(), Error> {
        let answer = self.execute(&call).await?;
        if answer.http != expect {
            return Err(error::refusal(answer.http, &answer.body));
        }
        Ok(())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: String,
        query: Vec<(&'static str, String)>,
    ) -> Result<T, Error> {
        let mut call = self.call(Method::GET, path);
        call.query = query;
        self.json(call, 200).await
    }

    fn paged(paging: Paging) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        paging.query(&mut q);
        q
    }

    // --- project and assets ---

    /// `GET /project`.
    pub async fn get_project(&self) -> Result<Project, Error> {
        self.get("/project".into(), Vec::new()).await
    }

    /// `POST /assets`.
    pub async fn create_asset(&self, body: &NewAssetBody) -> Result<Asset, Error> {
        let call = Self::with_body(self.call(Method::POST, "/assets".into()), body)?;
        self.json(call, 201).await
    }

    /// `GET /assets`.
    pub async fn list_assets(&self, paging: Paging) -> Result<AssetPage, Error> {
        self.get("/assets".into(), Self::paged(paging)).await
    }

    /// `GET /assets/{assetId}`.
    pub async fn get_asset(&self, asset_id: &str) -> Result<Asset, Error> {
        self.get(format!("/assets/{}", seg(asset_id)), Vec::new()).await
    }

    /// `PUT /assets/{assetId}/name`.
    pub async fn rename_asset(&self, asset_id: &str, name: &str) -> Result<Asset, Error> {
        let body = NameBody {
            name: name.to_owned(),
        };
        let call = Self::with_body(
            self.call(Method::PUT, format!("/assets/{}/name", seg(asset_id))),
            &body,
        )?;
        self.json(call, 200).await
    }

    /// `DELETE /assets/{assetId}` (only an asset no wallet ever used).
    pub async fn delete_asset(&self, asset_id: &str) -> Result<(), Error> {
        self.empty(
            self.call(Method::DELETE, format!("/assets/{}", seg(asset_id))),
            204,
        )
        .await
    }

    // --- customers and their keys ---

    /// `POST /customers`: 201 made, or 200 when the same customer existed.
    pub async fn create_customer(&self, body: &CustomerBody) -> Result<Customer, Error> {
        let call = Self::with_body(self.call(Method::POST, "/customers".into()), body)?;
        let answer = self.execute(&call).await?;
        match answer.http {
            200 | 201 => serde_json::from_slice(&answer.body).map_err(Error::Decode),
            http => Err(error::refusal(http, &answer.body)),
        }
    }

    /// `PUT /customers/{customerId}`: makes or updates it.
    pub async fn put_customer(
        &self,
        customer_id: &str,
        body: &CustomerUpdateBody,
    ) -> Result<Customer, Error> {
        let call = Self::with_body(
            self.call(Method::PUT, format!("/customers/{}", seg(customer_id))),
            body,
        )?;
        let answer = self.execute(&call).await?;
        match answer.http {
            200 | 201 => serde_json::from_slice(&answer.body).map_err(Error::Decode),
            http => Err(error::refusal(http, &answer.body)),
        }
    }

    /// `GET /customers`.
    pub async fn list_customers(&self, paging: Paging) -> Result<CustomerPage, Error> {
        self.get("/customers".into(), Self::paged(paging)).await
    }

    /// `GET /customers/{customerId}`.
    pub async fn get_customer(&self, customer_id: &str) -> Result<Customer, Error> {
        self.get(format!("/customers/{}", seg(customer_id)), Vec::new())
            .await
    }

    /// `POST /customers/{customerId}/suspend`.
    pub async fn suspend_customer(&self, customer_id: &str) -> Result<Customer, Error> {
        let call = self.call(Method::POST, format!("/customers/{}/suspend", seg(customer_id)));
        self.json(call, 200).await
    }

    /// `POST /customers/{customerId}/resume`, opening `wallet_ids` again.
    pub async fn resume_customer(&self, customer_id: &str, wallet_ids: &[&str]) -> Result<Customer, Error> {
        let body = ResumeBody {
            wallet_ids: wallet_ids.iter().map(|w| (*w).to_owned()).collect(),
        };
        let call = Self::with_body(
            self.call(Method::POST, format!("/customers/{}/resume", seg(customer_id))),
            &body,
        )?;
        self.json(call, 200).await
    }

    /// `DELETE /customers/{customerId}`.
    pub async fn delete_customer(&self, customer_id: &str) -> Result<Customer, Error> {
        self.json(
            self.call(Method::DELETE, format!("/customers/{}", seg(customer_id))),
            200,
        )
        .await
    }

    /// `POST /customers/{customerId}/keys`: the reply's `token` is the key.
    pub async fn create_key(&self, customer_id: &str, body: &NewKeyBody) -> Result<CustomerKey, Error> {
        let call = Self::with_body(
            self.call(Method::POST, format!("/customers/{}/keys", seg(customer_id))),
            body,
        )?;
        self.json(call, 201).await
    }

    /// `GET /customers/{customerId}/keys`.
    pub async fn list_keys(&self, customer_id: &str, paging: Paging) -> Result<CustomerKeyPage, Error> {
        self.get(
            format!("/customers/{}/keys", seg(customer_id)),
            Self::paged(paging),
        )
        .await
    }

    /// `DELETE /customers/{customerId}/keys/{keyId}`.
    pub async fn revoke_key(&self, customer_id: &str, key_id: &str) -> Result<(), Error> {
        let path = format!("/customers/{}/keys/{}", seg(customer_id), seg(key_id));
        self.empty(self.call(Method::DELETE, path), 204).await
    }

    // --- wallets ---

    /// `POST /wallets`: a customer's wallet.
    pub async fn create_wallet(&self, body: &NewWalletBody) -> Result<Wallet, Error> {
        let call = Self::with_body(self.call(Method::POST, "/wallets".into()), body)?;
        self.json(call, 201).await
    }

    /// `POST /system-wallets`.
    pub async fn create_system_wallet(&self, body: &NewSystemWalletBody) -> Result<Wallet, Error> {
        let call = Self::with_body(self.call(Method::POST, "/system-wallets".into()), body)?;
        self.json(call, 201).await
    }

    /// `GET /system-wallets`.
    pub async fn list_system_wallets(&self, paging: Paging) -> Result<WalletPage, Error> {
        self.get("/system-wallets".into(), Self::paged(paging)).await
    }

    /// `GET /wallets/{walletId}`.
    pub async fn get_wallet(&self, wallet_id: &str) -> Result<Wallet, Error> {
        self.get(format!("/wallets/{}", seg(wallet_id)), Vec::new()).await
    }

    /// `GET /customers/{customerId}/wallets`.
    pub async fn list_customer_wallets(
        &self,
        customer_id: &str,
        paging: Paging,
    ) -> Result<WalletPage, Error> {
        self.get(
            format!("/customers/{}/wallets", seg(customer_id)),
            Self::paged(paging),
        )
        .await
    }

    /// `GET /wallets`: a customer key's own wallets.
    pub async fn list_own_wallets(&self, paging: Paging) -> Result<WalletPage, Error> {
        self.get("/wallets".into(), Self::paged(paging)).await
    }

    /// `PUT /wallets/{walletId}/name`.
    pub async fn rename_wallet(&self, wallet_id: &str, name: &str) -> Result<Wallet, Error> {
        let body = NameBody {
            name: name.to_owned(),
        };
        let call = Self::with_body(
            self.call(Method::PUT, format!("/wallets/{}/name", seg(wallet_id))),
            &body,
        )?;
        self.json(call, 200).await
    }

    /// `PUT /wallets/{walletId}/description`.
    pub async fn describe_wallet(&self, wallet_id: &str, description: &str) -> Result<Wallet, Error> {
        let body = DescriptionBody {
            description: description.to_owned(),
        };
        let path = format!("/wallets/{}/description", seg(wallet_id));
        let call = Self::with_body(self.call(Method::PUT, path), &body)?;
        self.json(call, 200).await
    }

    /// `PUT /wallets/{walletId}/status`.
    pub async fn set_wallet_status(&self, wallet_id: &str, status: WalletStatus) -> Result<Wallet, Error> {
        let path = format!("/wallets/{}/status", seg(wallet_id));
        let call = Self::with_body(self.call(Method::PUT, path), &StatusBody::Plain(status))?;
        self.json(call, 200).await
    }

    /// `GET /wallets/{walletId}/entries`.
    pub async fn list_entries(
        &self,
        wallet_id: &str,
        range: Range,
        paging: Paging,
    ) -> Result<EntryPage, Error> {
        let mut q = Self::paged(paging);
        range_query(range, &mut q);
        self.get(format!("/wallets/{}/entries", seg(wallet_id)), q).await
    }

    // --- holds, lots, balances, credit limits ---

    /// `GET /holds/{holdId}`.
    pub async fn get_hold(&self, hold_id: &str) -> Result<Hold, Error> {
        self.get(format!("/holds/{}", seg(hold_id)), Vec::new()).await
    }

    /// `GET /wallets/{walletId}/holds`, of `status` (`None`: all).
    pub async fn list_wallet_holds(
        &self,
        wallet_id: &str,
        status: Option<HoldStatus>,
        paging: Paging,
    ) -> Result<HoldPage, Error> {
        let mut q = Self::paged(paging);
        if let Some(s) = status {
            q.push(("status", s.as_str().to_owned()));
        }
        self.get(format!("/wallets/{}/holds", seg(wallet_id)), q).await
    }

    /// `GET /wallets/{walletId}/lots`, of `status` (`None`: all).
    pub async fn list_wallet_lots(
        &self,
        wallet_id: &str,
        status: Option<LotStatus>,
        paging: Paging,
    ) -> Result<LotPage, Error> {
        let mut q = Self::paged(paging);
        if let Some(s) = status {
            q.push(("status", s.as_str().to_owned()));
        }
        self.get(format!("/wallets/{}/lots", seg(wallet_id)), q).await
    }

    /// `GET /wallets/{walletId}/balance?at=`: the balance at `at` (epoch ms).
    pub async fn balance_at(&self, wallet_id: &str, at: i64) -> Result<BalanceAt, Error> {
        self.get(
            format!("/wallets/{}/balance", seg(wallet_id)),
            vec![("at", at.to_string())],
        )
        .await
    }

    /// `PUT /wallets/{walletId}/credit-limit`.
    pub async fn set_credit_limit(&self, wallet_id: &str, credit_limit: i64) -> Result<Wallet, Error> {
        let body = CreditLimitBody {
            credit_limit: serde_json::value::to_raw_value(&credit_limit)?,
        };
        let path = format!("/wallets/{}/credit-limit", seg(wallet_id));
        let call = Self::with_body(self.call(Method::PUT, path), &body)?;
        self.json(call, 200).await
    }

    // --- items ---

    /// `GET /items/{itemId}`.
    pub async fn get_item(&self, item_id: &str) -> Result<Item, Error> {
        self.get(format!("/items/{}", seg(item_id)), Vec::new()).await
    }

    /// `GET /items/{itemId}/history`.
    pub async fn item_history(&self, item_id: &str, paging: Paging) -> Result<ItemHistoryPage, Error> {
        self.get(format!("/items/{}/history", seg(item_id)), Self::paged(paging))
            .await
    }

    /// `GET /customers/{customerId}/items`.
    pub async fn list_customer_items(
        &self,
        customer_id: &str,
        filter: &ItemsFilter,
        paging: Paging,
    ) -> Result<ItemPage, Error> {
        let mut q = Self::paged(paging);
        filter_query(filter, &mut q);
        self.get(format!("/customers/{}/items", seg(customer_id)), q)
            .await
    }

    /// `GET /items?owner=stock`: the project's stock.
    pub async fn list_stock_items(&self, filter: &ItemsFilter, paging: Paging) -> Result<ItemPage, Error> {
        let mut q = Self::paged(paging);
        q.push(("owner", "stock".to_owned()));
        filter_query(filter, &mut q);
        self.get("/items".into(), q).await
    }

    // --- transactions ---

    /// `POST /transactions`. Retried (the same body: the same
    /// `referenceId`) when the answer is lost; see [`Posted`].
    pub async fn post_transaction(&self, body: &TransactionBody) -> Result<Posted, Error> {
        let mut call = Self::with_body(self.call(Method::POST, "/transactions".into()), body)?;
        call.safety = Safety::Idempotent;
        let answer = self.execute(&call).await?;
        let reply = match answer.http {
            201 => return Ok(Posted::Completed(decode(&answer)?)),
            400 | 409 => Reply::parse(&answer.body),
            _ => None,
        };
        posted(answer.http, reply, answer.resent, &answer.body)
    }

    /// `POST /transactions/batch`: one result per transaction, in order (an
    /// `Err` for one refused before anything was attempted). Retried like
    /// `post_transaction`.
    pub async fn post_batch(&self, body: &BatchBody) -> Result<Vec<Result<Posted, Error>>, Error> {
        let mut call = Self::with_body(self.call(Method::POST, "/transactions/batch".into()), body)?;
        call.safety = Safety::Idempotent;
        let answer = self.execute(&call).await?;
        if answer.http != 200 {
            return Err(error::refusal(answer.http, &answer.body));
        }
        let reply: BatchReply = decode(&answer)?;
        let retried = answer.resent;
        Ok(reply
            .results
            .into_iter()
            .map(|r| {
                let raw = r.body.get().as_bytes();
                let reply = Reply::parse(raw);
                if r.http_status == 201 {
                    if let Some(Reply::Transaction(t)) = reply {
                        return Ok(Posted::Completed(t));
                    }
                    return Err(Error::Unexpected {
                        http: 201,
                        body: "a batch result of 201 without a transaction".to_owned(),
                    });
                }
                posted(r.http_status, reply, retried, raw)
            })
            .collect())
    }

    /// `GET /transactions/{txId}`.
    pub async fn get_transaction(&self, transaction_id: &str) -> Result<Transaction, Error> {
        self.get(format!("/transactions/{}", seg(transaction_id)), Vec::new())
            .await
    }

    /// `GET /transactions`.
    pub async fn list_transactions(&self, range: Range, paging: Paging) -> Result<TransactionPage, Error> {
        let mut q = Self::paged(paging);
        range_query(range, &mut q);
        self.get("/transactions".into(), q).await
    }

    // --- events ---

    /// `GET /events`: up to `limit` events after `after` (of `types`; empty:
    /// all), holding an empty answer up to `wait` seconds (0–30).
    pub async fn events(
        &self,
        after: i64,
        limit: u32,
        types: &[&str],
        wait: u32,
    ) -> Result<EventPage, Error> {
        let mut call = self.call(Method::GET, "/events".into());
        call.query = vec![
            ("after", after.to_string()),
            ("limit", limit.to_string()),
            ("wait", wait.to_string()),
        ];
        if !types.is_empty() {
            call.query.push(("types", types.join(",")));
        }
        call.timeout += Duration::from_secs(u64::from(wait));
        self.json(call, 200).await
    }

    /// `GET /events/stream`: the live stream after `after` (`None`: only
    /// events from now on; `Some(0)`: all) of `types` (empty: all). It
    /// reconnects when the connection drops, resuming after the last `seq`
    /// it yielded; it ends with an error when the server refuses it, or
    /// when the retry policy's attempts all fail to reconnect.
    pub fn events_stream(&self, after: Option<i64>, types: &[&str]) -> EventStream {
        stream::open(self.clone(), after, types.join(","))
    }

    // --- webhooks ---

    /// `POST /webhooks`: the reply is the only one with the secret.
    pub async fn create_webhook(&self, body: &NewWebhookBody) -> Result<WebhookCreated, Error> {
        let call = Self::with_body(self.call(Method::POST, "/webhooks".into()), body)?;
        self.json(call, 201).await
    }

    /// `GET /webhooks`.
    pub async fn list_webhooks(&self) -> Result<WebhookList, Error> {
        self.get("/webhooks".into(), Vec::new()).await
    }

    /// `GET /webhooks/{webhookId}`.
    pub async fn get_webhook(&self, webhook_id: &str) -> Result<Webhook, Error> {
        self.get(format!("/webhooks/{}", seg(webhook_id)), Vec::new())
            .await
    }

    /// `DELETE /webhooks/{webhookId}`.
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), Error> {
        self.empty(
            self.call(Method::DELETE, format!("/webhooks/{}", seg(webhook_id))),
            204,
        )
        .await
    }

    /// `GET /webhooks/{webhookId}/deliveries`, of `status` (`Pending`,
    /// `Delivered`, `Failed`, `Dead`; `None`: all).
    pub async fn list_deliveries(
        &self,
        webhook_id: &str,
        status: Option<&str>,
        paging: Paging,
    ) -> Result<DeliveryPage, Error> {
        let mut q = Self::paged(paging);
        if let Some(s) = status {
            q.push(("status", s.to_owned()));
        }
        self.get(format!("/webhooks/{}/deliveries", seg(webhook_id)), q)
            .await
    }

    /// `POST /webhooks/{webhookId}/replay`: every matching event after
    /// `after` is sent again (202).
    pub async fn replay_webhook(&self, webhook_id: &str, after: i64) -> Result<(), Error> {
        let path = format!("/webhooks/{}/replay", seg(webhook_id));
        let call = Self::with_body(self.call(Method::POST, path), &ReplayBody { after })?;
        self.empty(call, 202).await
    }
}

fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, Error> {
    serde_json::from_slice(&answer.body).map_err(|_| Error::Unexpected {
        http: answer.http,
        body: String::from_utf8_lossy(&answer.body).chars().take(500).collect(),
    })
}

/// A `POST /transactions` answer other than 201.
fn posted(http: u16, reply: Option<Reply>, retried: bool, raw: &[u8]) -> Result<Posted, Error> {
    match reply {
        Some(Reply::Transaction(t)) if t.status == TransactionStatus::Failed => Ok(Posted::Failed(t)),
        Some(Reply::Duplicate(duplicate)) => Ok(Posted::Duplicate { duplicate, retried }),
        Some(Reply::Error(e)) => Err(Error::Api {
            http,
            code: e.status,
            message: e.message,
        }),
        Some(Reply::Transaction(_)) | None => Err(error::refusal(http, raw)),
    }
}

fn range_query(range: Range, q: &mut Vec<(&'static str, String)>) {
    if let Some(from) = range.from {
        q.push(("from", from.to_string()));
    }
    if let Some(to) = range.to {
        q.push(("to", to.to_string()));
    }
}

fn filter_query(filter: &ItemsFilter, q: &mut Vec<(&'static str, String)>) {
    if let Some(t) = &filter.item_type {
        q.push(("itemType", t.clone()));
    }
    if let Some(s) = filter.status {
        q.push(("status", s.as_str().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("alice-1_x.y~"), "alice-1_x.y~");
        assert_eq!(seg("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(seg("é"), "%C3%A9");
    }

    #[test]
    fn next_page_stops_after_the_last() {
        let page = |page, total| AssetPage {
            items: Vec::new(),
            page,
            page_size: 20,
            total,
        };
        assert_eq!(
            page(0, 41).next_page(),
            Some(Paging {
                page: 1,
                page_size: 20
            })
        );
        assert_eq!(page(2, 41).next_page(), None);
        assert_eq!(page(0, 20).next_page(), None);
        assert_eq!(page(0, 0).next_page(), None);
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(Client::new("http://127.0.0.1:8080/", "ak_x").is_ok());
        assert!(matches!(
            Client::new("127.0.0.1:8080", "ak_x"),
            Err(Error::BaseUrl(_))
        ));
        assert!(matches!(Client::new("ftp://h", "ak_x"), Err(Error::BaseUrl(_))));
    }
}
