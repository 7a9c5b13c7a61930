/**
 * `openwebui-backup --help`: one line per subcommand, and this host's jobs with their methods
 * and targets when the env file is readable; never a failure when it is not.
 */
import { HostSandbox } from "./support/host-sandbox";

let sandbox: HostSandbox;
beforeAll(() => {
  sandbox = new HostSandbox("owb-help-");
  sandbox.install({
    targets: { nas: { type: "local", path: "/mnt/nas" }, usb: { type: "local", path: "/mnt/usb" } },
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        jobs: [
          { name: "nightly", method: "restic", targets: ["nas", "usb"], retention: { daily: 7 } },
          { name: "hourly-copy", method: "local-snapshot", targets: ["usb"], retention: { hourly: 24 } },
        ],
      },
    ],
    resticPassword: "pw",
  });
});
afterAll(() => sandbox.cleanup());

it("names each subcommand on its own line, then lists the host's jobs", async () => {
  const r = await sandbox.run(["--help"]);
  expect(r.code).toBe(0);
  for (const sub of ["run", "list", "restore", "verify", "recover"]) expect(r.stdout).toMatch(new RegExp(`^  ${sub} `, "m"));
  expect(r.stdout).toMatch(/^jobs on host web1 \(.*backup\.env\):$/m);
  expect(r.stdout).toMatch(/^  nightly +restic +to nas usb$/m);
  expect(r.stdout).toMatch(/^  hourly-copy +local-snapshot +to usb$/m);
  expect(r.stderr).toBe("");
});

it("without a readable env file it still helps, and says why no jobs are listed", async () => {
  const r = await sandbox.run(["--help"], { OPENWEBUI_BACKUP_ENV: `${sandbox.root}/no-such.env` });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^  verify /m);
  expect(r.stdout).toMatch(/no-such\.env is not readable here/);
  expect(r.stdout).not.toMatch(/jobs on host/);
});

it("a command it does not know gets the usage on stderr and exit 2", async () => {
  const r = await sandbox.run(["backup", "nightly"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^usage: openwebui-backup <command>/);
});
