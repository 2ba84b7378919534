import { describe, expect, it } from "vitest";
import { callersOf, requestersOf, subjectMatches, subjectsOverlap } from "./access.js";
import { Subjects } from "./subjects.js";

describe("subject patterns", () => {
  it.each([
    { pattern: "yard.api.spec.*", subject: "yard.api.spec.delete", match: true },
    { pattern: "yard.api.spec.*", subject: "yard.api.spec.delete.x", match: false },
    { pattern: "yard.api.spec.*", subject: "yard.api.spec", match: false },
    { pattern: "yard.metrics.>", subject: "yard.metrics.llm", match: true },
    { pattern: "yard.metrics.>", subject: "yard.metrics", match: false },
    { pattern: "yard.hint.probe", subject: "yard.hint.probe", match: true },
    { pattern: "yard.hint.probe", subject: "yard.hint.probes", match: false },
  ])("$pattern covers $subject: $match", ({ pattern, subject, match }) => {
    expect(subjectMatches(pattern, subject)).toBe(match);
  });

  it.each([
    { a: "yard.api.spec.*", b: "yard.api.*.delete", overlap: true },
    { a: "yard.api.spec.*", b: "yard.api.replica.logs", overlap: false },
    { a: ">", b: "anything.at.all", overlap: true },
    { a: "a.*", b: "a.b.c", overlap: false },
  ])("$a and $b overlap: $overlap", ({ a, b, overlap }) => {
    expect(subjectsOverlap(a, b)).toBe(overlap);
    expect(subjectsOverlap(b, a)).toBe(overlap);
  });
});

describe("who may call whom", () => {
  it.each([
    { subject: Subjects.specDelete, callers: ["cli"] },
    { subject: Subjects.specApply, callers: ["cli"] },
    { subject: Subjects.replicaLogs, callers: ["cli"] },
    { subject: Subjects.probeHint, callers: ["proxy"] },
    { subject: "yard.api.unknown.verb", callers: [] },
  ])("$subject is called by $callers", ({ subject, callers }) => {
    expect(callersOf(subject)).toEqual(callers);
  });

  it.each([
    { user: "spec", requesters: ["cli"] },
    { user: "provisioner", requesters: ["cli"] },
    // The prober takes hints but answers nothing: no inbox of anyone.
    { user: "prober", requesters: [] },
    { user: "proxy", requesters: [] },
    { user: "cli", requesters: [] },
  ] as const)("$user answers $requesters", ({ user, requesters }) => {
    expect(requestersOf(user)).toEqual(requesters);
  });
});
