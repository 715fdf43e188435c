#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the prepare script) and bundled into
// dist/cli-bundle/ (one file per lazily loaded part instead of a module per source file: Node 20
// resolves, reads and links each ESM module on its own, about half a millisecond apiece on every
// command; dynamic imports stay separate chunks, so a command still loads only what it runs).
import("../dist/cli-bundle/main.js").then((m) => m.main(process.argv)).catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
