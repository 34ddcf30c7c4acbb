//! The admin dashboard's overview of a project: what exists of each asset,
//! what moved per UTC day and per minute, what Open holds reserve, and how
//! each webhook fares.
//!
//! A backend answers [`LedgerStats`] ([`crate::port::ReadTx::ledger_stats`])
//! sparsely — only the days and minutes that had activity — from indexed
//! ranges of the last 30 days' transactions; [`Overview::assemble`] fills
//! in the zeros, so every backend's answer becomes the same dense series.

use crate::events::{Delivery, Webhook, WebhookHealth};
use crate::ids::AssetId;
use crate::model::{Asset, Millis};

/// One UTC day, in milliseconds.
pub const DAY: Millis = 86_400_000;
/// One minute, in milliseconds.
pub const MINUTE: Millis = 60_000;
/// Days in the daily series (today included).
pub const DAYS: i64 = 30;
/// Minutes in the per-minute series (this minute included).
pub const MINUTES: i64 = 60;

/// What an overview at `now` covers: the [`DAYS`] UTC days ending with
/// today, and the [`MINUTES`] minutes ending with this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewWindow {
    /// The start of the first day.
    pub days_from: Millis,
    /// The start of the first minute.
    pub minutes_from: Millis,
    /// The end (exclusive) of both series: the end of this minute.
    pub to: Millis,
}

impl AssetStats {
    /// An asset with no wallet and no hold.
    pub fn none(asset: AssetId) -> Self {
        Self {
            asset,
            supply: 0,
            wallets: 0,
            open_holds: 0,
            held: 0,
        }
    }
}

impl DayStats {
    /// A day of `asset` with nothing yet.
    pub fn none(asset: AssetId, day: Millis) -> Self {
        Self {
            asset,
            day,
            issued: 0,
            redeemed: 0,
            expired: 0,
        }
    }
}

impl OverviewWindow {
    pub fn at(now: Millis) -> Self {
        let today = now.div_euclid(DAY) * DAY;
        let minute = now.div_euclid(MINUTE) * MINUTE;
        Self {
            days_from: today - (DAYS - 1) * DAY,
            minutes_from: minute - (MINUTES - 1) * MINUTE,
            to: minute + MINUTE,
        }
    }
}

/// Per asset, what its wallets hold and what its Open holds reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetStats {
    pub asset: AssetId,
    /// The sum of its wallets' balances: issued − redeemed − expired.
    pub supply: i128,
    pub wallets: u64,
    pub open_holds: u64,
    /// What its Open holds still reserve (their `remaining`).
    pub held: i128,
}

/// One asset's totals on one UTC day (a day with none has no row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayStats {
    pub asset: AssetId,
    /// The start of the day (UTC midnight).
    pub day: Millis,
    /// The `Issue` entries' amounts.
    pub issued: i128,
    /// The `Redeem` entries' amounts, as a positive number.
    pub redeemed: i128,
    /// The `Expire` entries' amounts (lots that expired), as a positive number.
    pub expired: i128,
}

/// What a backend answers for [`OverviewWindow`]: only the assets that
/// have a wallet, the days and the minutes that had activity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerStats {
    pub assets: Vec<AssetStats>,
    pub days: Vec<DayStats>,
    /// (start of the minute, Completed transactions in it).
    pub minutes: Vec<(Millis, u64)>,
}

/// One day of an asset's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayTotals {
    pub day: Millis,
    pub issued: i128,
    pub redeemed: i128,
    pub expired: i128,
}

/// One asset on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetOverview {
    pub asset: Asset,
    pub supply: i128,
    pub wallets: u64,
    pub open_holds: u64,
    pub held: i128,
    /// [`DAYS`] days, oldest first, zeros included.
    pub days: Vec<DayTotals>,
}

/// One webhook on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOverview {
    pub webhook: Webhook,
    pub health: WebhookHealth,
    /// Its newest attempt, of any status.
    pub last_delivery: Option<Delivery>,
    /// Events of the project after its cursor: not settled for it yet (an
    /// upper bound when it receives only some types).
    pub backlog: i64,
}

/// A project's overview, dense: every asset, every day, every minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub window: OverviewWindow,
    pub assets: Vec<AssetOverview>,
    /// [`MINUTES`] minutes, oldest first: (start, Completed transactions).
    pub minutes: Vec<(Millis, u64)>,
    pub webhooks: Vec<WebhookOverview>,
    /// The project's event head (`seq`): where a live feed starts.
    pub head: i64,
}

impl Overview {
    /// Fills the backend's sparse answer in: every asset of the project
    /// (zero where it has no wallet), every day and minute of the window.
    pub fn assemble(
        window: OverviewWindow,
        assets: Vec<Asset>,
        stats: &LedgerStats,
        webhooks: Vec<WebhookOverview>,
        head: i64,
    ) -> Self {
        let assets = assets
            .into_iter()
            .map(|asset| {
                let own = stats.assets.iter().find(|s| s.asset == asset.id).copied();
                let own = own.unwrap_or_else(|| AssetStats::none(asset.id));
                let days = (0..DAYS)
                    .map(|n| {
                        let day = window.days_from + n * DAY;
                        stats
                            .days
                            .iter()
                            .filter(|d| d.asset == asset.id && d.day == day)
                            .fold(
                                DayTotals {
                                    day,
                                    ..DayTotals::default()
                                },
                                |t, d| DayTotals {
                                    day,
                                    issued: t.issued + d.issued,
                                    redeemed: t.redeemed + d.redeemed,
                                    expired: t.expired + d.expired,
                                },
                            )
                    })
                    .collect();
                AssetOverview {
                    asset,
                    supply: own.supply,
                    wallets: own.wallets,
                    open_holds: own.open_holds,
                    held: own.held,
                    days,
                }
            })
            .collect();
        let minutes = (0..MINUTES)
            .map(|n| {
                let minute = window.minutes_from + n * MINUTE;
                let count = stats
                    .minutes
                    .iter()
                    .filter(|(m, _)| *m == minute)
                    .map(|(_, c)| c)
                    .sum();
                (minute, count)
            })
            .collect();
        Self {
            window,
            assets,
            minutes,
            webhooks,
            head,
        }
    }
}

/// What a search of the admin page found: each kind the text could name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchHits {
    /// The transaction with this `referenceId`.
    pub by_reference: Option<crate::model::Transaction>,
    /// The transaction with this id.
    pub transaction: Option<crate::model::Transaction>,
    pub customer: Option<crate::model::Customer>,
    pub item: Option<crate::model::Item>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_thirty_utc_days_and_sixty_minutes_up_to_now() {
        // 2026-03-04T05:06:07.890Z
        let now = 1_772_600_767_890;
        let w = OverviewWindow::at(now);
        assert_eq!(w.to, 1_772_600_820_000, "the end of this minute");
        assert_eq!(w.minutes_from, w.to - 60 * MINUTE);
        assert_eq!(w.days_from % DAY, 0, "a UTC midnight");
        assert_eq!(
            w.days_from,
            1_772_582_400_000 - 29 * DAY,
            "today and the 29 days before"
        );
    }

    #[test]
    fn assembling_fills_every_day_and_minute_with_zeros() {
        let w = OverviewWindow::at(100 * DAY + 5 * MINUTE);
        let asset = |id| Asset {
            id: AssetId::new(id),
            code: format!("A{id}"),
            name: String::new(),
            fractions: 1,
            used: true,
            created_at: 0,
        };
        let stats = LedgerStats {
            assets: vec![AssetStats {
                asset: AssetId::new(1),
                supply: 7,
                wallets: 2,
                open_holds: 1,
                held: 3,
            }],
            days: vec![DayStats {
                asset: AssetId::new(1),
                day: 100 * DAY,
                issued: 10,
                redeemed: 2,
                expired: 1,
            }],
            minutes: vec![(100 * DAY + 5 * MINUTE, 4)],
        };
        let o = Overview::assemble(w, vec![asset(1), asset(2)], &stats, Vec::new(), 9);
        assert_eq!(o.assets.len(), 2);
        assert_eq!(o.assets[0].days.len(), 30);
        assert_eq!(o.assets[0].days[29].issued, 10, "today is last");
        assert_eq!(
            o.assets[0].days[28],
            DayTotals {
                day: 99 * DAY,
                ..DayTotals::default()
            }
        );
        assert_eq!((o.assets[1].supply, o.assets[1].days.len()), (0, 30));
        assert_eq!(o.minutes.len(), 60);
        assert_eq!(o.minutes[59], (100 * DAY + 5 * MINUTE, 4));
        assert_eq!(o.minutes.iter().map(|(_, c)| c).sum::<u64>(), 4);
    }
}
