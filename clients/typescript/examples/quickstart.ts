// Creates an asset, a customer and their wallet, issues 10.00 into it and
// reads the balance back, through the typed client:
//
//   npm ci && WALLET_KEY=ak_... npm run quickstart
//
// WALLET_BASE_URL defaults to http://127.0.0.1:8080; the key is an access
// key of the project (`wallet-service key create --project default`).
import { createWalletClient } from "@wallet-service/client";

const baseUrl = process.env.WALLET_BASE_URL ?? "http://127.0.0.1:8080";
const key = process.env.WALLET_KEY;
if (!key) throw new Error("set WALLET_KEY to an access key (wallet-service key create --project default)");
const client = createWalletClient({ baseUrl, key });

/** The data of a 2xx answer; anything else throws with the error body. */
function must<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${what}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

// A fresh suffix, so the example can run again on the same server.
const run = Date.now().toString(36).slice(-6).toUpperCase();

const asset = must(
  "create the asset",
  await client.POST("/api/v2/assets", { body: { name: `Quickstart coins ${run}`, code: `Q${run}`, fractions: 100 } }),
);
const customer = must(
  "create the customer",
  await client.POST("/api/v2/customers", { body: { id: `quickstart-${run}`, name: "Quickstart customer" } }),
);
const wallet = must(
  "open the wallet",
  await client.POST("/api/v2/wallets", { body: { customerId: customer.id, assetId: asset.id, name: "main" } }),
);
console.log(`asset ${asset.id} (${asset.code}), customer ${customer.id}, wallet ${wallet.id}`);

// 10.00: amounts count the asset's smallest parts (here cents). The
// referenceId makes a retry safe: sent twice, it applies once.
const posted = must(
  "issue",
  await client.POST("/api/v2/transactions", {
    body: {
      referenceId: `quickstart-${run}`,
      operations: [{ type: "Issue", destination: wallet.id, amount: 1000 }],
      description: "quickstart issue",
    },
  }),
);
console.log(`transaction ${posted.id} ${posted.status}`);

const read = must(
  "read the wallet",
  await client.GET("/api/v2/wallets/{walletId}", { params: { path: { walletId: wallet.id } } }),
);
console.log(`balance: ${read.balance} (available ${read.available})`);
