import type { Child } from "./child.js";
import { nextRestart, type RestartPolicy, restartLine } from "./restart-policy.js";

/** One running process of a supervised unit: its child and its readiness. */
export interface Instance {
  child: Child;
  /** Resolves when it is ready; rejects when it exits first. */
  ready: Promise<unknown>;
}

export interface Unit<T extends Instance> {
  name: string;
  /** Start a process; `prev` is the instance it replaces (null the first time). */
  spawn(prev: T | null): T;
  /** Stop a process and everything it started; resolves with how it ended. */
  stop(child: Child): Promise<number | string>;
}

/**
 * Keeps one unit running (systemd's `Restart=on-failure`, compose's `restart: on-failure`): an
 * exit the launcher did not ask for schedules a restart with backoff (restart-policy.ts), and
 * only this unit restarts. The first process must become ready once: an exit before that is a
 * start-up failure (a bad config, a port in use), which the launcher reports and stops on.
 */
export class Supervisor<T extends Instance> {
  private inst: T;
  private startedAt: number;
  private everReady = false;
  private consecutive = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  restarts = 0;

  constructor(
    private readonly unit: Unit<T>,
    private readonly policy: RestartPolicy,
    private readonly say: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = this.now();
    this.inst = this.launch(null);
  }

  /** The current (latest) instance. */
  get current(): T {
    return this.inst;
  }

  /** Stop supervising and stop the current process (also when it is waiting for a restart). */
  async stop(): Promise<number | string> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.unit.stop(this.inst.child);
  }

  private launch(prev: T | null): T {
    const inst = this.unit.spawn(prev);
    const restart = this.restarts;
    inst.ready.then(
      () => {
        this.everReady = true;
        if (restart > 0 && !this.stopped)
          this.say(`${this.unit.name} ready again (pid ${inst.child.pid}, restart ${restart})`);
      },
      () => {},
    );
    void inst.child.exited.then((code) => this.exited(inst, code));
    return inst;
  }

  private exited(inst: T, code: number | string): void {
    if (this.stopped || inst !== this.inst || !this.everReady) return;
    const ranMs = this.now() - this.startedAt;
    const d = nextRestart(this.policy, this.consecutive, ranMs);
    this.consecutive = d.consecutive;
    this.say(restartLine(this.unit.name, code, ranMs, d));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.restarts++;
      this.startedAt = this.now();
      this.inst = this.launch(inst);
      this.say(`restarted ${this.unit.name} (pid ${this.inst.child.pid}, restart ${this.restarts})`);
    }, d.delayMs);
  }
}
