// Regenerates openapi.json and src/schema.d.ts: the one command to run after
// any change of API v2 (`npm run generate`). The document comes from
// `wallet-service openapi` (exactly what the server serves at
// /api/v2/openapi.json): the binary named by $WALLET_SERVICE, else
// `cargo run` in this repository. `cargo test --test sdk_e2e` fails when
// either committed file is stale.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { schemaTypes } from "./schema-types.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const document = process.env.WALLET_SERVICE
  ? execFileSync(process.env.WALLET_SERVICE, ["openapi"], { encoding: "utf8" })
  : execFileSync("cargo", ["run", "--quiet", "--", "openapi"], {
      cwd: here("../../.."),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
writeFileSync(here("../openapi.json"), document);
writeFileSync(here("../src/schema.d.ts"), await schemaTypes(JSON.parse(document)));
console.log("wrote openapi.json and src/schema.d.ts");
