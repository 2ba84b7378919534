import { describe, expect, it } from "vitest";
import { foreignStreamConfig } from "./streams.js";

describe("foreignStreamConfig", () => {
  const subjects = ["yard.events.>"];
  it.each([
    { name: "the config Switchyard makes", cfg: { subjects }, want: [] },
    {
      name: "a republish into a bucket",
      cfg: { subjects, republish: { src: "yard.events.>", dest: "$KV.yard-specs.x" } },
      want: ["republish"],
    },
    { name: "sources", cfg: { subjects, sources: [{ name: "KV_yard-specs" }] }, want: ["sources"] },
    { name: "a mirror", cfg: { mirror: { name: "KV_yard-specs" } }, want: ["mirror", "subjects []"] },
    {
      name: "subjects that capture what others publish",
      cfg: { subjects: ["yard.events.>", "yard.api.spec.*"] },
      want: ["subjects [yard.api.spec.* yard.events.>]"],
    },
    { name: "an empty sources list", cfg: { subjects, sources: [] }, want: [] },
  ])("$name: $want", ({ cfg, want }) => {
    expect(foreignStreamConfig(cfg, subjects)).toEqual(want);
  });
});
