import { describe, expect, it } from "vitest";
import { activeRevisions, type LatestRevision } from "./rollout.js";

const rolling = (revision: number, minReplicas = 1): LatestRevision => ({
  revision,
  mode: "rolling",
  minReplicas,
});
const blueGreen = (revision: number, minReplicas = 2): LatestRevision => ({
  revision,
  mode: "blue_green",
  minReplicas,
});

describe("activeRevisions (SkyServe's active_versions)", () => {
  it.each<{ name: string; ready: number[]; latest: LatestRevision | null; floor?: number; want: number[] }>([
    {
      name: "rolling: every revision with a ready replica",
      ready: [1, 2, 1],
      latest: rolling(2),
      want: [1, 2],
    },
    { name: "rolling: none ready, none active", ready: [], latest: rolling(2), want: [] },
    { name: "no route known: every revision", ready: [3, 1], latest: null, want: [1, 3] },
    {
      name: "blue-green: the new revision below min_replicas → the old one alone",
      ready: [1, 1, 2],
      latest: blueGreen(2),
      want: [1],
    },
    {
      name: "blue-green: min_replicas ready → the new one alone",
      ready: [1, 1, 2, 2],
      latest: blueGreen(2),
      want: [2],
    },
    {
      name: "blue-green: a stale standby revision never serves while an older one does",
      ready: [1, 2, 3],
      latest: blueGreen(3),
      want: [1],
    },
    {
      name: "blue-green: min_replicas 0 still waits for one ready replica",
      ready: [1],
      latest: blueGreen(2, 0),
      want: [1],
    },
    {
      name: "blue-green: only the new revision has ready ones → it",
      ready: [2],
      latest: blueGreen(2),
      want: [2],
    },
    {
      name: "a revision newer than the route (route not seen yet) takes nothing",
      ready: [1, 2],
      latest: rolling(1),
      want: [1],
    },
    {
      name: "below the floor (a proxy already switched) takes nothing",
      ready: [1, 2],
      latest: blueGreen(2),
      floor: 2,
      want: [2],
    },
  ])("$name", ({ ready, latest, floor, want }) => {
    expect(activeRevisions(ready, latest, floor)).toEqual(want);
  });
});
