// Drives a real wallet-service through the built client (dist/): the Rust
// test tests/sdk/typescript.rs starts the server on port 0 and passes
// WALLET_BASE_URL and WALLET_KEY (an access key of the default project).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createWalletClient, streamEvents } from "../dist/index.js";

const baseUrl = process.env.WALLET_BASE_URL;
const key = process.env.WALLET_KEY;
assert.ok(baseUrl && key, "WALLET_BASE_URL and WALLET_KEY must be set (run through cargo test --test sdk_e2e)");

const client = createWalletClient({ baseUrl, key });

/** The data of a 2xx answer; anything else fails with the error body. */
function ok({ data, error, response }) {
  assert.ok(response.ok, `${response.status} ${response.url}: ${JSON.stringify(error)}`);
  return data;
}

test("assets, customers, wallets, transactions, holds, items and events", async () => {
  const asset = ok(
    await client.POST("/api/v2/assets", { body: { name: "Gold", code: "GOLD", fractions: 100 } }),
  );
  assert.equal(asset.code, "GOLD");

  for (const id of ["alice", "bob"]) {
    const customer = ok(await client.POST("/api/v2/customers", { body: { id, name: id } }));
    assert.equal(customer.id, id);
  }
  const wallet = async (customerId) =>
    ok(await client.POST("/api/v2/wallets", { body: { customerId, assetId: asset.id } }));
  const alice = await wallet("alice");
  const bob = await wallet("bob");

  const tx = ok(
    await client.POST("/api/v2/transactions", {
      body: {
        referenceId: "ts-1",
        operations: [
          { type: "Issue", destination: alice.id, amount: 500 },
          { type: "Transfer", source: alice.id, destination: bob.id, amount: 200 },
        ],
      },
    }),
  );
  assert.equal(tx.status, "Completed");

  const read = ok(await client.GET("/api/v2/wallets/{walletId}", { params: { path: { walletId: alice.id } } }));
  assert.equal(read.balance, 300);
  const at = ok(
    await client.GET("/api/v2/wallets/{walletId}/balance", {
      params: { path: { walletId: bob.id }, query: { at: Date.now() + 1000 } },
    }),
  );
  assert.equal(at.balance, 200);

  ok(
    await client.POST("/api/v2/transactions", {
      body: { referenceId: "ts-hold", operations: [{ type: "Hold", source: alice.id, amount: 50, holdId: "ts-hold-1" }] },
    }),
  );
  const hold = ok(await client.GET("/api/v2/holds/{holdId}", { params: { path: { holdId: "ts-hold-1" } } }));
  assert.equal(hold.status, "Open");
  assert.equal(hold.remaining, 50);
  const held = ok(await client.GET("/api/v2/wallets/{walletId}", { params: { path: { walletId: alice.id } } }));
  assert.equal(held.available, 250);

  ok(
    await client.POST("/api/v2/transactions", {
      body: {
        referenceId: "ts-item",
        operations: [{ type: "GrantItem", itemType: "sword", customerId: "alice", itemId: "ts-sword", properties: { level: 3 } }],
      },
    }),
  );
  const item = ok(await client.GET("/api/v2/items/{itemId}", { params: { path: { itemId: "ts-sword" } } }));
  assert.equal(item.customerId, "alice");
  assert.deepEqual(item.properties, { level: 3 });

  const feed = ok(await client.GET("/api/v2/events", { params: { query: { after: 0, types: "transaction.completed" } } }));
  assert.deepEqual(
    feed.events.map((e) => e.data.referenceId),
    ["ts-1", "ts-hold", "ts-item"],
  );

  // The stream replays from a seq, then the reader stops it.
  const stop = new AbortController();
  const seen = [];
  for await (const event of streamEvents({ baseUrl, key, after: 0, types: ["transaction.completed"], signal: stop.signal })) {
    seen.push(event.data.referenceId);
    if (seen.length === 3) stop.abort();
  }
  assert.deepEqual(seen, ["ts-1", "ts-hold", "ts-item"]);
});

test("an error answers its typed error body", async () => {
  const missing = await client.GET("/api/v2/wallets/{walletId}", { params: { path: { walletId: "999999999" } } });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.data, undefined);
  assert.equal(missing.error.status, "WALLET_NOT_FOUND");
  assert.match(missing.error.message, /wallet/i);

  const refused = await client.POST("/api/v2/assets", { body: { name: "Bad", code: "no spaces", fractions: 1 } });
  assert.equal(refused.response.status, 400);
  assert.equal(refused.error.status, "VALIDATION_ERROR");

  const unauthorized = await createWalletClient({ baseUrl, key: "ak_wrong" }).GET("/api/v2/project");
  assert.equal(unauthorized.response.status, 401);
});
