// Waits for a semaphore another allocation holds, with fetch made unusable. Run by
// test/sdk/live.test.ts under Bun and, transpiled, under Node 20. Node's fetch gives up on a
// response whose headers take over 300 s, which would cut a semaphore wait (default 600 s)
// short, so the SDK must not depend on fetch; a real 300 s wait is too slow for a test.
import { acquireSemaphore, releaseSemaphore, unwrap } from "./maand.ts";

globalThis.fetch = (() => {
  throw new Error("the SDK called fetch");
}) as unknown as typeof fetch;

const name = process.argv[2] ?? "no-fetch";
const acquired = await unwrap(acquireSemaphore(name, 1, 30));
const released = await unwrap(releaseSemaphore(name));
console.log(JSON.stringify({ acquired: acquired.acquired, released: released.released }));
