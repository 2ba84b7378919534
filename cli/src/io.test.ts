import { describe, expect, it } from "vitest";
import { type Io, maskedIo } from "./io.js";

describe("maskedIo", () => {
  it("masks out, err and write with the current secrets (rules: contracts maskText)", () => {
    const got: string[] = [];
    const io: Io = {
      out: (l) => got.push(`out:${l}`),
      err: (l) => got.push(`err:${l}`),
      write: (t) => got.push(`write:${t}`),
      env: {},
      cwd: "/",
      signal: new AbortController().signal,
      now: () => 0,
    };
    let secrets: string[] = ["h"];
    const m = maskedIo(io, () => secrets);
    m.out("python -h");
    secrets = ["h", "tok-123456789"];
    m.err("Bearer tok-123456789");
    m.write("x=tok-123456789x h\n");
    expect(got).toEqual(["out:python -***", "err:Bearer ***", "write:x=***x ***\n"]);
  });
});
