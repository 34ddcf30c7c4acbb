//! What `check` found: the invariants of `docs/model.md`, verified on a whole
//! store by its backend. Empty lists mean every invariant holds.

/// What `check` found on a store.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    /// `full`, or `incremental`: only what came after `from`.
    pub mode: CheckMode,
    /// The checkpoint an incremental check started from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Checkpoint>,
    /// What this check covered, to record as the next checkpoint if it
    /// found no violation.
    #[serde(skip)]
    pub next: Option<Checkpoint>,
    pub wallets: i64,
    pub entries: i64,
    pub transactions: i64,
    pub items: i64,
    pub lots: i64,
    /// Wallets whose balance differs from the sum of their entries, or whose
    /// last entry's balance_after differs from the balance.
    pub balance_mismatches: Vec<String>,
    /// Wallets below what their credit limit allows (`balance <
    /// -credit_limit`, or `balance - held < -credit_limit`), with a negative
    /// `held`, or past `i64::MAX` with their limit; entries whose
    /// `balance_after` is below the largest credit limit.
    pub negative_balances: Vec<String>,
    /// Wallets whose `held` differs from the sum of `remaining` of their
    /// Open holds.
    pub held_mismatches: Vec<String>,
    /// Holds whose own numbers do not add up (`captured + remaining >
    /// amount`, a final hold with something remaining, an Open one with
    /// nothing), or that cross assets or projects with their wallets.
    pub hold_mismatches: Vec<String>,
    /// Assets where sum of balances != issued - redeemed - expired.
    pub asset_mismatches: Vec<String>,
    /// Transfers whose two sides are in different assets or projects, or do
    /// not cancel out.
    pub transfer_mismatches: Vec<String>,
    /// Failed transactions that left entries behind.
    pub failed_with_entries: Vec<String>,
    /// Per-authority totals that differ from the sum of that authority's entries.
    pub authority_total_mismatches: Vec<String>,
    /// Items whose owner is not a customer of their project; whose history
    /// does not start with its grant, has a step after a consumption, or
    /// does not replay to the item's owner, status and properties; and
    /// project + item types where Active items differ from granted minus
    /// consumed.
    pub item_mismatches: Vec<String>,
    /// Wallets whose Open lots hold more than `max(balance, 0)`, or whose
    /// Expire entries differ from their lots' Expire steps; lots whose own
    /// numbers do not add up (`0 <= earmarked <= remaining <= amount`, Open
    /// iff something remains, Spent with an Expire step), whose history
    /// (`amount` and every step) does not replay to their `remaining` and
    /// `earmarked`, or whose `earmarked` differs from what Open holds
    /// earmark of them; earmarks of holds that are not Open, of another
    /// wallet than the hold's source, or more than the hold's `remaining`.
    pub lot_mismatches: Vec<String>,
    /// Projects whose event head is not their last event (or, with none
    /// left, their pruning anchor), whose events are not numbered anchor + 1
    /// to head with no gap, or that have events but no head; deliveries of
    /// no webhook, or of an event past their project's head. (The hash
    /// chain itself is `verify`'s.)
    pub event_mismatches: Vec<String>,
    pub integrity: Vec<String>,
}
impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.balance_mismatches.is_empty()
            && self.negative_balances.is_empty()
            && self.held_mismatches.is_empty()
            && self.hold_mismatches.is_empty()
            && self.asset_mismatches.is_empty()
            && self.transfer_mismatches.is_empty()
            && self.failed_with_entries.is_empty()
            && self.authority_total_mismatches.is_empty()
            && self.item_mismatches.is_empty()
            && self.lot_mismatches.is_empty()
            && self.event_mismatches.is_empty()
            && self.integrity.is_empty()
    }
}

impl CheckReport {
    /// An empty report of the mode `from` makes: incremental from it, or full.
    pub fn starting(from: Option<&Checkpoint>) -> Self {
        CheckReport {
            mode: if from.is_some() {
                CheckMode::Incremental
            } else {
                CheckMode::Full
            },
            from: from.cloned(),
            ..CheckReport::default()
        }
    }
}

/// Numbers a check's phases for its progress report: `name (n/of)`.
pub struct Phases<'p> {
    started: usize,
    of: usize,
    progress: &'p dyn crate::progress::Progress,
}

impl<'p> Phases<'p> {
    pub fn new(of: usize, progress: &'p dyn crate::progress::Progress) -> Self {
        Self {
            started: 0,
            of,
            progress,
        }
    }

    /// Says the next phase, `name`, starts.
    pub fn start(&mut self, name: &str) {
        self.started += 1;
        self.progress
            .phase(&format!("{name} ({}/{})", self.started, self.of), None);
    }
}

/// Whether a check looked at everything or only at what came after a
/// checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    #[default]
    Full,
    Incremental,
}

/// What a check that found no violation covered: the largest ids it saw,
/// per asset issued - redeemed - expired up to `entry_id`, and per project
/// its event head. An incremental check trusts every row at or below these
/// ids (`verify`'s hash chain covers that history) and checks what is
/// after them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    pub entry_id: i64,
    pub transaction_id: i64,
    pub item_step_id: i64,
    pub lot_step_id: i64,
    /// When it was recorded (Unix ms; 0 before it is).
    pub created_at: i64,
    /// Per asset row id: issued - redeemed - expired.
    #[serde(skip)]
    pub assets: Vec<(i64, i128)>,
    /// Per project: its event head's seq.
    #[serde(skip)]
    pub heads: Vec<(String, i64)>,
    /// How many entries, transactions, item steps and lot steps the check
    /// saw above the checkpoint it started from (all of them for a full
    /// check) and at or below these ids: a backend with several writers
    /// records the checkpoint only if no row at or below them committed
    /// after the check's snapshot.
    #[serde(skip)]
    pub seen: CheckpointSeen,
}

/// Rows a check saw between the checkpoint it started from (`base`, or 0)
/// and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointSeen {
    pub base: [i64; 4],
    pub counts: [i64; 4],
}
