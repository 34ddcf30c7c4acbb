//! [`conformance_suite!`]: every conformance test, instantiated for one
//! backend.

/// Expands to one `#[tokio::test]` per conformance function, named
/// `<backend>_<function>`, each on a fresh database of the harness:
///
/// ```text
/// wallet_testkit::conformance_suite!(sqlite, wallet_testkit::SqliteHarness);
/// // cargo test sqlite_       runs the SQLite list
/// ```
///
/// A second backend is one more line with its own harness. The crate that
/// expands it needs `tokio` (`macros`, `rt-multi-thread`) as a dependency.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ident, $harness:expr) => {
        // A test may carry attributes (`#[ignore = "known bug: ..."]`): they
        // apply to every backend's instance.
        $crate::conformance_suite!(@each $backend, $harness, [
            // concurrency
            concurrent_v2_redeems_never_overdraw,
            concurrent_v1_spends_never_overdraw,
            concurrent_ring_transfers_conserve_the_total,
            concurrent_item_use_marks_once,
            concurrent_upserts_create_a_customer_once,
            concurrent_asset_creates_take_a_code_once,
            // atomicity
            a_transfer_whose_fee_cannot_be_paid_applies_nothing,
            a_transaction_touching_a_suspended_wallet_fails_whole,
            a_transfer_across_assets_fails_whole,
            a_batch_applies_each_transaction_on_its_own,
            // idempotency
            one_reference_posted_concurrently_applies_once,
            a_used_reference_never_applies_another_payload,
            a_failed_transaction_spends_its_reference,
            references_are_per_project,
            // statuses
            suspending_a_customer_suspends_its_wallets_and_refuses_transactions,
            resuming_opens_exactly_the_listed_wallets,
            closing_needs_a_zero_balance_and_is_final,
            deleting_a_customer_needs_every_wallet_closed,
            a_used_asset_cannot_be_deleted,
            // isolation
            an_authority_never_reaches_another_project,
            a_customer_key_reads_only_its_own_customer,
            customer_callers_cannot_post,
            // credentials
            a_revoked_authority_writes_nothing,
            an_expired_caller_writes_nothing,
            a_revocation_racing_posts_cuts_them_cleanly,
            maintenance_refuses_every_write_but_the_operators,
            a_maintenance_switch_racing_posts_cuts_them_cleanly,
            // default wallets and checked arithmetic
            a_v2_wallet_in_the_default_asset_is_the_v1_wallet,
            concurrent_first_entries_open_one_default_wallet,
            concurrent_wallet_opens_make_one_default,
            an_issue_past_i64_max_fails_whole,
            a_running_total_past_i64_never_refuses_a_legal_posting,
            // events
            concurrent_writes_number_events_without_gaps_and_replay_to_the_balances,
            a_transaction_records_its_events_in_order_with_their_data,
            a_failed_transaction_records_only_its_failure_and_a_duplicate_nothing,
            a_v1_entry_for_a_new_user_records_the_same_events,
            catalog_changes_record_their_events,
            expiries_record_hold_expired_and_lot_expired,
            a_storage_fault_at_any_write_records_no_event,
            a_customer_stream_carries_only_its_own_events,
            event_seqs_are_per_project,
            webhooks_queue_lease_deliver_and_replay,
            a_webhook_run_of_attempts_is_recorded_in_one_write,
            pruning_keeps_a_signed_anchor_the_chain_verifies_from,
            // holds
            concurrent_holds_never_reserve_more_than_is_available,
            a_capture_and_a_void_racing_on_one_hold_one_wins,
            concurrent_partial_captures_never_take_more_than_the_hold,
            a_partial_capture_then_a_capture_of_the_rest,
            nothing_is_captured_from_expires_at_on,
            a_hold_goes_with_its_transaction_all_or_nothing,
            a_hold_id_is_taken_once_per_project,
            a_batch_refuses_a_past_expiry_before_anything_is_recorded,
            // credit limits
            a_credit_limit_lets_a_balance_go_down_to_minus_the_limit_and_no_further,
            a_wallet_with_open_holds_cannot_be_closed,
            // items
            a_trade_is_all_or_nothing_both_ways,
            concurrent_sales_and_uses_of_one_item_one_wins,
            api_v1_and_v2_agree_on_items,
            a_customer_key_reads_only_its_own_items_and_writes_none,
            an_item_id_is_taken_once_per_project,
            item_properties_are_kept_exactly,
            items_move_only_between_known_active_owners,
            a_duplicate_reference_answers_the_items_of_the_stored_transaction,
            an_owners_items_are_listed_oldest_first_and_filtered,
            // lots
            lots_are_spent_soonest_expiring_first_then_plain_value,
            nothing_is_spent_from_a_lot_at_or_after_its_expiry,
            each_due_lot_expires_once_in_a_transaction_of_its_own,
            a_transfer_carries_expiry,
            a_void_after_the_lot_expired_expires_the_part_at_once,
            a_capture_moves_earmarked_parts_with_their_expiry,
            a_partial_capture_keeps_the_earmarks_it_does_not_take,
            a_lot_that_expired_while_no_server_ran_expires_at_the_first_pass,
            concurrent_redeems_from_lots_never_take_more_than_there_is,
            an_expiry_racing_spends_of_the_same_lots_conserves_value,
            a_wallet_shows_what_expires_when,
            a_wallet_read_follows_its_lots_as_they_form_are_spent_and_expire,
            a_wallets_lots_page_and_filter_for_who_may_read_them,
            an_export_carries_lots_their_history_and_earmarks,
            // check
            check_holds_after_a_mixed_concurrent_load,
            // storage faults
            a_storage_fault_at_any_write_of_a_transaction_applies_nothing,
            a_storage_fault_at_any_write_of_a_v1_entry_applies_nothing,
            a_storage_fault_at_any_write_of_a_hold_transaction_applies_nothing,
            reads_keep_working_while_writes_fail,
            a_storage_fault_at_any_write_of_an_item_transaction_applies_nothing,
            a_storage_fault_at_any_write_of_a_lot_transaction_applies_nothing,
            the_overview_sums_real_activity_per_utc_day_and_minute,
            the_search_finds_each_kind_of_id_in_the_project_only,
        ]);
    };
    (@each $backend:ident, $harness:expr, [$($(#[$meta:meta])* $test:ident),* $(,)?]) => {
        $crate::__private::pastey::paste! {
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<$backend _ $test>]() {
                    $crate::conformance::run(&$harness, $crate::conformance::$test).await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of the conformance modules is in the list above:
    /// a test written but not listed would never run.
    #[test]
    fn every_conformance_function_is_in_the_suite() {
        let suite = include_str!("suite.rs");
        let modules = [
            include_str!("conformance/atomicity.rs"),
            include_str!("conformance/check.rs"),
            include_str!("conformance/concurrency.rs"),
            include_str!("conformance/credentials.rs"),
            include_str!("conformance/credit.rs"),
            include_str!("conformance/defaults.rs"),
            include_str!("conformance/faults.rs"),
            include_str!("conformance/holds.rs"),
            include_str!("conformance/idempotency.rs"),
            include_str!("conformance/item_rules.rs"),
            include_str!("conformance/items.rs"),
            include_str!("conformance/lots.rs"),
            include_str!("conformance/overview.rs"),
            include_str!("conformance/isolation.rs"),
            include_str!("conformance/statuses.rs"),
        ];
        let mut found = 0;
        for source in modules {
            for line in source.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else {
                    continue;
                };
                let name = rest.split('(').next().unwrap_or_default();
                assert!(
                    suite.contains(&format!("            {name},\n")),
                    "{name} is not in conformance_suite!"
                );
                found += 1;
            }
        }
        assert_eq!(found, 74, "the number of conformance tests");
    }
}
