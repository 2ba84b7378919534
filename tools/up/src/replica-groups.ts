import { readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { groupRunning as groupAlive, type ProcStat, procStat } from "@switchyard/runtime";
import { until } from "./child.js";

/**
 * The replica process groups the provisioner's local backend records, one file per group that
 * may be alive: `<state dir>/replica-groups/<pgid>`, holding the start time of the group's
 * leader (/proc clock ticks; empty where unknown). services/provisioner/src/replica-files.ts
 * writes them at launch and removes them once the group is gone. The launcher reads them
 * without the provisioner: a provisioner that crashed (or hung and was killed) leaves replicas
 * in their own process groups, which no signal to the provisioner's tree reaches. The record of
 * a group the launcher stopped becomes `<pgid>.stopped`: the next provisioner reads it to
 * record that replica as stopped, not crashed.
 */
export const REPLICA_GROUPS_DIR = "replica-groups";

/**
 * The process group a record names, when it is one to stop; null for a record that is not a
 * pgid (hostile or broken files), names this process or its group, or whose leader's pid now
 * belongs to another process (the group is long gone; a pid is never reused while a group has
 * that id, so a live leader with another start time means the record is stale). Pure.
 */
export function recordedGroup(
  name: string,
  content: string,
  leader: ProcStat | null,
  self: { pid: number; pgrp: number },
): number | null {
  if (!/^[1-9]\d{0,9}$/.test(name)) return null;
  const pgid = Number(name);
  if (pgid < 2 || pgid > 2 ** 31 - 1 || pgid === self.pid || pgid === self.pgrp) return null;
  const started = content.trim();
  if (leader && /^\d+$/.test(started) && String(leader.startTime) !== started) return null;
  return pgid;
}

function kill(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig); // the group only: never the bare pid, which may be another process
  } catch {
    // gone meanwhile
  }
}

/**
 * Stop every recorded replica group still alive: SIGTERM to each group, SIGKILL to those alive
 * after `graceMs`. Records of groups already gone are removed; those of groups it stopped are
 * renamed `<pgid>.stopped`. Returns the pgids stopped.
 */
export async function stopReplicaGroups(stateDir: string, graceMs: number): Promise<number[]> {
  const dir = join(stateDir, REPLICA_GROUPS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const self = { pid: process.pid, pgrp: procStat(process.pid)?.pgrp ?? process.pid };
  const groups: number[] = [];
  for (const name of names) {
    if (name.endsWith(".stopped")) continue; // a note for the next provisioner
    let content = "";
    try {
      content = readFileSync(join(dir, name), "utf8").slice(0, 64);
    } catch {
      continue;
    }
    const pgid = recordedGroup(name, content, procStat(Number(name)), self);
    if (pgid !== null && groupAlive(pgid)) groups.push(pgid);
    else rmSync(join(dir, name), { force: true });
  }
  for (const g of groups) kill(g, "SIGTERM");
  const anyAlive = () => groups.some(groupAlive);
  if (!(await until(() => !anyAlive(), graceMs))) {
    for (const g of groups.filter(groupAlive)) kill(g, "SIGKILL");
    await until(() => !anyAlive(), 5_000);
  }
  for (const g of groups) {
    if (groupAlive(g)) continue;
    try {
      renameSync(join(dir, String(g)), join(dir, `${g}.stopped`));
    } catch {
      // the provisioner's clean-up came first
    }
  }
  return groups;
}
