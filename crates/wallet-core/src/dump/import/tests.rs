use super::*;

/// A small valid project in file order: an asset, an authority and the
/// system one, a customer with a key and a wallet, a system wallet on
/// credit, a transaction with an Issue of 0 (an API v1 entry that only
/// carries an item), its item, a transfer pair, and holds of every status
/// (the Open one is what the system wallet holds).
fn project() -> (ProjectDump, Vec<DumpRecord>) {
    let head = ProjectDump {
        id: "game".to_owned(),
        name: "Game".to_owned(),
        default_asset: 1,
        created_at: 1,
    };
    let entry = |id: i64, wallet: i64, kind: &str, amount: i64, balance_after: i64| {
        DumpRecord::Entry(EntryDump {
            id,
            wallet,
            transaction: 10,
            authority: 3,
            kind: kind.to_owned(),
            amount,
            balance_after,
            reason: None,
            created_at: 2,
        })
    };
    let wallet = |id: i64, customer: Option<i64>, held: i64, credit_limit: i64| {
        DumpRecord::Wallet(WalletDump {
            id,
            asset: 1,
            customer,
            is_default: customer.is_some(),
            name: None,
            description: None,
            status: "Open".to_owned(),
            balance: -credit_limit + held,
            held,
            credit_limit,
            created_at: 1,
        })
    };
    let hold = |rowid: i64, status: &str, captured: i64, remaining: i64| {
        DumpRecord::Hold(HoldDump {
            rowid,
            id: format!("hd_{rowid}"),
            source: 8,
            destination: Some(7),
            asset: 1,
            amount: 3,
            captured,
            remaining,
            status: status.to_owned(),
            expires_at: Some(9),
            transaction: 10,
            created_at: 2,
            updated_at: 2,
        })
    };
    let records = vec![
        DumpRecord::Asset(AssetDump {
            id: 1,
            code: "PTS".to_owned(),
            name: "Points".to_owned(),
            fractions: 1,
            used: true,
            created_at: 1,
        }),
        DumpRecord::Authority(AuthorityDump {
            rowid: 3,
            id: "au_1".to_owned(),
            name: "app".to_owned(),
            public_key_pem: None,
            token_digest: Some("00ff".to_owned()),
            system: false,
            created_at: 1,
            revoked_at: None,
        }),
        DumpRecord::Authority(AuthorityDump {
            rowid: 4,
            id: "sys_1".to_owned(),
            name: "system".to_owned(),
            public_key_pem: None,
            token_digest: None,
            system: true,
            created_at: 1,
            revoked_at: None,
        }),
        DumpRecord::Customer(CustomerDump {
            rowid: 5,
            id: "alice".to_owned(),
            name: None,
            description: None,
            status: "Active".to_owned(),
            created_at: 1,
        }),
        DumpRecord::CustomerKey(CustomerKeyDump {
            rowid: 6,
            id: "ck_1".to_owned(),
            customer: 5,
            token_digest: "abcd".to_owned(),
            created_at: 1,
            expires_at: None,
            revoked_at: None,
        }),
        wallet(7, Some(5), 0, 0),
        wallet(8, None, 3, 5),
        DumpRecord::Transaction(TransactionDump {
            id: 10,
            reference_id: Some("ref-1".to_owned()),
            authority: 3,
            status: "Completed".to_owned(),
            error: None,
            description: None,
            operations: None,
            created_at: 2,
        }),
        entry(20, 7, "Issue", 0, 0),
        DumpRecord::Item(ItemRecord::V1(V1ItemDump {
            entry: 20,
            name: "Hat".to_owned(),
            data: None,
            used: false,
        })),
        DumpRecord::Item(ItemRecord::Item(ItemDump {
            rowid: 40,
            id: "sword-1".to_owned(),
            item_type: "sword".to_owned(),
            properties: Some(r#"{"atk":123456789012345678901234567890}"#.to_owned()),
            customer: Some(5),
            status: "Active".to_owned(),
            v1_entry: None,
            created_at: 2,
            updated_at: 2,
        })),
        DumpRecord::ItemStep(ItemStepDump {
            rowid: 41,
            item: 40,
            transaction: Some(10),
            kind: "GrantItem".to_owned(),
            from: None,
            to: Some(5),
            properties: Some(r#"{"atk":123456789012345678901234567890}"#.to_owned()),
            created_at: 2,
        }),
        entry(21, 7, "Transfer", -1, 0),
        entry(22, 8, "Transfer", 1, 1),
        hold(30, "Open", 1, 2),
        hold(31, "Captured", 3, 0),
        hold(32, "Voided", 1, 0),
        hold(33, "Expired", 0, 0),
        hold(34, "Open", 2, 1),
    ];
    (head, records)
}

fn run(head: &ProjectDump, records: &[DumpRecord]) -> Result<(), InvalidRecord> {
    let mut check = ImportCheck::begin(head)?;
    records.iter().try_for_each(|r| check.check(r))?;
    check.finish()
}

#[test]
fn a_valid_project_passes_and_an_issue_of_zero_with_it() {
    let (head, records) = project();
    assert_eq!(run(&head, &records), Ok(()));
}

/// One record of the valid project edited, and the words the refusal must use.
type Edit = fn(&mut ProjectDump, &mut Vec<DumpRecord>);

fn edit_nth<T>(
    records: &mut [DumpRecord],
    pick: impl Fn(&mut DumpRecord) -> Option<&mut T>,
    change: impl FnOnce(&mut T),
) {
    let target = records
        .iter_mut()
        .find_map(pick)
        .expect("the record to edit exists");
    change(target);
}

fn asset(r: &mut DumpRecord) -> Option<&mut AssetDump> {
    if let DumpRecord::Asset(a) = r {
        Some(a)
    } else {
        None
    }
}
fn authority(r: &mut DumpRecord) -> Option<&mut AuthorityDump> {
    if let DumpRecord::Authority(a) = r {
        Some(a)
    } else {
        None
    }
}
fn customer(r: &mut DumpRecord) -> Option<&mut CustomerDump> {
    if let DumpRecord::Customer(c) = r {
        Some(c)
    } else {
        None
    }
}
fn customer_key(r: &mut DumpRecord) -> Option<&mut CustomerKeyDump> {
    if let DumpRecord::CustomerKey(k) = r {
        Some(k)
    } else {
        None
    }
}
fn wallet(r: &mut DumpRecord) -> Option<&mut WalletDump> {
    if let DumpRecord::Wallet(w) = r {
        Some(w)
    } else {
        None
    }
}
fn transaction(r: &mut DumpRecord) -> Option<&mut TransactionDump> {
    if let DumpRecord::Transaction(t) = r {
        Some(t)
    } else {
        None
    }
}
fn entry(r: &mut DumpRecord) -> Option<&mut EntryDump> {
    if let DumpRecord::Entry(e) = r {
        Some(e)
    } else {
        None
    }
}
fn hold(r: &mut DumpRecord) -> Option<&mut HoldDump> {
    if let DumpRecord::Hold(h) = r {
        Some(h)
    } else {
        None
    }
}
fn system_wallet(r: &mut DumpRecord) -> Option<&mut WalletDump> {
    wallet(r).filter(|w| w.customer.is_none())
}
fn v1_item(r: &mut DumpRecord) -> Option<&mut V1ItemDump> {
    if let DumpRecord::Item(ItemRecord::V1(i)) = r {
        Some(i)
    } else {
        None
    }
}
fn item(r: &mut DumpRecord) -> Option<&mut ItemDump> {
    if let DumpRecord::Item(ItemRecord::Item(i)) = r {
        Some(i)
    } else {
        None
    }
}
fn item_step(r: &mut DumpRecord) -> Option<&mut ItemStepDump> {
    if let DumpRecord::ItemStep(step) = r {
        Some(step)
    } else {
        None
    }
}

#[test]
fn every_kind_of_bad_record_is_refused_with_words_that_name_it() {
    let cases: &[(&str, Edit, &str)] = &[
        ("a bad project id", |h, _| h.id = "no spaces".into(), "project id"),
        (
            "a default asset outside the file",
            |h, _| h.default_asset = 99,
            "default asset 99",
        ),
        (
            "a second project row",
            |h, r| r.push(DumpRecord::Project(h.clone())),
            "second project",
        ),
        (
            "a bad asset code",
            |_, r| edit_nth(r, asset, |a| a.code = "P T S".into()),
            "asset code",
        ),
        (
            "no fractions",
            |_, r| edit_nth(r, asset, |a| a.fractions = 0),
            "fractions",
        ),
        (
            "a bad authority id",
            |_, r| edit_nth(r, authority, |a| a.id = String::new()),
            "id must be",
        ),
        (
            "a digest that is not hex",
            |_, r| edit_nth(r, authority, |a| a.token_digest = Some("zz".into())),
            "not hex",
        ),
        (
            "two credentials",
            |_, r| edit_nth(r, authority, |a| a.public_key_pem = Some("pem".into())),
            "exactly one",
        ),
        (
            "no credential",
            |_, r| edit_nth(r, authority, |a| a.token_digest = None),
            "exactly one",
        ),
        (
            "a bad customer id",
            |_, r| edit_nth(r, customer, |c| c.id = "a\u{200b}b".into()),
            "user id",
        ),
        (
            "a customer status unknown",
            |_, r| edit_nth(r, customer, |c| c.status = "active".into()),
            "unknown status \"active\"",
        ),
        (
            "a key of a customer outside the file",
            |_, r| edit_nth(r, customer_key, |k| k.customer = 99),
            "customer 99",
        ),
        (
            "a key digest that is not hex",
            |_, r| edit_nth(r, customer_key, |k| k.token_digest = "abc".into()),
            "not hex",
        ),
        (
            "a wallet of an asset outside the file",
            |_, r| edit_nth(r, wallet, |w| w.asset = 99),
            "asset 99",
        ),
        (
            "a wallet of a customer outside the file",
            |_, r| edit_nth(r, wallet, |w| w.customer = Some(99)),
            "customer 99",
        ),
        (
            "a wallet status unknown",
            |_, r| edit_nth(r, wallet, |w| w.status = "Frozen".into()),
            "unknown status",
        ),
        (
            "a negative balance",
            |_, r| edit_nth(r, wallet, |w| w.balance = -1),
            "balance of -1",
        ),
        (
            "two wallets with one id",
            |_, r| edit_nth(r, wallet, |w| w.id = 8),
            "a second wallet with id 8",
        ),
        (
            "a bad reference id",
            |_, r| edit_nth(r, transaction, |t| t.reference_id = Some(String::new())),
            "referenceId",
        ),
        (
            "a transaction of an authority outside the file",
            |_, r| edit_nth(r, transaction, |t| t.authority = 99),
            "authority 99",
        ),
        (
            "a transaction status unknown",
            |_, r| edit_nth(r, transaction, |t| t.status = "Pending".into()),
            "unknown status",
        ),
        (
            "an entry in a wallet outside the file",
            |_, r| edit_nth(r, entry, |e| e.wallet = 99),
            "wallet 99, which is not an earlier row",
        ),
        (
            "an entry of a transaction outside the file",
            |_, r| edit_nth(r, entry, |e| e.transaction = 99),
            "transaction 99",
        ),
        (
            "an entry of an authority outside the file",
            |_, r| edit_nth(r, entry, |e| e.authority = 99),
            "authority 99",
        ),
        (
            "an entry kind unknown",
            |_, r| edit_nth(r, entry, |e| e.kind = "Mint".into()),
            "unknown kind",
        ),
        (
            "an Issue turned negative",
            |_, r| edit_nth(r, entry, |e| e.amount = -1),
            "a Issue of -1",
        ),
        (
            "a balance after below the largest credit limit",
            |_, r| edit_nth(r, entry, |e| e.balance_after = -crate::MAX_CREDIT_LIMIT - 1),
            "balance after",
        ),
        (
            "a system authority with a credential",
            |_, r| edit_nth(r, authority, |a| a.system = true),
            "system authority has no",
        ),
        (
            "two system authorities",
            |_, r| {
                edit_nth(r, authority, |a| {
                    a.system = true;
                    a.token_digest = None;
                });
            },
            "a second system authority",
        ),
        (
            "a balance below the credit limit",
            |_, r| edit_nth(r, system_wallet, |w| w.balance = -6),
            "balance of -6",
        ),
        (
            "more held than the credit limit allows",
            |_, r| edit_nth(r, system_wallet, |w| w.held = 9),
            "9 held cannot be",
        ),
        (
            "a negative held value",
            |_, r| edit_nth(r, system_wallet, |w| w.held = -1),
            "-1 held",
        ),
        (
            "a credit limit past the largest",
            |_, r| edit_nth(r, system_wallet, |w| w.credit_limit = crate::MAX_CREDIT_LIMIT + 1),
            "credit limit of",
        ),
        (
            "a bad hold id",
            |_, r| edit_nth(r, hold, |h| h.id = String::new()),
            "holdId",
        ),
        (
            "a hold of a wallet outside the file",
            |_, r| edit_nth(r, hold, |h| h.source = 99),
            "wallet 99",
        ),
        (
            "a hold into its own source",
            |_, r| edit_nth(r, hold, |h| h.destination = Some(8)),
            "destination is its source",
        ),
        (
            "a hold of a transaction outside the file",
            |_, r| edit_nth(r, hold, |h| h.transaction = 99),
            "transaction 99",
        ),
        (
            "a hold status unknown",
            |_, r| edit_nth(r, hold, |h| h.status = "Pending".into()),
            "unknown status",
        ),
        (
            "a hold of another asset than its wallets",
            |_, r| edit_nth(r, hold, |h| h.asset = 2),
            "of asset 2",
        ),
        (
            "an Open hold with nothing remaining",
            |_, r| edit_nth(r, hold, |h| h.remaining = 0),
            "cannot be",
        ),
        (
            "a hold capturing more than its amount",
            |_, r| edit_nth(r, hold, |h| h.captured = 3),
            "cannot be",
        ),
        (
            "a Voided hold that still reserves",
            |_, r| {
                let voided = r.iter_mut().filter_map(hold).find(|h| h.status == "Voided");
                if let Some(h) = voided {
                    h.remaining = 1;
                }
            },
            "cannot be",
        ),
        (
            "two holds with one id",
            |_, r| edit_nth(r, hold, |h| h.id = "hd_34".into()),
            "a second hold with id hd_34",
        ),
        (
            "held that is not what the Open holds reserve",
            |_, r| {
                edit_nth(r, system_wallet, |w| w.held = 2);
                edit_nth(r, system_wallet, |w| w.balance = -3);
            },
            "held 2 but its Open holds reserve 3",
        ),
        (
            "an item of an entry outside the file",
            |_, r| edit_nth(r, v1_item, |i| i.entry = 99),
            "entry 99",
        ),
        (
            "two items on one entry",
            |_, r| {
                let again = r.iter().find_map(|x| match x {
                    DumpRecord::Item(ItemRecord::V1(i)) => Some(i.clone()),
                    _ => None,
                });
                r.extend(again.map(|i| DumpRecord::Item(ItemRecord::V1(i))));
            },
            "a second item",
        ),
        (
            "an item of a customer outside the file",
            |_, r| edit_nth(r, item, |i| i.customer = Some(99)),
            "customer 99",
        ),
        (
            "an item type that is too long",
            |_, r| edit_nth(r, item, |i| i.item_type = "x".repeat(65)),
            "itemType",
        ),
        (
            "properties that are not JSON",
            |_, r| edit_nth(r, item, |i| i.properties = Some("{nope".into())),
            "properties",
        ),
        (
            "an unknown item status",
            |_, r| edit_nth(r, item, |i| i.status = "Lost".into()),
            "unknown status",
        ),
        (
            "two items with one id",
            |_, r| edit_nth(r, item, |i| i.id = "v1_20".into()),
            "a second item with id v1_20",
        ),
        (
            "a step of an item outside the file",
            |_, r| edit_nth(r, item_step, |step| step.item = 99),
            "item 99",
        ),
        (
            "a step of an unknown kind",
            |_, r| edit_nth(r, item_step, |step| step.kind = "StealItem".into()),
            "unknown status",
        ),
        (
            "a row before what it refers to",
            |_, r| r.swap(0, 5),
            "asset 1, which is not an earlier row",
        ),
    ];
    for (case, edit, words) in cases {
        let (mut head, mut records) = project();
        edit(&mut head, &mut records);
        match run(&head, &records) {
            Ok(()) => panic!("{case}: must be refused"),
            Err(InvalidRecord(message)) => {
                assert!(message.contains(words), "{case}: {message:?} must say {words:?}");
            }
        }
    }
}

#[test]
fn a_balance_below_zero_within_the_credit_limit_passes() {
    let (head, mut records) = project();
    // Down to -limit exactly, with what is held.
    edit_nth(&mut records, system_wallet, |w| {
        w.balance = -2;
        w.credit_limit = 5;
    });
    assert_eq!(run(&head, &records), Ok(()));
    let old = r#"{"type":"wallet","id":1,"asset":1,"customer":null,"isDefault":false,"name":null,
        "description":null,"status":"Open","balance":4,"createdAt":1}"#;
    match serde_json::from_str::<DumpRecord>(old) {
        Ok(DumpRecord::Wallet(w)) => assert_eq!((w.held, w.credit_limit), (0, 0), "an old export's wallet"),
        other => panic!("an export from before holds parses: {other:?}"),
    }
}

#[test]
fn entry_signs_follow_their_kind() {
    let cases = [
        ("Issue", 0, true),
        ("Issue", 5, true),
        ("Issue", -1, false),
        ("Redeem", -1, true),
        ("Redeem", 0, false),
        ("Redeem", 1, false),
        ("Transfer", -1, true),
        ("Transfer", 1, true),
        ("Transfer", 0, false),
        ("Capture", -1, true),
        ("Capture", 1, true),
        ("Capture", 0, false),
    ];
    for (kind, amount, accepted) in cases {
        let (head, mut records) = project();
        edit_nth(&mut records, entry, |e| {
            e.kind = kind.to_owned();
            e.amount = amount;
        });
        assert_eq!(run(&head, &records).is_ok(), accepted, "a {kind} of {amount}");
    }
}

#[test]
fn references_reach_only_rows_checked_before() {
    let (head, records) = project();
    let mut check = ImportCheck::begin(&head).expect("a valid project row");
    // The entry before its wallet and transaction: refused, and refusing
    // it records nothing.
    let entry = records
        .iter()
        .find(|r| matches!(r, DumpRecord::Entry(_)))
        .expect("an entry")
        .clone();
    assert!(check.check(&entry).is_err());
    for record in &records {
        check.check(record).expect("in file order every row is valid");
    }
}
