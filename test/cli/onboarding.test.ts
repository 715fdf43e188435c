import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { maand, REPO } from "../helpers/cli.js";

/** What a new operator meets first: the version, and a bucket that is safe to put in git. */

const tmp = () => mkdtempSync(join(tmpdir(), "maand-onboarding-"));

function git(cwd: string, ...args: string[]): string {
  // No user or system config: the test must not depend on (or change) the machine's git setup.
  const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
  const r = spawnSync("git", args, { cwd, encoding: "utf8", env });
  assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("onboarding (CLI, real processes)", () => {
  it("maand --version and -V print package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = maand(tmp(), flag);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
  });

  it("init writes a .gitignore: git then sees only the workspace, maand.conf and .gitignore", (t) => {
    const root = tmp();
    t.after(() => rmSync(root, { recursive: true, force: true }));
    assert.equal(maand(root, "init").status, 0);
    // Files in every directory the .gitignore must cover.
    for (const f of ["tmp/staged.txt", "logs/10.0.0.1.log"]) writeFileSync(join(root, f), "x");
    git(root, "init", "-q");
    git(root, "add", "-A");
    const tracked = git(root, "diff", "--cached", "--name-only").trim().split("\n").sort();
    assert.deepEqual(tracked, [".gitignore", "maand.conf", "workspace/bucket.conf", "workspace/workers.json"]);
  });

  it("init on an existing bucket leaves an operator's .gitignore as it is", (t) => {
    const root = tmp();
    t.after(() => rmSync(root, { recursive: true, force: true }));
    assert.equal(maand(root, "init").status, 0);
    const edited = `${readFileSync(join(root, ".gitignore"), "utf8")}*.swp\n`;
    writeFileSync(join(root, ".gitignore"), edited);
    const again = maand(root, "init");
    assert.equal(again.status, 0);
    assert.match(again.stdout, /nothing changed/);
    assert.equal(readFileSync(join(root, ".gitignore"), "utf8"), edited);
  });

  it("init in a directory checked out from git keeps the repository's own .gitignore", (t) => {
    const root = tmp();
    t.after(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, ".gitignore"), "/secrets/\n/data/\n/tmp/\n/logs/\n# ours\n");
    assert.equal(maand(root, "init").status, 0);
    assert.equal(readFileSync(join(root, ".gitignore"), "utf8"), "/secrets/\n/data/\n/tmp/\n/logs/\n# ours\n");
  });
});
