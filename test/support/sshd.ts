/**
 * A real OpenSSH server on 127.0.0.1 for tests: its own host key, config and authorized_keys
 * in a temporary directory, on a free port. Needs root (sshd drops privileges per session)
 * and Debian's openssh-server (/usr/sbin/sshd).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { waitFor } from "./wait";

export interface TestSshd {
  port: number;
  /** "ssh-ed25519 AAAA…" of the server, for known_hosts / from.hostKey. */
  hostKey: string;
  /** A client private key whose public half is authorized with `authorizedOptions`. */
  clientKey: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts sshd; `authorizedOptions` prefixes the client key's authorized_keys line (e.g. a forced command). */
export async function startSshd(authorizedOptions: string): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-sshd-"));
  const hostKeyFile = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "client_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKeyFile]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
  const pub = fs.readFileSync(`${clientKey}.pub`, "utf8").trim();
  fs.writeFileSync(path.join(dir, "authorized_keys"), `${authorizedOptions} ${pub}\n`, { mode: 0o600 });
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "PermitRootLogin forced-commands-only",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "",
    ].join("\n"),
  );
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  const proc: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (c) => (log += c));
  // Bounded generously: a busy machine may take a while to start it.
  await waitFor("sshd to listen", () => {
    if (proc.exitCode !== null) throw new Error(`sshd exited: ${log}`);
    return log.includes("Server listening");
  }, 30_000).catch((error: Error) => {
    proc.kill("SIGKILL");
    throw new Error(`sshd did not start: ${error.message}\n${log}`);
  });
  const hostKey = fs.readFileSync(`${hostKeyFile}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return {
    port,
    hostKey,
    clientKey,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
