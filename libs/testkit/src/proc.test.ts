import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { alive } from "./proc.js";

/** The state letter of /proc/<pid>/stat, or null once the pid is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.charAt(stat.lastIndexOf(")") + 2);
  } catch {
    return null;
  }
}

describe("alive", () => {
  it("is true for a running process, false for a reaped one and for pids that name a group", async () => {
    expect(alive(process.pid)).toBe(true);
    const child = spawn("true");
    const pid = child.pid!;
    await once(child, "exit");
    expect(alive(pid)).toBe(false);
    expect(alive(0)).toBe(false);
    expect(alive(-process.pid)).toBe(false);
  });

  it.skipIf(!existsSync("/proc/self/stat"))(
    "is false for a zombie (exited, not reaped), which signal 0 still finds",
    async (ctx) => {
      // The shell starts `true` in the background, prints its pid and blocks in `read`, which
      // (dash, Debian's sh) does not reap it: `true` stays a zombie until the shell's `wait`.
      const holder = spawn("sh", ["-c", "true & echo $!; read _; wait"], {
        stdio: ["pipe", "pipe", "ignore"],
      });
      try {
        const [out] = (await once(holder.stdout!, "data")) as [Buffer];
        const zombie = Number(out.toString().trim());
        expect(zombie).toBeGreaterThan(0);
        await expect.poll(() => procState(zombie) ?? "gone", { timeout: 5_000 }).toMatch(/^(Z|gone)$/);
        if (procState(zombie) !== "Z") ctx.skip("this sh reaps background jobs while it waits in `read`");
        expect(() => process.kill(zombie, 0)).not.toThrow();
        expect(alive(zombie)).toBe(false);
        expect(alive(holder.pid!)).toBe(true);
      } finally {
        holder.stdin!.end("\n");
        await once(holder, "exit");
      }
    },
  );
});
