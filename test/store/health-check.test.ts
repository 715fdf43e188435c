import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { jobHealthCheck } from "../../server/store/catalog.js";
import { hookBucket, workers, type HookBucket } from "../hooks/fixture.js";

describe("catalog: a job's health checks, typed", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(1),
      jobs: {
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["w"],
            health_check: { checks: [{ type: "tcp", port: 5432 }, { type: "http", port: 8080, path: "/healthz" }, { type: "ssh", command: "true" }], wait: { attempts: 3 } },
          },
        },
        plain: { manifest: { version: "1.0.0", selectors: ["w"] } },
      },
    });
  });
  after(() => b.cleanup());

  it("are the normalised spec build stored (defaults filled in), undefined for a job without any", async () => {
    await b.with((ctx) => {
      assert.deepEqual(jobHealthCheck(ctx.db, "api"), {
        checks: [
          { type: "tcp", port: 5432 },
          { type: "http", port: 8080, path: "/healthz", expect_status: 200, scheme: "http" },
          { type: "ssh", command: "true" },
        ],
        timeoutSeconds: 5,
        wait: { attempts: 3, intervalSeconds: 1 },
      });
      assert.equal(jobHealthCheck(ctx.db, "plain"), undefined);
      assert.equal(jobHealthCheck(ctx.db, "nosuch"), undefined);
    });
  });
});
