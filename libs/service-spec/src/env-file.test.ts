import { YardError } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { parseEnvFile, parseKeyValue } from "./env-file.js";

function error(fn: () => unknown): YardError {
  try {
    fn();
  } catch (e) {
    if (e instanceof YardError) return e;
    throw e;
  }
  throw new Error("expected a YardError");
}

describe("parseEnvFile", () => {
  it.each([
    { name: "plain", text: "A=1\nB=two\n", want: { A: "1", B: "two" } },
    { name: "comments and blank lines", text: "# c\n\n  # indented\nA=1\n", want: { A: "1" } },
    { name: "export prefix", text: "export A=1\n", want: { A: "1" } },
    { name: "spaces around =", text: "A = 1 \n", want: { A: "1" } },
    { name: "empty value", text: "A=\n", want: { A: "" } },
    { name: "inline comment after unquoted value", text: "A=1 # one\n", want: { A: "1" } },
    { name: "hash inside a value", text: "A=a#b\n", want: { A: "a#b" } },
    { name: "= inside a value", text: "A=x=y\n", want: { A: "x=y" } },
    { name: "double quotes with escapes", text: 'A="a\\nb \\"q\\""\n', want: { A: 'a\nb "q"' } },
    { name: "single quotes are literal", text: "A='a\\nb $X'\n", want: { A: "a\\nb $X" } },
    { name: "quoted with comment after", text: 'A="x y" # c\n', want: { A: "x y" } },
    {
      name: "multi-line double-quoted",
      text: 'A="line1\nline2"\nB=2\n',
      want: { A: "line1\nline2", B: "2" },
    },
    { name: "CRLF line ends", text: "A=1\r\nB=2\r\n", want: { A: "1", B: "2" } },
    { name: "later wins", text: "A=1\nA=2\n", want: { A: "2" } },
  ])("$name", ({ text, want }) => {
    expect(parseEnvFile(text)).toEqual(want);
  });

  it.each([
    { name: "no =", text: "A=1\nsk-very-secret\n", at: "prod.env:2" },
    { name: "bad name", text: "1A=x\n", at: "prod.env:1" },
    { name: "unterminated quote", text: 'A=1\nB="abc\nC=2\n', at: "prod.env:2" },
    { name: "text after the closing quote", text: 'A="x" y\n', at: "prod.env:1" },
  ])("bad line: $name → error naming $at, without the text", ({ text, at }) => {
    const e = error(() => parseEnvFile(text, "prod.env"));
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.message.startsWith(`${at}:`)).toBe(true);
    expect(e.message).not.toContain("sk-very-secret");
    expect(e.message).not.toContain("abc");
  });
});

describe("parseKeyValue", () => {
  it.each([
    { name: "simple", arg: "A=1", want: { key: "A", value: "1" } },
    { name: "empty value", arg: "A=", want: { key: "A", value: "" } },
    { name: "= in value", arg: "TOKEN=a=b", want: { key: "TOKEN", value: "a=b" } },
  ])("$name", ({ arg, want }) => {
    expect(parseKeyValue(arg, "--env")).toEqual(want);
  });

  it.each([
    { name: "no =", arg: "s3cr3t", flag: "--secret" },
    { name: "empty key", arg: "=s3cr3t", flag: "--env" },
    { name: "bad key", arg: "A-B=s3cr3t", flag: "--env" },
  ])("$name → error naming $flag, never the value", ({ arg, flag }) => {
    const e = error(() => parseKeyValue(arg, flag));
    expect(e.message).toContain(flag);
    expect(e.message).not.toContain("s3cr3t");
  });
});
