import { describe, expect, it } from "vitest";
import { withRuntime } from "./daemon-json.js";

const R = "yard-oomclamp";
const P = "/usr/local/sbin/yard-runc-oomclamp";

describe("daemon.json with the runc wrapper as the default runtime", () => {
  it("no file: the runtime and the default, nothing else", () => {
    const r = withRuntime(null, R, P);
    expect(r).toMatchObject({ ok: true, changed: true });
    if (r.ok) expect(JSON.parse(r.text)).toEqual({ runtimes: { [R]: { path: P } }, "default-runtime": R });
  });

  it("keeps every other key and runtime", () => {
    const cur = JSON.stringify({
      "log-driver": "local",
      runtimes: { nvidia: { path: "/usr/bin/nvidia-container-runtime" } },
    });
    const r = withRuntime(cur, R, P);
    if (!r.ok) throw new Error(r.error);
    expect(JSON.parse(r.text)).toEqual({
      "log-driver": "local",
      runtimes: { nvidia: { path: "/usr/bin/nvidia-container-runtime" }, [R]: { path: P } },
      "default-runtime": R,
    });
  });

  it("already set: unchanged, same text (no reload needed)", () => {
    const cur = JSON.stringify({ runtimes: { [R]: { path: P } }, "default-runtime": R });
    expect(withRuntime(cur, R, P)).toEqual({ ok: true, text: cur, changed: false });
  });

  it("runc as the explicit default is replaced", () => {
    const r = withRuntime('{"default-runtime":"runc"}', R, P);
    expect(r.ok && JSON.parse(r.text)["default-runtime"]).toBe(R);
  });

  it.each([
    ["{not json", /not valid JSON/],
    ["[1]", /not a JSON object/],
    ['{"default-runtime":"nvidia"}', /default runtime is "nvidia"/],
    ['{"runtimes":[]}', /"runtimes" is not an object/],
  ])("refuses %s", (text, re) => {
    const r = withRuntime(text, R, P);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(re);
  });
});
