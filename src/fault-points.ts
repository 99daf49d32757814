/**
 * Deterministic crash points for tests. Killing a process at random moments (test/search/crash.test.ts)
 * lands on a few points only; test/hardening/crash-points.test.ts instead kills a command at every
 * write, fsync, rename and store commit it makes, one run per point, and checks what is left.
 *
 *   PAPERHOUND_FAULT_AT=<n>       the nth call to faultPoint in this process SIGKILLs it (no cleanup,
 *                                 no finally blocks run: what a crash or power cut leaves).
 *   PAPERHOUND_FAULT_TRACE=<file> append "<n> <kind> <where>" per call (how many points a run has).
 *
 * Only tests set these; they are not user settings (not in src/config.ts SETTINGS, so the test
 * helpers' cleanEnv does not remove them and tests pass them explicitly). Unset, a call is one
 * boolean check. Counts are per process (and per worker thread, which never writes).
 */
import { appendFileSync } from "node:fs";

export type FaultKind = "write" | "fsync" | "rename" | "commit";

function faultAt(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`PAPERHOUND_FAULT_AT must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const AT = faultAt(process.env.PAPERHOUND_FAULT_AT);
const TRACE = process.env.PAPERHOUND_FAULT_TRACE || undefined;
const ACTIVE = AT !== undefined || TRACE !== undefined;
let calls = 0;

/** Marks a point where a crash must leave the data consistent; see the file comment. */
export function faultPoint(kind: FaultKind, where: string): void {
  if (!ACTIVE) return;
  calls += 1;
  if (TRACE) appendFileSync(TRACE, `${calls} ${kind} ${where}\n`);
  if (calls === AT) process.kill(process.pid, "SIGKILL");
}
