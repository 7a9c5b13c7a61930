/**
 * `npm run demo`: a backup and a restore you can watch, with no Docker, cloud or root.
 * It builds an Open WebUI-shaped data directory in a temporary folder, renders a stack whose
 * only target is a folder beside it, and runs the real host command against it: back up,
 * list, lose data, restore, verify. Everything stays in that folder, removed at the end
 * unless --keep is given.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config";
import { renderBackupFiles } from "../render/backup";
import { plainTargets } from "../render/plain-targets";
import { buildDataDir } from "./sample-data";

/** The host tools the demo drives, with the Debian packages that bring them. */
const NEEDED_TOOLS: Record<string, string> = { sqlite3: "sqlite3", restic: "restic", rsync: "rsync", flock: "util-linux" };

export interface DemoOptions {
  /** Keep the folder and print where everything is. */
  readonly keep?: boolean;
  /** Where to make the demo's folder (default: the system's temporary directory). */
  readonly parent?: string;
  readonly say?: (line: string) => void;
}

export interface DemoResult {
  readonly root: string;
  readonly chatsBefore: number;
  readonly chatsAfterLoss: number;
  readonly chatsRestored: number;
}

const onPath = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { env: process.env }).status === 0;

export function missingTools(): string[] {
  return Object.keys(NEEDED_TOOLS).filter((t) => !onPath(t));
}

function countChats(db: string): number {
  return Number(execFileSync("sqlite3", ["-readonly", db, "SELECT count(*) FROM chat;"], { encoding: "utf8" }).trim());
}

export function runDemo(opts: DemoOptions = {}): DemoResult {
  const say = opts.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`the demo needs ${missing.join(", ")}; install with: apt-get install -y ${[...new Set(missing.map((t) => NEEDED_TOOLS[t]))].join(" ")}`);
  }
  const root = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), "openwebui-demo-"));
  let done = false;
  try {
    const data = path.join(root, "open-webui-data");
    const backups = path.join(root, "backups");
    const place = (p: string) => path.join(root, p);
    const paths = {
      envFile: place("etc/backup.env"),
      command: place("bin/openwebui-backup"),
      stagingDir: place("staging"),
      stateDir: place("state"),
      lockDir: place("lock"),
      logDir: place("log"),
    };

    say(`1. An Open WebUI data folder with chats, uploads and a knowledge base index: ${data}`);
    buildDataDir(data, { chats: 120, bigUploadBytes: 1_000_000 });
    const db = path.join(data, "webui.db");
    const chatsBefore = countChats(db);
    say(`   webui.db holds ${chatsBefore} chats; uploads/ and vector_db/ hold the files and the search index.`);

    const config = parseStackConfig({
      targets: { "demo-disk": { type: "local", path: backups } },
      hosts: [
        {
          name: "demo",
          data: { dir: data },
          containers: [],
          paths,
          jobs: [{ name: "nightly", method: "restic", targets: ["demo-disk"], retention: { daily: 7 }, consistency: "online" }],
        },
      ],
      resticPassword: "demo-only-not-a-secret",
    });
    const host = config.hosts[0];
    for (const f of renderBackupFiles({ stack: "demo", host, targets: plainTargets(config), notify: config.notify, resticPassword: config.resticPassword })) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      fs.writeFileSync(f.path, f.content, { mode: f.mode });
    }
    say(`2. The backup command a host would get, rendered from a stack config: ${paths.command}`);
    say(`   (its settings, the restic password included, are in ${paths.envFile}, mode 0600)`);

    const command = (args: string[], what: string): string => {
      say(`   $ openwebui-backup ${args.join(" ")}`);
      const r = spawnSync(paths.command, args, { encoding: "utf8", env: { ...process.env, OPENWEBUI_BACKUP_ENV: paths.envFile } });
      if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    say(`3. Back up, with restic, to ${backups} (a consistent copy of the database, taken while it is in use).`);
    command(["run", "nightly"], "the backup");
    say("4. What is in the backup:");
    for (const line of command(["list", "nightly"], "listing the backups").trimEnd().split("\n")) say(`   ${line}`);

    say("5. Something goes wrong: every chat is deleted and an upload is lost.");
    execFileSync("sqlite3", [db, "DELETE FROM chat;"]);
    fs.rmSync(path.join(data, "uploads", "big.bin"));
    const chatsAfterLoss = countChats(db);
    say(`   webui.db now holds ${chatsAfterLoss} chats; uploads/big.bin is gone.`);

    say("6. Restore the latest backup in place: fetched and checked beside the data first, then swapped in by renames;");
    say("   --force because this demo has no Open WebUI container to stop while the data is replaced.");
    command(["restore", "nightly", "--in-place", "--force"], "the restore");
    const chatsRestored = countChats(db);
    say(`   webui.db holds ${chatsRestored} chats again; uploads/big.bin is ${fs.existsSync(path.join(data, "uploads", "big.bin")) ? "back" : "STILL MISSING"}.`);

    say("7. Verify: restore the latest backup into a scratch folder and check it, as the weekly drill does.");
    command(["verify", "nightly"], "the restore drill");
    say("   verify ok.");
    done = true;
    return { root, chatsBefore, chatsAfterLoss, chatsRestored };
  } finally {
    if (opts.keep) {
      say(`Kept everything in ${root}: open-webui-data/ (the data), backups/ (the restic repository), bin/ and etc/ (the command and its settings), log/.`);
    } else {
      fs.rmSync(root, { recursive: true, force: true });
      if (done) say("Done; the demo folder was removed (run with -- --keep to look around).");
    }
  }
}

export function main(argv: string[]): number {
  const keep = argv.includes("--keep");
  const unknown = argv.filter((a) => a !== "--keep");
  if (unknown.length > 0) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}; usage: npm run demo [-- --keep]\n`);
    return 2;
  }
  try {
    runDemo({ keep });
    return 0;
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
