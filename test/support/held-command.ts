/**
 * Runs the installed command in its own process group, stopped at a chosen point by the
 * command's test hook (OPENWEBUI_BACKUP_TEST_HOLD): the test waits for the hook's marker
 * file, then kills the group (as systemd does the unit's cgroup) or lets it go on. No sleeps:
 * every wait is on a condition, with a deadline.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./host-sandbox";
import { waitFor } from "./wait";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface HeldCommand extends StartedCommand {
  /** Resolves when the command is at its hold point; rejects if it exits first. */
  readonly held: Promise<void>;
  /** Lets the command go on past its hold point. */
  release(): void;
}

let counter = 0;

export interface StartedCommand {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** Signals the whole process group. */
  kill(signal: NodeJS.Signals): void;
}

/** Starts the installed command in its own process group. */
export function start(sandbox: HostSandbox, args: string[], env: NodeJS.ProcessEnv = {}): StartedCommand {
  const child = spawn(sandbox.paths.command, args, { env: { ...sandbox.env(), ...env }, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const exited = new Promise<Exit>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stderr })));
  return { pid: child.pid!, exited, stderr: () => stderr, kill: (signal) => process.kill(-child.pid!, signal) };
}

/** Starts the command stopped at `point` (see the command's test_hold). */
export function startHeld(sandbox: HostSandbox, args: string[], point: string, env: NodeJS.ProcessEnv = {}): HeldCommand {
  const marker = path.join(sandbox.root, `hold-${++counter}`);
  const cmd = start(sandbox, args, { OPENWEBUI_BACKUP_TEST_HOLD: point, OPENWEBUI_BACKUP_TEST_HOLD_FILE: marker, ...env });
  let done = false;
  void cmd.exited.then(() => (done = true));
  const held = (async () => {
    await waitFor(`${args.join(" ")} to reach ${point}`, () => fs.existsSync(marker) || done);
    if (!fs.existsSync(marker)) throw new Error(`${args.join(" ")} exited before reaching ${point}:\n${cmd.stderr()}`);
  })();
  held.catch(() => undefined); // awaited by the test; never an unhandled rejection
  return { ...cmd, held, release: () => fs.writeFileSync(`${marker}.release`, "") };
}
