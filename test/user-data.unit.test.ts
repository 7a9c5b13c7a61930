/**
 * The EC2 host's user data, as text: bash -n, the whole text as a snapshot, quoting and the
 * inputs it refuses. Shellcheck, and its "format only when blank" logic executed for real, are
 * in user-data.artifact.test.ts.
 */
import { spawnSync } from "child_process";
import { DEFAULT_USER_DATA_PATHS, UserDataInput, dataDiskCandidates, renderUserData } from "../scripts/render/user-data";
import { base } from "./support/user-data-input";

describe("dataDiskCandidates", () => {
  it.each([
    ["vol-0123456789abcdef0", "/dev/sdf", ["/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0", "/dev/xvdf", "/dev/sdf"]],
    ["vol-0abc1234", "/dev/xvdg", ["/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc1234", "/dev/xvdg", "/dev/sdg"]],
  ])("%s on %s", (volumeId, device, expected) => {
    expect(dataDiskCandidates(volumeId, device)).toEqual(expected);
  });

  it.each([
    ["vol-0123; rm -rf /", "/dev/sdf", "not an EBS volume id"],
    ["vol-0123", "/dev/sda", "not an EBS device name"],
    ["vol-0123", "/dev/nvme1n1", "not an EBS device name"],
  ])("refuses %s on %s", (volumeId, device, message) => {
    expect(() => dataDiskCandidates(volumeId, device)).toThrow(message);
  });
});

describe("renderUserData: text", () => {
  const text = renderUserData(base);

  it("passes bash -n", () => {
    const r = spawnSync("bash", ["-n"], { input: text });
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
  });

  it("is strict bash, mounts by UUID with nofail, and installs Debian's docker.io", () => {
    expect(text.startsWith("#!/bin/bash\n")).toBe(true);
    expect(text).toContain("\nset -Eeuo pipefail\n");
    expect(text).toContain("UUID=%s %s %s defaults,nofail,");
    expect(text).toContain("apt-get install -y -q docker.io");
    expect(text).toContain("readonly MOUNT_POINT='/var/lib/docker'");
    expect(text).not.toContain("download.docker.com");
  });

  it("quotes every interpolated value", () => {
    const hostile = renderUserData({ ...base, diskCandidates: ["/dev/x'$(touch /tmp/pwned)'"] });
    expect(hostile).toContain(`readonly DISK_CANDIDATES=('/dev/x'\\''$(touch /tmp/pwned)'\\''')`);
    const r = spawnSync("bash", ["-n"], { input: hostile });
    expect(r.status).toBe(0);
  });

  it.each([
    [{ paths: { ...DEFAULT_USER_DATA_PATHS, mountPoint: "/var/lib/my docker" } }, "paths.mountPoint must be an absolute path"],
    [{ paths: { ...DEFAULT_USER_DATA_PATHS, fstab: "etc/fstab" } }, "paths.fstab must be an absolute path"],
    [{ diskCandidates: [] }, "needs at least one disk candidate"],
    [{ diskWaitSeconds: -1 }, "diskWaitSeconds must be a whole number"],
    [{ dockerUsers: ["Admin User"] }, "not a Unix user name"],
    [{ stack: "dev\nrm -rf /" }, "not a stack name"],
    [{ hostName: "Web 1" }, "not a host name"],
  ] as Array<[Partial<UserDataInput>, string]>)("refuses %j", (override, message) => {
    expect(() => renderUserData({ ...base, ...override })).toThrow(message);
  });

  it("matches the reviewed text", () => {
    expect(text).toMatchSnapshot();
  });
});
