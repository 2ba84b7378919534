/** Host variables a replica inherits from the provisioner; nothing else (no NATS credentials). */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL", "TERM"];

export interface ReplicaEnvInput {
  base: NodeJS.ProcessEnv;
  specEnvs: Readonly<Record<string, string>>;
  service: string;
  id: number;
  port: number;
  gpuIndices: readonly number[];
  dir: string;
  /** Dirs put first on PATH (the checkout's node_modules/.bin, so `fake-openai-engine` resolves). */
  extraPath: readonly string[];
}

/**
 * Defaults that make a replica's output reach its log (and `yard logs`) as it is written, for
 * the runtimes that block-buffer stdout when it is not a terminal (a replica's is a file). A
 * spec that sets one keeps its own value.
 * - Python (vLLM, SGLang, a FastAPI server): `print()` would sit in an 8 KB buffer until it
 *   fills or the process exits, so a line such as "client disconnected" (SkyServe's cancel test
 *   greps for it) would not show while the replica runs. PYTHONUNBUFFERED=1 is what SkyServe's
 *   users set by hand.
 * Not covered: C programs using stdio and Ruby/Perl scripts, which buffer too but have no
 * environment switch (stdbuf preloads a library into every process, which breaks static and
 * setuid binaries); they must flush or set it themselves (`setvbuf`, `$stdout.sync = true`,
 * `$| = 1`). Node, Go and Java's System.out write through already.
 */
export const UNBUFFERED_OUTPUT: Readonly<Record<string, string>> = { PYTHONUNBUFFERED: "1" };

/**
 * The replica's environment: a few host variables and the unbuffered-output defaults, then the
 * spec's resolved envs, then the provisioner's own variables (which the spec cannot override):
 * YARD_*, and SKYPILOT_SERVE_REPLICA_ID (the same id under SkyServe's name, which its replicas
 * and update tests read).
 * CUDA_VISIBLE_DEVICES is always set: the GPU indices it got, or "" (no GPU) for a CPU replica.
 */
export function buildReplicaEnv(o: ReplicaEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of INHERITED) if (o.base[k] !== undefined) env[k] = o.base[k] as string;
  Object.assign(env, UNBUFFERED_OUTPUT, o.specEnvs);
  const path = [...o.extraPath, env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].filter(Boolean).join(":");
  return {
    ...env,
    PATH: path,
    YARD_SERVICE: o.service,
    YARD_REPLICA_ID: String(o.id),
    SKYPILOT_SERVE_REPLICA_ID: String(o.id),
    YARD_REPLICA_PORT: String(o.port),
    YARD_REPLICA_DIR: o.dir,
    CUDA_VISIBLE_DEVICES: o.gpuIndices.join(","),
  };
}

/**
 * The one bash process that leads the replica's process group: `setup` with `set -e`, then
 * `run`. It records which stage ended and its exit code in `exit.status` and marks the start of
 * `run` with the file `run.started`, so a restarted provisioner can tell what happened to a
 * replica it did not start. On SIGTERM (sent to the whole group) it waits for `run` to exit, so
 * that `run` is reaped here rather than left to init (some inits never reap).
 */
export const RUNNER_SCRIPT = `d="$YARD_REPLICA_DIR"
stopping=
trap 'stopping=1' TERM INT
if [ -s "$d/setup.sh" ]; then
  bash -e "$d/setup.sh"
  code=$?
  if [ "$code" -ne 0 ]; then echo "setup $code" > "$d/exit.status"; exit "$code"; fi
  if [ -n "$stopping" ]; then exit 143; fi
fi
: > "$d/run.started"
bash "$d/run.sh" &
child=$!
wait "$child"
code=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
echo "run $code" > "$d/exit.status"
exit "$code"
`;
