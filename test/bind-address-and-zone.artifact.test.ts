/**
 * Validation holes that let a stack through which then misbehaves: an unspecified bind
 * address in another spelling (publishes Open WebUI on every interface) and a schedule whose
 * trailing word is no time zone (renders, then fails at `systemctl enable`).
 */
import { spawnSync } from "child_process";
import { bindsAllInterfaces } from "../config/addresses";
import { containerPortViolations, DOCKER_CONTAINER_TYPE } from "../policy/rules";
import { ScheduleError, scheduleFor } from "../calendar/schedule";
import { configProblemsUnder } from "./support/config-problems";

const problemLines = (raw: unknown, prefix: string) => configProblemsUnder(raw, [prefix]).map((p) => `${p.path}: ${p.message}`);

const UNSPECIFIED = ["0.0.0.0", "::", "0::", "::0", "0::0", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "::ffff:0:0", "[::]", "[0::0]"];
const SPECIFIC = ["127.0.0.1", "::1", "10.0.0.5", "fe80::1", "::ffff:127.0.0.1", "0.0.0.1", "[::1]"];

describe("every spelling of the unspecified address means every interface", () => {
  it.each(UNSPECIFIED)("%s binds every interface", (address) => expect(bindsAllInterfaces(address)).toBe(true));
  it.each(SPECIFIC)("%s does not", (address) => expect(bindsAllInterfaces(address)).toBe(false));

  it.each(UNSPECIFIED.filter((a) => !a.startsWith("[")))("config refuses bindAddress %s without allowAllInterfaces", (address) => {
    const problems = problemLines({
      hosts: [{ name: "web1", openwebui: { image: "ghcr.io/open-webui/open-webui:v0.6.5", bindAddress: address, preUpgradeBackup: false } }],
    }, "hosts[0].openwebui");
    expect(problems).toEqual([expect.stringMatching(/^hosts\[0\]\.openwebui\.bindAddress: .*publishes Open WebUI on every interface; set hosts\[0\]\.openwebui\.allowAllInterfaces: true/)]);
  });

  it.each(UNSPECIFIED)("the policy pack flags a container published on %s", (ip) => {
    const container = { type: DOCKER_CONTAINER_TYPE, urn: "urn:c", props: { name: "open-webui", ports: [{ internal: 8080, external: 3000, ip }] } };
    expect(containerPortViolations([container])).toHaveLength(1);
  });

  it.each(SPECIFIC)("the policy pack lets %s through", (ip) => {
    const container = { type: DOCKER_CONTAINER_TYPE, urn: "urn:c", props: { name: "open-webui", ports: [{ internal: 8080, external: 3000, ip }] } };
    expect(containerPortViolations([container])).toEqual([]);
  });
});

describe("a schedule's time zone must be one the zone database knows", () => {
  it.each(["*-*-* 03:00:00 x", "*-*-* 03:00 Mars/Olympus", "Sun *-*-* 04:00:00 Europe/Berlln"])("%s is refused before anything renders", (expression) => {
    expect(() => scheduleFor(expression, "systemd")).toThrow(ScheduleError);
    expect(() => scheduleFor(expression, "systemd")).toThrow(/is not a time zone of the zone database/);
  });

  it("config names the field", () => {
    const problems = problemLines({
      targets: { nas: { type: "local", path: "/mnt/nas" } },
      hosts: [{ name: "web1", data: { dir: "/srv/owui" }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 3 }, schedule: "*-*-* 03:00:00 x" }] }],
    }, "hosts[0].jobs");
    expect(problems).toEqual([expect.stringMatching(/^hosts\[0\]\.jobs\[0\]\.schedule: .*"x" .*is not a time zone/)]);
  });

  it.each(["*-*-* 03:00:00 UTC", "*-*-* 03:00 Europe/Berlin", "Mon..Fri *-*-* 22:30 America/New_York"])("%s renders, and systemd-analyze calendar accepts what we render", (expression) => {
    const rendered = scheduleFor(expression, "systemd");
    const r = spawnSync("systemd-analyze", ["calendar", rendered], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Next elapse:/);
  });
});
