// tsc emits no .d.ts for a .d.ts input: the generated types are copied
// beside the built index so dist/index.d.ts can import them.
import { copyFileSync } from "node:fs";

copyFileSync(new URL("../src/schema.d.ts", import.meta.url), new URL("../dist/schema.d.ts", import.meta.url));
