//! Lots beyond posting: reading a wallet's lots, and what the server does by
//! itself — expiring what is left of a lot when its time runs out.

use super::access::readable_wallet;
use super::Ledger;
use crate::ids::WalletId;
use crate::model::{Lot, LotStatus, Millis, Page, PageRequest, Wallet};
use crate::operation::Operation;
use crate::policy::Caller;
use crate::port::ReadTx;
use crate::{LedgerError, StoreError};

/// Most lot expiries one pass posts; the next pass takes the rest.
const EXPIRY_BATCH: u32 = 256;

impl Ledger {
    /// A wallet's lots, soonest `expires_at` first (the order they are
    /// spent in), of one status or all.
    pub async fn wallet_lots(
        &self,
        caller: &Caller,
        wallet: WalletId,
        status: Option<LotStatus>,
        page: PageRequest,
    ) -> Result<Page<Lot>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                readable_wallet(r, &caller, wallet)?;
                Ok(r.wallet_lots(wallet, status, page)?)
            })
            .await
    }

    /// When the soonest Open lot with something to expire expires, if any.
    pub async fn next_lot_expiry(&self) -> Result<Option<Millis>, LedgerError> {
        self.store.read(|r| Ok(r.next_lot_expiry()?)).await
    }

    /// Expires what is left, not earmarked, of every Open lot whose
    /// `expires_at` has come, each in a transaction of its own (`referenceId`
    /// null, description `lot <id> expired`, an `Expire` entry). Returns how
    /// many it expired. Safe to run from several processes at once: each
    /// expiry locks the lot's wallet and plans on what it finds, so a lot
    /// another process expired first is left alone.
    pub async fn expire_due_lots(&self) -> Result<usize, LedgerError> {
        let now = self.now();
        let due = self
            .store
            .read(move |r| Ok::<_, LedgerError>(r.due_lots(now, EXPIRY_BATCH)?))
            .await?;
        let expiries = due.into_iter().map(|(project, wallet, lot)| {
            let description = format!("lot {lot} expired");
            (project, vec![Operation::ExpireLot { wallet, lot }], description)
        });
        self.post_expiries(expiries).await
    }

    /// When the next hold or lot expires, if any does: when the expiry
    /// worker should next look.
    pub async fn next_expiry(&self) -> Result<Option<Millis>, LedgerError> {
        self.store
            .read(|r| {
                let hold = r.next_hold_expiry()?;
                let lot = r.next_lot_expiry()?;
                Ok(hold.into_iter().chain(lot).min())
            })
            .await
    }

    /// Expires every due hold, then every due lot (a hold's expiry may give
    /// earmarked value back to a lot that is due itself): how many of each.
    /// The lots' pass runs even if the holds' failed (the first error is
    /// returned after both).
    pub async fn expire_due(&self) -> Result<(usize, usize), LedgerError> {
        let holds = self.expire_due_holds().await;
        let lots = self.expire_due_lots().await;
        Ok((holds?, lots?))
    }
}

/// Fills the wallets' `expiring` with one read: what the ledger answers
/// clients with.
pub(super) fn with_expiring(r: &mut dyn ReadTx, wallets: &mut [Wallet]) -> Result<(), StoreError> {
    if wallets.is_empty() {
        return Ok(());
    }
    let ids: Vec<WalletId> = wallets.iter().map(|w| w.id).collect();
    for (id, expiring) in r.expiring(&ids)? {
        if let Some(wallet) = wallets.iter_mut().find(|w| w.id == id) {
            wallet.expiring.push(expiring);
        }
    }
    Ok(())
}

/// One wallet, with its `expiring`.
pub(super) fn shown(r: &mut dyn ReadTx, mut wallet: Wallet) -> Result<Wallet, LedgerError> {
    with_expiring(r, std::slice::from_mut(&mut wallet))?;
    Ok(wallet)
}

/// A page of wallets, with their `expiring`.
pub(super) fn shown_page(r: &mut dyn ReadTx, mut page: Page<Wallet>) -> Result<Page<Wallet>, LedgerError> {
    with_expiring(r, &mut page.items)?;
    Ok(page)
}
