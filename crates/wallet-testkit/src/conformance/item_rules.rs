//! Items' rules (`spec/items.md`): customer keys read only their own items
//! and write none; an item id is taken once (a second grant fails
//! `CONFLICT` and spends its referenceId); properties come back as the
//! exact text sent; owners must be known, Active customers; an unknown item
//! is not found; a duplicate referenceId answers the stored transaction's
//! items as they are now; an owner's items list oldest first, filtered.

use crate::answers::{completed_touching, denial, duplicate_touching, failed, is_not_found};
use crate::fixture::{consume, grant, item_id, request, set_properties, transfer_item, Fixture};
use crate::harness::TestDb;
use wallet_core::model::{ItemFilter, ItemStatus, PageRequest};
use wallet_core::planner::FailCode;
use wallet_core::policy::NOT_YOURS;
use wallet_core::text::ItemProperties;
use wallet_core::Missing;

/// A customer key of ann reads ann's item, her items and its history; bob's
/// item, an unknown one, bob's items and the stock are refused alike (the
/// same words: it cannot tell them from missing), and it posts nothing.
pub async fn a_customer_key_reads_only_its_own_items_and_writes_none(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    for user in ["ann", "bob"] {
        fx.customer(&caller, user).await;
    }
    completed_touching(
        fx.post(
            &caller,
            vec![
                grant("anns", "sword", Some("ann"), None),
                grant("bobs", "sword", Some("bob"), None),
                grant("shelf", "sword", None, None),
            ],
        )
        .await,
    );
    let ann = fx.customer_key(&caller, "ann", None).await;
    let l = &fx.ledger;

    let mine = l.item(&ann, item_id("anns")).await.expect("her own item");
    assert_eq!(mine.owner.map(|o| o.id.into_inner()).as_deref(), Some("ann"));
    let listed = l
        .customer_items(&ann, "ann".to_owned(), ItemFilter::default(), PageRequest::ALL)
        .await
        .expect("her own items");
    assert_eq!(listed.items.len(), 1);
    let history = l
        .item_history(&ann, item_id("anns"), PageRequest::ALL)
        .await
        .expect("her item's history");
    assert_eq!(history.items.len(), 1);

    let refusals = [
        ("bob's item", l.item(&ann, item_id("bobs")).await.map(drop)),
        ("an unknown item", l.item(&ann, item_id("nope")).await.map(drop)),
        ("the stock's item", l.item(&ann, item_id("shelf")).await.map(drop)),
        (
            "bob's history",
            l.item_history(&ann, item_id("bobs"), PageRequest::ALL)
                .await
                .map(drop),
        ),
        (
            "bob's items",
            l.customer_items(&ann, "bob".to_owned(), ItemFilter::default(), PageRequest::ALL)
                .await
                .map(drop),
        ),
        (
            "the stock",
            l.stock_items(&ann, ItemFilter::default(), PageRequest::ALL)
                .await
                .map(drop),
        ),
    ];
    for (what, refused) in refusals {
        let why = refused.as_ref().err().and_then(denial);
        assert!(why.is_some(), "{what}: {refused:?}");
        if what != "the stock" {
            assert_eq!(why, Some(NOT_YOURS.0), "{what}: as if it were missing");
        }
    }

    let transactions = fx.transaction_count(&caller).await;
    let writes = [
        vec![grant("mine-now", "sword", Some("ann"), None)],
        vec![transfer_item("bobs", Some("ann"), None)],
        vec![consume("anns", None)],
        vec![set_properties("anns", "1")],
    ];
    for operations in writes {
        let refused = l
            .post_transaction(&ann, request(&fx.fresh_reference(), operations.clone()))
            .await;
        assert!(
            refused.as_ref().err().and_then(denial).is_some(),
            "{operations:?}: {refused:?}"
        );
    }
    assert_eq!(
        fx.transaction_count(&caller).await,
        transactions,
        "nothing recorded"
    );
    assert_eq!(fx.item(&caller, "anns").await.status, ItemStatus::Active);
    fx.assert_check().await;
}

/// An item id is the project's once: a second grant of it fails `CONFLICT`
/// and changes nothing; its referenceId is spent (posted again, even with
/// another payload, it is a duplicate of the failure); another project may
/// use the same id; within one batch, the first grant of an id takes it.
pub async fn an_item_id_is_taken_once_per_project(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a, b) = (fx.authority("pa").await, fx.authority("pb").await);
    fx.customer(&a, "ann").await;
    completed_touching(
        fx.post(&a, vec![grant("ring", "ring", Some("ann"), Some("1"))])
            .await,
    );

    let again = || request("ring-again", vec![grant("ring", "ring", None, Some("2"))]);
    let (stored, _) = failed(
        fx.ledger.post_transaction(&a, again()).await.expect("answered"),
        FailCode::Conflict,
    );
    let ring = fx.item(&a, "ring").await;
    assert_eq!(
        (
            ring.owner.map(|o| o.id.into_inner()),
            ring.properties.map(ItemProperties::into_inner)
        ),
        (Some("ann".to_owned()), Some("1".to_owned())),
        "the first ring stands"
    );
    let other = request("ring-again", vec![grant("ring-2", "ring", None, None)]);
    let (duplicate, touched) =
        duplicate_touching(fx.ledger.post_transaction(&a, other).await.expect("answered"));
    assert_eq!(duplicate.id, stored.id, "the reference is spent");
    assert!(touched.items.is_empty(), "a failure touched no item");
    assert!(fx.ledger.item(&a, item_id("ring-2")).await.is_err());
    completed_touching(fx.post(&b, vec![grant("ring", "ring", None, None)]).await);

    // Two requests of one batch (one group, on a backend that groups)
    // granting one new id: the first takes it, the second fails CONFLICT.
    let batch = vec![
        request("band-1", vec![grant("band", "ring", Some("ann"), None)]),
        request("band-2", vec![grant("band", "ring", None, None)]),
    ];
    let mut outcomes = fx
        .ledger
        .post_batch(&a, batch)
        .await
        .expect("the batch runs")
        .into_iter()
        .map(|outcome| outcome.expect("answered"));
    completed_touching(outcomes.next().expect("one outcome per request"));
    failed(
        outcomes.next().expect("one outcome per request"),
        FailCode::Conflict,
    );
    let band = fx.item(&a, "band").await;
    assert_eq!(band.owner.map(|o| o.id.into_inner()).as_deref(), Some("ann"));
    fx.assert_check().await;
}

/// Properties are the exact text sent, a number past every float and a
/// trailing zero included, at the grant, after a change, and in each step
/// of the history.
pub async fn item_properties_are_kept_exactly(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let first = r#"{"n":123456789012345678901234567890,"f":1.50}"#;
    let second = r#"[1.0, 2e3, "x", {"deep":{"n":-0.000000000000000000001}}]"#;
    let (_, touched) = completed_touching(
        fx.post(&caller, vec![grant("gem", "gem", None, Some(first))])
            .await,
    );
    let text = |item: &wallet_core::model::Item| item.properties.as_ref().map(|p| p.as_str().to_owned());
    assert_eq!(text(&touched.items[0]).as_deref(), Some(first), "as answered");
    assert_eq!(
        text(&fx.item(&caller, "gem").await).as_deref(),
        Some(first),
        "as read"
    );
    completed_touching(fx.post(&caller, vec![set_properties("gem", second)]).await);
    assert_eq!(text(&fx.item(&caller, "gem").await).as_deref(), Some(second));
    let history = fx.item_history(&caller, "gem").await;
    assert_eq!(
        history
            .iter()
            .map(|s| s.properties.as_ref().map(ItemProperties::as_str))
            .collect::<Vec<_>>(),
        [Some(first), Some(second)]
    );
    fx.assert_check().await;
}

/// An item goes only to a known, Active customer of the project (or the
/// stock): a Suspended one fails `WRONG_CUSTOMER_STATUS`; an unknown
/// customer or an unknown item is not found and records nothing.
pub async fn items_move_only_between_known_active_owners(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "ann").await;
    fx.customer(&caller, "sus").await;
    completed_touching(
        fx.post(&caller, vec![grant("orb", "orb", Some("ann"), None)])
            .await,
    );
    fx.ledger
        .suspend_customer(&caller, crate::fixture::customer_id("sus"))
        .await
        .expect("suspends");

    for operations in [
        vec![grant("new", "orb", Some("sus"), None)],
        vec![transfer_item("orb", Some("sus"), None)],
    ] {
        failed(fx.post(&caller, operations).await, FailCode::WrongCustomerStatus);
    }
    let transactions = fx.transaction_count(&caller).await;
    for (operations, what) in [
        (vec![grant("new", "orb", Some("nobody"), None)], Missing::Customer),
        (
            vec![transfer_item("orb", Some("nobody"), None)],
            Missing::Customer,
        ),
        (vec![transfer_item("ghost", Some("ann"), None)], Missing::Item),
        (vec![consume("ghost", None)], Missing::Item),
        (vec![set_properties("ghost", "1")], Missing::Item),
    ] {
        let refused = fx
            .ledger
            .post_transaction(&caller, request(&fx.fresh_reference(), operations.clone()))
            .await;
        assert!(
            refused.as_ref().is_err_and(|e| is_not_found(e, what)),
            "{operations:?}: {refused:?}"
        );
    }
    assert_eq!(
        fx.transaction_count(&caller).await,
        transactions,
        "nothing recorded"
    );
    let orb = fx.item(&caller, "orb").await;
    assert_eq!(orb.owner.map(|o| o.id.into_inner()).as_deref(), Some("ann"));
    fx.assert_check().await;
}

/// A referenceId posted again answers the stored transaction with the items
/// it touched, as they are now (moved since: at their new owner), and
/// applies nothing.
pub async fn a_duplicate_reference_answers_the_items_of_the_stored_transaction(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "ann").await;
    fx.customer(&caller, "bob").await;
    let gifts = || {
        request(
            "gifts",
            vec![
                grant("b-gift", "gift", Some("ann"), None),
                grant("a-gift", "gift", None, None),
                transfer_item("a-gift", Some("ann"), Some(None)),
            ],
        )
    };
    let (first, touched) = completed_touching(
        fx.ledger
            .post_transaction(&caller, gifts())
            .await
            .expect("answered"),
    );
    let ids = |items: &[wallet_core::model::Item]| items.iter().map(|i| i.id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(&touched.items),
        ["b-gift", "a-gift"],
        "in the order the operations first touched them, not id order"
    );
    completed_touching(
        fx.post(&caller, vec![transfer_item("b-gift", Some("bob"), None)])
            .await,
    );

    let (again, touched_again) = duplicate_touching(
        fx.ledger
            .post_transaction(&caller, gifts())
            .await
            .expect("answered"),
    );
    assert_eq!(again.id, first.id);
    assert_eq!(
        ids(&touched_again.items),
        ["b-gift", "a-gift"],
        "as the first reply listed them"
    );
    assert_eq!(
        touched_again.items[0],
        fx.item(&caller, "b-gift").await,
        "as it is now"
    );
    assert_eq!(
        fx.item_history(&caller, "a-gift").await.len(),
        2,
        "nothing applied again"
    );
    fx.assert_check().await;
}

/// An owner's items (a customer's, or the stock's) are listed oldest first,
/// paged, and filtered by type and status, with the total of what matches;
/// nobody else's items are among them.
pub async fn an_owners_items_are_listed_oldest_first_and_filtered(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (caller, other) = (fx.authority("pa").await, fx.authority("pb").await);
    fx.customer(&caller, "ann").await;
    fx.customer(&caller, "bob").await;
    fx.customer(&other, "ann").await;
    // Granted in this order, each in its own transaction: z before a, so
    // oldest first is not id order.
    for (id, item_type, owner) in [
        ("z-sword", "sword", Some("ann")),
        ("a-shield", "shield", Some("ann")),
        ("m-sword", "sword", Some("ann")),
        ("b-sword", "sword", Some("bob")),
        ("shelf-1", "sword", None),
        ("shelf-2", "shield", None),
    ] {
        completed_touching(fx.post(&caller, vec![grant(id, item_type, owner, None)]).await);
    }
    completed_touching(
        fx.post(&other, vec![grant("z-sword", "sword", Some("ann"), None)])
            .await,
    );
    completed_touching(fx.post(&other, vec![grant("shelf-3", "sword", None, None)]).await);
    completed_touching(fx.post(&caller, vec![consume("m-sword", None)]).await);

    let ids = |page: wallet_core::model::Page<wallet_core::model::Item>| {
        (
            page.items.iter().map(|i| i.id.to_string()).collect::<Vec<_>>(),
            page.total,
        )
    };
    let filter = |item_type: Option<&str>, status: Option<ItemStatus>| ItemFilter {
        item_type: item_type.map(|t| wallet_core::text::ItemType::parse(t).expect("a type")),
        status,
    };
    let anns = |f: ItemFilter, page: PageRequest| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ids(ledger
                .customer_items(&caller, "ann".to_owned(), f, page)
                .await
                .expect("reads"))
        }
    };
    let all = PageRequest::ALL;
    assert_eq!(
        anns(ItemFilter::default(), all).await,
        (vec!["z-sword".into(), "a-shield".into(), "m-sword".into()], 3)
    );
    assert_eq!(
        anns(ItemFilter::default(), PageRequest { page: 1, size: 2 }).await,
        (vec!["m-sword".into()], 3),
        "the second page of two"
    );
    assert_eq!(
        anns(filter(Some("sword"), None), all).await,
        (vec!["z-sword".into(), "m-sword".into()], 2)
    );
    assert_eq!(
        anns(filter(Some("sword"), Some(ItemStatus::Active)), all).await,
        (vec!["z-sword".into()], 1)
    );
    assert_eq!(
        anns(filter(None, Some(ItemStatus::Consumed)), all).await,
        (vec!["m-sword".into()], 1)
    );
    let stock = fx
        .ledger
        .stock_items(&caller, ItemFilter::default(), all)
        .await
        .expect("reads");
    assert_eq!(ids(stock), (vec!["shelf-1".into(), "shelf-2".into()], 2));
    let stock_swords = fx
        .ledger
        .stock_items(&caller, filter(Some("sword"), None), all)
        .await
        .expect("reads");
    assert_eq!(ids(stock_swords), (vec!["shelf-1".into()], 1));
    fx.assert_check().await;
}
