// The TypeScript client of wallet-service API v2: openapi-fetch's typed
// client over the types openapi-typescript generated from the server's
// OpenAPI document (src/schema.d.ts), with the bearer key set, and a
// reader of the events stream.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
/** The API's objects: `Schemas["Wallet"]`, `Schemas["Transaction"]`, … */
export type Schemas = components["schemas"];
export type Event = Schemas["Event"];
export type WalletClient = Client<paths>;

export interface WalletClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The server's root, e.g. `http://127.0.0.1:8080` (paths start with `/api/v2`). */
  baseUrl: string;
  /** An access key (`ak_…`), a customer key (`ck_…`) or an authority's JWT. */
  key: string;
}

/**
 * A typed client: `client.GET("/api/v2/wallets/{walletId}", { params: { path: { walletId } } })`
 * answers `{ data, error, response }`, `data` typed by the status-2xx schema
 * and `error` by the 4xx one (`{ status, message }`).
 */
export function createWalletClient({ baseUrl, key, headers, ...options }: WalletClientOptions): WalletClient {
  return createClient<paths>({
    ...options,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...(headers as Record<string, string> | undefined), Authorization: `Bearer ${key}` },
  });
}

export interface StreamOptions {
  baseUrl: string;
  key: string;
  /** Events with a `seq` greater than this (sent as `Last-Event-ID`); none: only new events. */
  after?: number;
  /** Only these event types. */
  types?: string[];
  /** Ends the stream. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * The events of `GET /api/v2/events/stream`, oldest first, as they commit.
 * Each event's `seq` is what a later call's `after` resumes from. Ends when
 * `signal` aborts or the server closes the stream; an error answer throws.
 */
export async function* streamEvents(options: StreamOptions): AsyncGenerator<Event> {
  const url = new URL("/api/v2/events/stream", options.baseUrl);
  if (options.types?.length) url.searchParams.set("types", options.types.join(","));
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.key}`,
    Accept: "text/event-stream",
  };
  if (options.after !== undefined) headers["Last-Event-ID"] = String(options.after);
  const init: RequestInit = { headers };
  if (options.signal) init.signal = options.signal;
  const response = await (options.fetch ?? fetch)(url, init);
  if (!response.ok || !response.body) {
    throw new Error(`events stream answered ${response.status}: ${await response.text()}`);
  }
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield JSON.parse(data) as Event;
      }
    }
  } catch (e) {
    if (options.signal?.aborted) return;
    throw e;
  }
}
