//! The lot invariants (`spec/lots.md`, `CheckReport::lot_mismatches`) in
//! SQL: per wallet, per lot, per earmark. Sums are `NUMERIC`, compared
//! exactly; each list is capped like the others (`LIMIT 100`).

/// Per wallet: its Open lots hold at most `max(balance, 0)`, and its
/// Expire entries are exactly minus its lots' Expire steps.
pub(super) const WALLETS: &str = "
    (SELECT 'wallet ' || w.id || ': its Open lots hold ' || s.open || ' of a balance of ' || w.balance
     FROM wallets w
     JOIN (SELECT wallet_id, sum(remaining) AS open FROM lots WHERE status = 'Open' GROUP BY wallet_id) s
       ON s.wallet_id = w.id
     WHERE s.open > greatest(w.balance, 0)
     ORDER BY w.id LIMIT 100)
    UNION ALL
    (SELECT 'wallet ' || x.wallet_id || ': its Expire entries sum to ' || x.entries
            || ' but its lots'' Expire steps to ' || x.steps
     FROM (SELECT coalesce(e.wallet_id, s.wallet_id) AS wallet_id,
                  coalesce(e.total, 0) AS entries, coalesce(s.total, 0) AS steps
           FROM (SELECT wallet_id, sum(amount) AS total FROM entries WHERE kind = 'Expire'
                 GROUP BY wallet_id) e
           FULL JOIN (SELECT l.wallet_id, sum(t.amount) AS total
                      FROM lot_steps t JOIN lots l ON l.id = t.lot_id
                      WHERE t.kind = 'Expire' GROUP BY l.wallet_id) s
                  ON s.wallet_id = e.wallet_id) x
     WHERE x.entries <> -x.steps
     ORDER BY x.wallet_id LIMIT 100)";

/// Per lot: its own numbers (`0 <= earmarked <= remaining <= amount`, Open
/// exactly while something remains, a known status), no Expire step in a
/// Spent one, its history (`amount` and each step's effect, as
/// `LotStepKind::effect` says) replaying to its `remaining` and
/// `earmarked`, steps of a known kind and a positive amount, and a
/// transaction (its own and its steps') that completed, in its wallet's
/// project.
pub(super) const LOTS: &str = "
    (SELECT 'lot ' || id || ' (' || status || '): amount ' || amount || ', remaining ' || remaining
            || ', earmarked ' || earmarked
     FROM lots
     WHERE amount <= 0 OR earmarked < 0 OR earmarked > remaining OR remaining > amount
        OR status NOT IN ('Open', 'Spent', 'Expired') OR (status = 'Open') <> (remaining > 0)
     ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': Spent, but its history has an Expire step'
     FROM lots l
     WHERE l.status = 'Spent'
       AND EXISTS (SELECT 1 FROM lot_steps t WHERE t.lot_id = l.id AND t.kind = 'Expire')
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': remaining ' || l.remaining || ' and earmarked ' || l.earmarked
            || ', but its history replays to ' || (l.amount + coalesce(h.remaining, 0))
            || ' and ' || coalesce(h.earmarked, 0)
     FROM lots l
     LEFT JOIN (SELECT lot_id,
                       sum(CASE WHEN kind IN ('Spend', 'Expire', 'Capture') THEN -amount ELSE 0 END)
                           AS remaining,
                       sum(CASE kind WHEN 'Earmark' THEN amount WHEN 'Release' THEN -amount
                                     WHEN 'Capture' THEN -amount ELSE 0 END) AS earmarked
                FROM lot_steps GROUP BY lot_id) h ON h.lot_id = l.id
     WHERE l.amount + coalesce(h.remaining, 0) <> l.remaining OR coalesce(h.earmarked, 0) <> l.earmarked
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || lot_id || ', step ' || id || ': kind ' || kind || ', amount ' || amount
     FROM lot_steps
     WHERE amount <= 0 OR kind NOT IN ('Spend', 'Earmark', 'Release', 'Capture', 'Expire')
     ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': its transaction ' || l.transaction_id
            || ' is Failed or of another project than its wallet'
     FROM lots l JOIN wallets w ON w.id = l.wallet_id JOIN transactions t ON t.id = l.transaction_id
     WHERE t.project_id <> w.project_id OR t.status <> 'Completed'
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ', step ' || s.id || ': its transaction ' || s.transaction_id
            || ' is Failed or of another project than the lot''s wallet'
     FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
     JOIN transactions t ON t.id = s.transaction_id
     WHERE t.project_id <> w.project_id OR t.status <> 'Completed'
     ORDER BY s.id LIMIT 100)";

/// Earmarks: a lot's `earmarked` is what Open holds earmark of it; only an
/// Open hold earmarks, only lots of its source wallet, a positive part of
/// each, and in all at most its `remaining`.
pub(super) const EARMARKS: &str = "
    (SELECT 'lot ' || l.id || ': earmarked ' || l.earmarked || ', but Open holds earmark '
            || coalesce(e.total, 0) || ' of it'
     FROM lots l
     LEFT JOIN (SELECT m.lot_id, sum(m.amount) AS total
                FROM hold_lots m JOIN holds h ON h.id = m.hold_id
                WHERE h.status = 'Open' GROUP BY m.lot_id) e ON e.lot_id = l.id
     WHERE l.earmarked <> coalesce(e.total, 0)
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'hold ' || h.id || ' (' || h.public_id || ', ' || h.status || '): earmarks ' || m.amount
            || ' of lot ' || m.lot_id
            || CASE WHEN h.status <> 'Open' THEN ', but is not Open'
                    WHEN m.amount <= 0 THEN ', not a part'
                    ELSE ', a lot of wallet ' || l.wallet_id || ', not of its source ' || h.source_id END
     FROM hold_lots m JOIN holds h ON h.id = m.hold_id JOIN lots l ON l.id = m.lot_id
     WHERE h.status <> 'Open' OR m.amount <= 0 OR l.wallet_id <> h.source_id
     ORDER BY h.id, m.lot_id LIMIT 100)
    UNION ALL
    (SELECT 'hold ' || h.id || ' (' || h.public_id || '): its earmarks sum to ' || s.total
            || ', past what remains of it, ' || h.remaining
     FROM holds h JOIN (SELECT hold_id, sum(amount) AS total FROM hold_lots GROUP BY hold_id) s
       ON s.hold_id = h.id
     WHERE s.total > h.remaining
     ORDER BY h.id LIMIT 100)";

/// Incremental `WALLETS`: the wallets with an entry after the checkpoint
/// (`$1`, through the primary key of `entries`), with a lot step after it
/// (`$2`) or a lot of a transaction after it (`$3`; one scan of `lots`),
/// through `entries_by_wallet_time` and `lots_by_wallet`.
pub(super) const NEW_WALLETS: &str = "
    WITH touched AS MATERIALIZED (
        SELECT wallet_id FROM entries WHERE id > $1
        UNION SELECT l.wallet_id FROM lot_steps s JOIN lots l ON l.id = s.lot_id WHERE s.id > $2
        UNION SELECT wallet_id FROM lots WHERE transaction_id > $3)
    (SELECT 'wallet ' || w.id || ': its Open lots hold ' || s.open || ' of a balance of ' || w.balance
     FROM touched x JOIN wallets w ON w.id = x.wallet_id
     CROSS JOIN LATERAL (SELECT sum(remaining) AS open FROM lots
                         WHERE wallet_id = w.id AND status = 'Open') s
     WHERE s.open > greatest(w.balance, 0)
     ORDER BY w.id LIMIT 100)
    UNION ALL
    (SELECT 'wallet ' || x.wallet_id || ': its Expire entries sum to ' || x.entries
            || ' but its lots'' Expire steps to ' || x.steps
     FROM (SELECT t.wallet_id,
                  coalesce((SELECT sum(e.amount) FROM entries e
                            WHERE e.wallet_id = t.wallet_id AND e.kind = 'Expire'), 0) AS entries,
                  coalesce((SELECT sum(s.amount) FROM lots l JOIN lot_steps s ON s.lot_id = l.id
                            WHERE l.wallet_id = t.wallet_id AND s.kind = 'Expire'), 0) AS steps
           FROM touched t) x
     WHERE x.entries <> -x.steps
     ORDER BY x.wallet_id LIMIT 100)";

/// Incremental `LOTS`: the lots with a step after the checkpoint (`$1`,
/// through the primary key of `lot_steps`) or of a transaction after it
/// (`$2`; one scan of `lots`), each history whole, and the steps after it.
pub(super) const NEW_LOTS: &str = "
    WITH touched AS MATERIALIZED (SELECT lot_id FROM lot_steps WHERE id > $1
                                  UNION SELECT id FROM lots WHERE transaction_id > $2)
    (SELECT 'lot ' || l.id || ' (' || l.status || '): amount ' || l.amount || ', remaining ' || l.remaining
            || ', earmarked ' || l.earmarked
     FROM touched x JOIN lots l ON l.id = x.lot_id
     WHERE l.amount <= 0 OR l.earmarked < 0 OR l.earmarked > l.remaining OR l.remaining > l.amount
        OR l.status NOT IN ('Open', 'Spent', 'Expired') OR (l.status = 'Open') <> (l.remaining > 0)
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': Spent, but its history has an Expire step'
     FROM touched x JOIN lots l ON l.id = x.lot_id
     WHERE l.status = 'Spent'
       AND EXISTS (SELECT 1 FROM lot_steps t WHERE t.lot_id = l.id AND t.kind = 'Expire')
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': remaining ' || l.remaining || ' and earmarked ' || l.earmarked
            || ', but its history replays to ' || (l.amount + coalesce(h.remaining, 0))
            || ' and ' || coalesce(h.earmarked, 0)
     FROM touched x JOIN lots l ON l.id = x.lot_id
     CROSS JOIN LATERAL (
         SELECT sum(CASE WHEN kind IN ('Spend', 'Expire', 'Capture') THEN -amount ELSE 0 END) AS remaining,
                sum(CASE kind WHEN 'Earmark' THEN amount WHEN 'Release' THEN -amount
                              WHEN 'Capture' THEN -amount ELSE 0 END) AS earmarked
         FROM lot_steps WHERE lot_id = l.id) h
     WHERE l.amount + coalesce(h.remaining, 0) <> l.remaining OR coalesce(h.earmarked, 0) <> l.earmarked
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || lot_id || ', step ' || id || ': kind ' || kind || ', amount ' || amount
     FROM lot_steps
     WHERE id > $1 AND (amount <= 0 OR kind NOT IN ('Spend', 'Earmark', 'Release', 'Capture', 'Expire'))
     ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ': its transaction ' || l.transaction_id
            || ' is Failed or of another project than its wallet'
     FROM touched x JOIN lots l ON l.id = x.lot_id JOIN wallets w ON w.id = l.wallet_id
     JOIN transactions t ON t.id = l.transaction_id
     WHERE t.project_id <> w.project_id OR t.status <> 'Completed'
     ORDER BY l.id LIMIT 100)
    UNION ALL
    (SELECT 'lot ' || l.id || ', step ' || s.id || ': its transaction ' || s.transaction_id
            || ' is Failed or of another project than the lot''s wallet'
     FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
     JOIN transactions t ON t.id = s.transaction_id
     WHERE s.id > $1 AND (t.project_id <> w.project_id OR t.status <> 'Completed')
     ORDER BY s.id LIMIT 100)";
