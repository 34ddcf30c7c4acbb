// Exits 1 when src/schema.d.ts is not what openapi-typescript makes of the
// committed openapi.json (the Rust test checks that openapi.json is what
// the server serves).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { schemaTypes } from "./schema-types.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const document = JSON.parse(readFileSync(here("../openapi.json"), "utf8"));
const committed = readFileSync(here("../src/schema.d.ts"), "utf8");
if (committed !== (await schemaTypes(document))) {
  console.error("src/schema.d.ts is stale: run `npm run generate` in clients/typescript");
  process.exit(1);
}
console.log("src/schema.d.ts is what openapi-typescript generates from openapi.json");
