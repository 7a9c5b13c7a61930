/**
 * Processes a fault test looks for or kills: those whose command line names a sandbox, and
 * those of a command started detached (a session of its own), killed all at once as a
 * reboot or `systemctl kill -s KILL` would.
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import { waitFor } from "./wait";

/** Pids of the processes whose command line names a path under `root`. */
export function processesUnder(root: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(root);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Pids of the processes in a session. */
export function sessionPids(sid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, session, …
    if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]) === sid) pids.push(Number(entry));
  }
  return pids;
}

/**
 * SIGKILL to every process of a command spawned detached: the command, its timed run in a
 * process group of its own, rclone; resolves once they are all gone.
 */
export async function killSession(run: ChildProcess): Promise<void> {
  const exited = run.exitCode === null ? new Promise((r) => run.once("exit", r)) : Promise.resolve();
  await waitFor("every process of the run to be killed", () => {
    const pids = sessionPids(run.pid!);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    return pids.length === 0;
  }, 120_000);
  await exited;
}
