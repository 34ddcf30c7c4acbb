#!/usr/bin/env python3
"""End-to-end test of API v1 with the unmodified published Python SDK.

Usage: e2e.py CONFIG_A CONFIG_B WALLET_SERVICE_BINARY DB_PATH

CONFIG_A and CONFIG_B are client config files of two authorities of the same
project, written by `wallet-service authority create`. The binary and the
database are used to revoke authority B with the CLI at the end.

Drives every SDK method, asserts the values returned, checks that API v2
(called with urllib and an access key made with the CLI) sees the SDK's
items as the same items, and prints
`sdk e2e: N checks passed` on success. Any failed check exits non-zero with a
traceback. Each run is expected to start from a fresh database.
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import wallet_sdk

CHECKS = 0

# For check_entry(): the item is checked separately by the caller.
ANY_ITEM = object()


def check(cond, msg):
    """Counts and asserts one check."""
    global CHECKS
    assert cond, msg
    CHECKS += 1


def check_eq(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def expect_api_error(status, what, fn, *args, **kwargs):
    """Calls fn and checks that it raises WalletAPIError with this status code."""
    try:
        result = fn(*args, **kwargs)
    except wallet_sdk.WalletAPIError as e:
        check_eq(e.status_code, status, f"{what}: WalletAPIError.status_code ({e})")
        return e
    except wallet_sdk.NotEnoughFundsError as e:
        raise AssertionError(f"{what}: expected WalletAPIError {status}, got NotEnoughFundsError: {e}")
    raise AssertionError(f"{what}: expected WalletAPIError {status}, got a result: {result!r}")


def expect_not_enough_funds(what, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except wallet_sdk.NotEnoughFundsError:
        check(True, what)
        return
    except wallet_sdk.WalletAPIError as e:
        raise AssertionError(f"{what}: expected NotEnoughFundsError, got WalletAPIError: {e}")
    raise AssertionError(f"{what}: expected NotEnoughFundsError, got a result: {result!r}")


def check_entry(entry, authority_id, user_id, amount, reason, item, what):
    """Checks every field of an Entry returned by create_entry or use_item.

    item: None when the entry must have no item, ANY_ITEM to skip, else the expected Item dict.
    """
    check(isinstance(entry, dict), f"{what}: entry is a dict: {entry!r}")
    check(isinstance(entry.get("entry_id"), str) and entry["entry_id"] != "",
          f"{what}: entry_id is a non-empty str: {entry!r}")
    check_eq(entry.get("authority_id"), authority_id, f"{what}: authority_id")
    check_eq(entry.get("user_id"), user_id, f"{what}: user_id")
    check(type(entry.get("created_on")) is float, f"{what}: created_on is a float: {entry!r}")
    check(entry["created_on"] > 1_500_000_000.0, f"{what}: created_on is a plausible Unix time: {entry!r}")
    check(type(entry.get("amount")) is int, f"{what}: amount is an int: {entry!r}")
    check_eq(entry.get("amount"), amount, f"{what}: amount")
    check_eq(entry.get("reason"), reason, f"{what}: reason")
    if item is ANY_ITEM:
        pass
    elif item is None:
        check(entry.get("item") is None, f"{what}: entry has no item: {entry!r}")
    else:
        check_eq(entry.get("item"), item, f"{what}: item")
    expected_keys = {"entry_id", "authority_id", "user_id", "created_on", "amount", "reason"}
    check(expected_keys <= set(entry.keys()), f"{what}: entry has keys {expected_keys}: {entry!r}")


def wallets_map(wallets, what):
    """Turns a get_wallets() result into {user_id: total}, checking for duplicates."""
    check(isinstance(wallets, list), f"{what}: wallets is a list: {wallets!r}")
    out = {}
    for w in wallets:
        check(w["user_id"] not in out, f"{what}: user {w['user_id']} listed once: {wallets!r}")
        check(type(w["total"]) is int, f"{what}: total is an int: {w!r}")
        out[w["user_id"]] = w["total"]
    return out


def inventory_ids(inventory, what):
    """Checks the shape of a get_inventory() result and returns its entry ids as a set."""
    check(isinstance(inventory, list), f"{what}: inventory is a list: {inventory!r}")
    ids = [i["entry_id"] for i in inventory]
    check_eq(len(ids), len(set(ids)), f"{what}: no entry listed twice ({ids!r})")
    return set(ids)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    config_a, config_b, binary, db = sys.argv[1:]
    started = time.time()

    with open(config_a) as f:
        id_a = json.load(f)["authority_id"]
    with open(config_b) as f:
        id_b = json.load(f)["authority_id"]
    check(id_a != id_b, f"the two authorities have different ids: {id_a} {id_b}")

    a = wallet_sdk.WalletClient.LoadFromConfig(config_a)
    b = wallet_sdk.WalletClient.LoadFromConfig(config_b)
    check_eq(a.authority_id, id_a, "client A authority_id")
    check_eq(b.authority_id, id_b, "client B authority_id")

    # --- health -------------------------------------------------------------
    check(a.check_service_health() is True, "check_service_health() returns True (A)")
    check(b.check_service_health() is True, "check_service_health() returns True (B)")

    # Users. Each run gets a fresh database, so fixed ids are fine.
    alice, bob, carol, dave, nobody = "alice", "bob", "carol", "dave", "nobody"

    # --- create_entry without item -----------------------------------------
    e_alice_a = a.create_entry(alice, 100, "signup bonus")
    check_entry(e_alice_a, id_a, alice, 100, "signup bonus", None, "create_entry(alice, 100) by A")
    e_alice_b = b.create_entry(alice, 50, "referral from B")
    check_entry(e_alice_b, id_b, alice, 50, "referral from B", None, "create_entry(alice, 50) by B")
    check(e_alice_a["entry_id"] != e_alice_b["entry_id"], "entry ids are unique")
    e_bob_a = a.create_entry(bob, 30, "bob starts")
    check_entry(e_bob_a, id_a, bob, 30, "bob starts", None, "create_entry(bob, 30) by A")
    e_carol_b = b.create_entry(carol, 7, "carol via B")
    check_entry(e_carol_b, id_b, carol, 7, "carol via B", None, "create_entry(carol, 7) by B")
    e_zero = a.create_entry(dave, 0, "zero amount entry")
    check_entry(e_zero, id_a, dave, 0, "zero amount entry", None, "create_entry(dave, 0) by A")
    # Server and test share a clock; allow a little slack for rounding.
    for e in (e_alice_a, e_alice_b, e_bob_a, e_carol_b, e_zero):
        check(started - 5.0 <= e["created_on"] <= time.time() + 5.0,
              f"created_on {e['created_on']} is the time of the call (test started at {started})")

    # --- create_entry with items --------------------------------------------
    soda_in = {"name": "Soda Can", "data": {"flavour": "cola"}}
    e_soda = a.create_entry(alice, -10, "bought a soda", item=soda_in)
    soda_item = {"name": "Soda Can", "used": False, "data": {"flavour": "cola"}}
    check_entry(e_soda, id_a, alice, -10, "bought a soda", soda_item, "create_entry with object data")

    e_ticket = b.create_entry(alice, -5, "raffle ticket", item={"name": "Ticket", "data": "row 4 seat 2"})
    ticket_item = {"name": "Ticket", "used": False, "data": "row 4 seat 2"}
    check_entry(e_ticket, id_b, alice, -5, "raffle ticket", ticket_item, "create_entry with string data")

    e_sticker = a.create_entry(bob, -3, "sticker", item={"name": "Sticker"})
    check_entry(e_sticker, id_a, bob, -3, "sticker", ANY_ITEM, "create_entry with no data")
    sticker = e_sticker.get("item")
    check(isinstance(sticker, dict), f"create_entry with no data: item is a dict: {e_sticker!r}")
    check_eq(sticker.get("name"), "Sticker", "create_entry with no data: item.name")
    check(sticker.get("used") is False, f"create_entry with no data: item.used is False: {sticker!r}")
    check(sticker.get("data") is None, f"create_entry with no data: item.data absent or null: {sticker!r}")

    e_badge = b.create_entry(carol, 0, "free badge", item={"name": "Badge", "data": [1, 2, 3]})
    badge_item = {"name": "Badge", "used": False, "data": [1, 2, 3]}
    check_entry(e_badge, id_b, carol, 0, "free badge", badge_item, "create_entry with array data")

    # Balances now: alice 100 + 50 - 10 - 5 = 135 (A: 90, B: 45)
    #               bob   30 - 3          = 27  (A: 27)
    #               carol 7 + 0           = 7   (B: 7)
    #               dave  0               = 0   (A: 0)

    # --- NotEnoughFundsError --------------------------------------------------
    expect_not_enough_funds("spending more than the balance raises NotEnoughFundsError",
                            a.create_entry, bob, -28, "too expensive")
    expect_not_enough_funds("spending more than the balance with an item raises NotEnoughFundsError",
                            b.create_entry, carol, -8, "too expensive item", item={"name": "Car"})
    expect_not_enough_funds("a user with no entries at all cannot spend",
                            a.create_entry, nobody, -1, "nothing to spend")
    expect_not_enough_funds("a user with a zero balance cannot spend",
                            a.create_entry, dave, -1, "dave has nothing")
    # The balance spans authorities: B spends what A credited.
    e_bob_spend = b.create_entry(bob, -27, "bob spends everything")
    check_entry(e_bob_spend, id_b, bob, -27, "bob spends everything", None, "spending exactly to 0 works")
    expect_not_enough_funds("after spending to 0, even 1 more fails", a.create_entry, bob, -1, "one more")
    # Balances: alice 135 (A 90, B 45); bob 0 (A 27, B -27); carol 7 (B 7); dave 0 (A 0)

    # --- get_wallets ---------------------------------------------------------
    all_w = wallets_map(a.get_wallets(), "get_wallets()")
    check_eq(all_w, {alice: 135, bob: 0, carol: 7, dave: 0}, "get_wallets() with no filter")
    check(nobody not in all_w, "a user with only refused spends has no wallet")

    check_eq(wallets_map(a.get_wallets(user_ids=[alice]), "get_wallets(user_ids=[alice])"),
             {alice: 135}, "get_wallets(user_ids=[alice])")
    check_eq(wallets_map(b.get_wallets(user_ids=[alice, carol, nobody]), "get_wallets(user_ids)"),
             {alice: 135, carol: 7}, "get_wallets(user_ids=[alice, carol, nobody]) omits nobody")
    check_eq(wallets_map(a.get_wallets(user_ids=[nobody]), "get_wallets(user_ids=[nobody])"),
             {}, "get_wallets(user_ids=[nobody]) is empty")

    check_eq(wallets_map(a.get_wallets(authority_ids=[id_a]), "get_wallets(authority_ids=[A])"),
             {alice: 90, bob: 27, dave: 0}, "get_wallets(authority_ids=[A]) counts only A's entries")
    check_eq(wallets_map(a.get_wallets(authority_ids=[id_b]), "get_wallets(authority_ids=[B])"),
             {alice: 45, bob: -27, carol: 7}, "get_wallets(authority_ids=[B]) counts only B's entries")
    check_eq(wallets_map(b.get_wallets(authority_ids=[id_a, id_b]), "get_wallets(authority_ids=[A, B])"),
             {alice: 135, bob: 0, carol: 7, dave: 0}, "get_wallets(authority_ids=[A, B])")

    check_eq(wallets_map(a.get_wallets(user_ids=[alice, carol], authority_ids=[id_a]), "both filters"),
             {alice: 90}, "get_wallets(user_ids=[alice, carol], authority_ids=[A]) omits carol")
    check_eq(wallets_map(a.get_wallets(user_ids=[alice, carol, dave], authority_ids=[id_b]), "both"),
             {alice: 45, carol: 7}, "get_wallets(user_ids=[alice, carol, dave], authority_ids=[B])")

    # --- get_inventory -------------------------------------------------------
    soda, ticket, stick, badge = (e_soda["entry_id"], e_ticket["entry_id"], e_sticker["entry_id"],
                                  e_badge["entry_id"])
    all_items = {soda, ticket, stick, badge}

    inv = a.get_inventory()
    check_eq(inventory_ids(inv, "get_inventory()"), all_items, "get_inventory() (default used=False)")
    by_id = {i["entry_id"]: i for i in inv}
    check_eq(by_id[soda], {"entry_id": soda, "authority_id": id_a, "user_id": alice, "item": soda_item},
             "inventory row of the soda")
    check_eq(by_id[ticket], {"entry_id": ticket, "authority_id": id_b, "user_id": alice, "item": ticket_item},
             "inventory row of the ticket")
    check_eq(by_id[badge], {"entry_id": badge, "authority_id": id_b, "user_id": carol, "item": badge_item},
             "inventory row of the badge")
    check_eq(by_id[stick]["item"].get("name"), "Sticker", "inventory row of the sticker: name")
    check_eq(by_id[stick]["user_id"], bob, "inventory row of the sticker: user_id")

    check_eq(inventory_ids(a.get_inventory(entry_ids=[soda, badge]), "entry_ids"), {soda, badge},
             "get_inventory(entry_ids=[soda, badge])")
    check_eq(inventory_ids(a.get_inventory(entry_ids=[e_alice_a["entry_id"]]), "entry_ids no item"), set(),
             "get_inventory(entry_ids=[entry without item]) is empty")
    check_eq(inventory_ids(a.get_inventory(user_ids=[alice]), "user_ids"), {soda, ticket},
             "get_inventory(user_ids=[alice])")
    check_eq(inventory_ids(a.get_inventory(user_ids=[bob, carol]), "user_ids"), {stick, badge},
             "get_inventory(user_ids=[bob, carol])")
    check_eq(inventory_ids(a.get_inventory(user_ids=[dave]), "user_ids"), set(),
             "get_inventory(user_ids=[dave]) is empty")
    check_eq(inventory_ids(a.get_inventory(authority_ids=[id_a]), "authority_ids"), {soda, stick},
             "get_inventory(authority_ids=[A])")
    check_eq(inventory_ids(b.get_inventory(authority_ids=[id_b]), "authority_ids"), {ticket, badge},
             "get_inventory(authority_ids=[B])")
    check_eq(inventory_ids(a.get_inventory(user_ids=[alice], authority_ids=[id_b]), "combined"), {ticket},
             "get_inventory(user_ids=[alice], authority_ids=[B])")
    check_eq(inventory_ids(a.get_inventory(used=False), "used=False"), all_items, "get_inventory(used=False)")
    check_eq(inventory_ids(a.get_inventory(used=True), "used=True"), set(),
             "get_inventory(used=True) before any use_item")
    check_eq(inventory_ids(a.get_inventory(used=None), "used=None"), all_items, "get_inventory(used=None)")

    # --- use_item ------------------------------------------------------------
    used_soda = a.use_item(soda)
    check_entry(used_soda, id_a, alice, -10, "bought a soda",
                {"name": "Soda Can", "used": True, "data": {"flavour": "cola"}}, "use_item(soda)")
    check_eq(used_soda["entry_id"], soda, "use_item(soda) returns the soda entry")
    check_eq(used_soda["created_on"], e_soda["created_on"], "use_item keeps created_on")

    # Any authority of the same project may use an item: B uses A's sticker.
    used_sticker = b.use_item(stick)
    check_eq(used_sticker["entry_id"], stick, "use_item(sticker) by B: entry_id")
    check_eq(used_sticker["authority_id"], id_a, "use_item(sticker) by B keeps the creating authority")
    check(used_sticker["item"]["used"] is True, f"use_item(sticker) by B: item.used: {used_sticker!r}")

    check_eq(inventory_ids(a.get_inventory(), "after use"), {ticket, badge},
             "get_inventory() after use_item hides used items")
    check_eq(inventory_ids(a.get_inventory(used=True), "after use"), {soda, stick},
             "get_inventory(used=True) after use_item")
    check_eq(inventory_ids(a.get_inventory(used=None), "after use"), all_items,
             "get_inventory(used=None) after use_item")
    check_eq(inventory_ids(a.get_inventory(user_ids=[alice], used=True), "after use"), {soda},
             "get_inventory(user_ids=[alice], used=True)")
    check_eq(inventory_ids(a.get_inventory(user_ids=[alice], used=False), "after use"), {ticket},
             "get_inventory(user_ids=[alice], used=False)")
    check_eq(inventory_ids(b.get_inventory(authority_ids=[id_a], used=True), "after use"), {soda, stick},
             "get_inventory(authority_ids=[A], used=True)")
    check_eq(inventory_ids(b.get_inventory(entry_ids=[soda, ticket], used=True), "after use"), {soda},
             "get_inventory(entry_ids=[soda, ticket], used=True)")
    rows = a.get_inventory(entry_ids=[soda], used=None)
    check_eq(len(rows), 1, "get_inventory(entry_ids=[soda], used=None) has one row")
    check_eq(rows[0]["item"], {"name": "Soda Can", "used": True, "data": {"flavour": "cola"}},
             "the used flag is persisted")

    expect_api_error(409, "use_item on an already used item", a.use_item, soda)
    expect_api_error(409, "use_item on an already used item (other authority)", b.use_item, soda)
    expect_api_error(404, "use_item on an entry without an item", a.use_item, e_alice_a["entry_id"])
    expect_api_error(404, "use_item on an unknown entry", a.use_item, "no-such-entry")

    # use_item does not move money.
    check_eq(wallets_map(a.get_wallets(), "after use"), {alice: 135, bob: 0, carol: 7, dave: 0},
             "get_wallets() unchanged by use_item")

    # --- revocation ----------------------------------------------------------
    proc = subprocess.run([binary, "--db", db, "authority", "revoke", id_b],
                          capture_output=True, text=True, timeout=60)
    check(proc.returncode == 0,
          f"`authority revoke {id_b}` exits 0, got {proc.returncode}\n"
          f"stdout: {proc.stdout}\nstderr: {proc.stderr}")

    # /health needs no authentication, so it still works for B ...
    check(b.check_service_health() is True, "check_service_health() still True for revoked B")
    # ... but every authenticated call is refused.
    expect_api_error(401, "revoked B: get_wallets", b.get_wallets)
    expect_api_error(401, "revoked B: create_entry", b.create_entry, alice, 1, "after revoke")
    expect_api_error(401, "revoked B: get_inventory", b.get_inventory)
    expect_api_error(401, "revoked B: use_item", b.use_item, ticket)

    # A is unaffected, and nothing B tried went through.
    check_eq(wallets_map(a.get_wallets(), "after revoke"), {alice: 135, bob: 0, carol: 7, dave: 0},
             "get_wallets() by A after revoking B")
    check_eq(inventory_ids(a.get_inventory(used=False), "after revoke"), {ticket, badge},
             "the ticket was not used by revoked B")
    e_after = a.create_entry(alice, -135, "A still works")
    check_entry(e_after, id_a, alice, -135, "A still works", None, "create_entry by A after revoking B")
    check_eq(wallets_map(a.get_wallets(user_ids=[alice]), "final"), {alice: 0}, "alice spent to exactly 0")
    # Entries of the revoked authority still count.
    check_eq(wallets_map(a.get_wallets(authority_ids=[id_b]), "final"),
             {alice: 45, bob: -27, carol: 7}, "revoked B's entries still count")

    # --- item data exactly as sent ---------------------------------------------
    # None is sent as null and comes back as null (not dropped); an integer
    # beyond 64 bits keeps every digit (not rounded to a float).
    erin = "erin"
    big = {"serial": 2**70, "below": -(2**64) - 1, "price": 1.5}
    for name, data in (("Null", None), ("Big", big), ("Huge", 10**30)):
        made = a.create_entry(erin, 0, f"{name} data", item={"name": name, "data": data})
        item = made.get("item") or {}
        check("data" in item and item["data"] == data and type(item["data"]) is type(data),
              f"create_entry with {name} data keeps it exactly: {made!r}")
        rows = a.get_inventory(entry_ids=[made["entry_id"]])
        check_eq([r["item"].get("data", "absent") for r in rows], [data], f"inventory keeps {name} data")

    v1_items_are_v2_items(a, config_a, binary, db)

    print(f"sdk e2e: {CHECKS} checks passed")


def v2_client(config, binary, db):
    """An API v2 caller: an access key made with the CLI, at the SDK's base URL."""
    with open(config) as f:
        base = json.load(f)["api_base_url"]
    proc = subprocess.run([binary, "--db", db, "key", "create"], capture_output=True, text=True, timeout=60)
    check(proc.returncode == 0, f"`key create` exits 0, got {proc.returncode}: {proc.stderr}")
    key = proc.stdout.strip()
    check(key.startswith("ak_"), f"`key create` prints an access key: {proc.stdout!r}")

    def call(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{base}/api/v2{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    return call


def v1_items_are_v2_items(a, config_a, binary, db):
    """The SDK's create_entry(item=...), get_inventory and use_item agree with
    API v2's GET /items and GET /items/{id}/history: one item, seen by both."""
    v2 = v2_client(config_a, binary, db)
    frank, grace = "frank", "grace"
    lantern_data = {"fuel": 2**65, "colour": "amber"}
    made = a.create_entry(frank, 0, "quest reward", item={"name": "Lantern", "data": lantern_data})
    entry = made["entry_id"]

    status, page = v2("GET", f"/customers/{frank}/items")
    check_eq(status, 200, f"v2 GET /customers/{frank}/items")
    listed = [i for i in page["items"] if i["v1EntryId"] == entry]
    check_eq(len(listed), 1, f"v2 lists the SDK's item once: {page!r}")
    item = listed[0]
    check_eq(set(item), {"id", "itemType", "properties", "customerId", "status", "createdAt", "updatedAt",
                         "v1EntryId"}, "v2 item fields")
    check_eq((item["itemType"], item["properties"], item["customerId"], item["status"]),
             ("Lantern", lantern_data, frank, "Active"), "v2 shows the SDK's item as sent")
    item_id = item["id"]
    status, same = v2("GET", f"/items/{item_id}")
    check_eq((status, same), (200, item), "v2 GET /items/{id} shows the same item")
    rows = a.get_inventory(entry_ids=[entry], used=None)
    check_eq(len(rows), 1, "the SDK's inventory has the entry's item")
    check_eq((rows[0]["user_id"], rows[0]["item"]),
             (frank, {"name": "Lantern", "used": False, "data": lantern_data}),
             "the SDK's inventory agrees with v2")

    # Moved through v2: the SDK's inventory names the new owner.
    status, _ = v2("POST", "/customers", {"id": grace})
    check(status in (200, 201), f"v2 creates customer {grace}: {status}")
    status, moved = v2("POST", "/transactions", {"referenceId": "sdk-move", "operations": [
        {"type": "TransferItem", "item": item_id, "from": frank, "to": grace}]})
    check_eq((status, moved.get("status")), (201, "Completed"), f"v2 TransferItem: {moved!r}")
    check_eq(moved["items"][0]["customerId"], grace, "the reply lists the moved item")
    rows = a.get_inventory(entry_ids=[entry], used=None)
    check_eq([r["user_id"] for r in rows], [grace], "the SDK's inventory shows the item's current owner")
    check_eq(inventory_ids(a.get_inventory(user_ids=[frank]), "frank after the move"), set(),
             "get_inventory(user_ids=[frank]) no longer lists it")
    check_eq(inventory_ids(a.get_inventory(user_ids=[grace]), "grace after the move"), {entry},
             "get_inventory(user_ids=[grace]) lists it")

    # Used through the SDK: v2 shows it Consumed, the step in its history.
    used = a.use_item(entry)
    check(used["item"]["used"] is True, f"use_item marks it used: {used!r}")
    status, after = v2("GET", f"/items/{item_id}")
    check_eq((status, after["status"], after["customerId"]), (200, "Consumed", grace),
             "v2 sees the SDK's use_item")
    status, history = v2("GET", f"/items/{item_id}/history")
    check_eq(status, 200, "v2 GET /items/{id}/history")
    steps = [(s["type"], s["from"], s["to"]) for s in history["items"]]
    check_eq(steps, [("GrantItem", None, frank), ("TransferItem", frank, grace), ("ConsumeItem", grace, grace)],
             "the history replays create_entry, the v2 move and use_item, oldest first")
    check(all(isinstance(s["transactionId"], str) for s in history["items"]),
          f"every step names its transaction: {history!r}")
    check(all(s["properties"] == lantern_data for s in history["items"]),
          f"the properties after each step are the data: {history!r}")

    # Consumed through v2: the SDK sees it used and cannot use it again.
    made = a.create_entry(frank, 0, "second reward", item={"name": "Map", "data": "north"})
    entry = made["entry_id"]
    status, page = v2("GET", f"/customers/{frank}/items?itemType=Map&status=Active")
    check_eq((status, [i["v1EntryId"] for i in page["items"]]), (200, [entry]), "v2 filters the SDK's item")
    map_id = page["items"][0]["id"]
    status, consumed = v2("POST", "/transactions", {"referenceId": "sdk-consume", "operations": [
        {"type": "ConsumeItem", "item": map_id, "from": frank}]})
    check_eq((status, consumed["items"][0]["status"]), (201, "Consumed"), f"v2 ConsumeItem: {consumed!r}")
    rows = a.get_inventory(entry_ids=[entry], used=True)
    check_eq([r["item"] for r in rows], [{"name": "Map", "used": True, "data": "north"}],
             "the SDK's inventory shows v2's consumption as used")
    expect_api_error(409, "use_item of an item consumed through v2", a.use_item, entry)

    # Granted through v2: it has no entry, so the SDK never lists it.
    status, granted = v2("POST", "/transactions", {"referenceId": "sdk-grant", "operations": [
        {"type": "GrantItem", "itemType": "Badge", "customerId": frank, "itemId": "v2-badge"}]})
    check_eq(status, 201, f"v2 GrantItem: {granted!r}")
    check_eq(inventory_ids(a.get_inventory(user_ids=[frank], used=None), "frank's v1 items"), {entry},
             "items granted through v2 are not in the SDK's inventory")


if __name__ == "__main__":
    main()
