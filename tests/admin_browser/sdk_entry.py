"""Uses the client config file downloaded from the admin page with the real
Python SDK: one entry for a new user, then the user's total.

Usage: sdk_entry.py CONFIG_FILE USER_ID AMOUNT
"""

import sys

import wallet_sdk


def main() -> None:
    config, user_id, amount = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = wallet_sdk.WalletClient.LoadFromConfig(config)
    client.create_entry(user_id=user_id, amount=amount, reason="e2e")
    wallets = client.get_wallets(user_ids=[user_id])
    expected = [{"user_id": user_id, "total": amount}]
    if wallets != expected:
        sys.exit(f"get_wallets answered {wallets!r}, expected {expected!r}")
    print(f"sdk: created an entry of {amount} for {user_id}; total {wallets[0]['total']}")


if __name__ == "__main__":
    main()
