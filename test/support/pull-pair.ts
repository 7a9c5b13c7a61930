/**
 * Two hosts for method pull: host web1 (the source) keeps local-snapshot folders of its job
 * "nightly" on target "disk"; host nas (the puller) pulls them over SSH, through rrsync in
 * read-only mode, with its job "from-web1" onto target "nas". Each side is a HostSandbox; the
 * SSH server is a real sshd on 127.0.0.1.
 */
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./host-sandbox";
import { TestSshd, startSshd } from "./sshd";

/** Where the source keeps its snapshot folders: the only path the puller's key may read. */
export const pullSourceRoot = (source: HostSandbox) => path.join(source.root, "disk", "web1", "nightly");

/** Where the puller keeps what it pulled. */
export const pulledRoot = (puller: HostSandbox) => path.join(puller.root, "nas", "nas", "from-web1");

/** Starts the SSH server whose one key is confined to the source's snapshot folders, read-only. */
export async function startPullSshd(source: HostSandbox): Promise<TestSshd> {
  fs.mkdirSync(pullSourceRoot(source), { recursive: true });
  return startSshd(`command="/usr/bin/rrsync -ro ${pullSourceRoot(source)}",restrict`);
}

export interface PullConfigOptions {
  /** The pull job's retention: keep this many (default 2). */
  keep?: number;
  /** Fields of the pull job's `from`, over the defaults. */
  from?: Record<string, unknown>;
  /** Fields of host web1, over the defaults (a database, say). */
  source?: Record<string, unknown>;
  /** Top-level fields of the stack config (notify, say). */
  stack?: Record<string, unknown>;
}

/** The stack config of both hosts: install it with hostIndex 0 on the source, 1 on the puller. */
export function pullConfig(source: HostSandbox, puller: HostSandbox, sshd: TestSshd, opts: PullConfigOptions = {}): Record<string, unknown> {
  return {
    targets: { disk: { type: "local", path: path.join(source.root, "disk") }, nas: { type: "local", path: path.join(puller.root, "nas") } },
    hosts: [
      { name: "web1", data: { dir: source.dataDir }, jobs: [{ name: "nightly", method: "local-snapshot", targets: ["disk"], retention: { keep: 7 } }], ...opts.source },
      {
        name: "nas",
        jobs: [
          {
            name: "from-web1",
            method: "pull",
            from: { host: "127.0.0.1", port: sshd.port, user: "root", sshKeyFile: sshd.clientKey, path: "/", hostKey: sshd.hostKey, ...opts.from },
            targets: ["nas"],
            retention: { keep: opts.keep ?? 2 },
          },
        ],
      },
    ],
    ...opts.stack,
  };
}

/** Installs the pair's config on both hosts. */
export function installPull(source: HostSandbox, puller: HostSandbox, sshd: TestSshd, opts: PullConfigOptions = {}): void {
  const cfg = pullConfig(source, puller, sshd, opts);
  source.install(cfg, "test", 0);
  puller.install(cfg, "test", 1);
}
