import { describe, expect, it } from "vitest";
import { longestFirst, maskLoose } from "./io.js";

describe("maskLoose", () => {
  it.each([
    {
      name: "long secret masked anywhere",
      text: "key=abcdefgh12;xabcdefgh12x",
      secrets: ["abcdefgh12"],
      want: "key=***;x***x",
    },
    {
      name: "short secret masked as a whole word",
      text: "Bearer t0k, t0k.",
      secrets: ["t0k"],
      want: "Bearer ***, ***.",
    },
    { name: "short secret left inside words", text: "python shh h", secrets: ["h"], want: "python shh ***" },
    { name: "regex characters are literal", text: "pw a+b? here", secrets: ["a+b?"], want: "pw *** here" },
    { name: "no secrets", text: "plain", secrets: [], want: "plain" },
  ])("$name", ({ text, secrets, want }) => {
    expect(maskLoose(text, secrets)).toBe(want);
  });
});

describe("longestFirst", () => {
  it("drops empty and duplicate values and sorts by length", () => {
    expect(longestFirst(["ab", "", "abcd", "ab", "x"])).toEqual(["abcd", "ab", "x"]);
  });
});
