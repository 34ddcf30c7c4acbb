//! Webhook delivery, per the Standard Webhooks specification.
//!
//! - [`signing`]: `whsec_<base64>` secrets and the `webhook-signature`
//!   header (`v1,<base64 HMAC-SHA256(secret, "<id>.<ts>.<body>")>`).
//! - [`key`]: the server's key (32 random bytes in a file), from which
//!   every endpoint's secret is derived (never stored) and with which
//!   `events prune` signs its anchors.
//! - [`policy`]: which URLs and addresses a webhook may reach (no loopback,
//!   private, link-local or metadata address unless allowed), checked at
//!   registration and on the resolved addresses at every delivery.
//! - [`sender`]: one signed POST of an event, and what it came to.
//! - [`worker`]: the loop that delivers every endpoint's queue, one task
//!   per leased endpoint, woken by the events bell.

pub mod key;
pub mod policy;
pub mod sender;
pub mod signing;
pub mod worker;

pub use key::{KeyError, ServerKey};
pub use policy::{AddressPolicy, InvalidUrl};
pub use sender::Sender;
pub use signing::Secret;
pub use worker::{WebhookWorker, WorkerConfig};
