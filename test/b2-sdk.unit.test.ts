/**
 * The hand-written local SDK in sdks/b2 behaves like the one `pulumi package add
 * terraform-provider backblaze/b2` generates: it registers itself as a parameterized package
 * of `terraform-provider`, its resources carry that package reference and their type tokens,
 * secret outputs stay secret, and Pulumi.yaml declares it so `pulumi install` regenerates it.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import * as b2 from "../sdks/b2";
import { installMocks, isSecret, promiseOf, resourcesOfType } from "./support/pulumi-mocks";

const ROOT = path.join(__dirname, "..");
const PARAMETER = { remote: { url: "registry.terraform.io/backblaze/b2", version: "0.12.0" } };

interface CapturedPackage {
  name: string;
  version: string;
  parameterName: string;
  parameterVersion: string;
  parameterValue: unknown;
}
const packages: CapturedPackage[] = [];
const packageRefs = new Map<string, string>();
const secretOutputs = new Map<string, string[]>();

installMocks({
  "b2:index/bucket:Bucket": (_inputs, name) => ({ bucketId: `${name}-bucket-id`, accountId: "acct" }),
  "b2:index/applicationKey:ApplicationKey": (_inputs, name) => ({ applicationKeyId: `${name}-key-id`, applicationKey: `${name}-key` }),
});

// Watch what the SDK sends to the (mock) resource monitor.
const monitor: any = pulumi.runtime.getMonitor();
const registerPackage = monitor.registerPackage.bind(monitor);
monitor.registerPackage = (req: any, callback: any) => {
  const p = req.getParameterization();
  packages.push({
    name: req.getName(),
    version: req.getVersion(),
    parameterName: p.getName(),
    parameterVersion: p.getVersion(),
    parameterValue: JSON.parse(Buffer.from(p.getValue_asU8()).toString("utf8")),
  });
  registerPackage(req, callback);
};
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: any, callback: any) => {
  packageRefs.set(req.getName(), req.getPackageref());
  secretOutputs.set(req.getName(), req.getAdditionalsecretoutputsList());
  return registerResource(req, callback);
};

describe("sdks/b2", () => {
  const bucket = new b2.Bucket("backups", {
    bucketName: "owui-backups",
    bucketType: "allPrivate",
    defaultServerSideEncryption: { mode: "SSE-B2", algorithm: "AES256" },
    lifecycleRules: [{ fileNamePrefix: "web1/", daysFromHidingToDeleting: 30 }],
    fileLockConfigurations: [{ isFileLockEnabled: true, defaultRetention: { mode: "governance", period: { duration: 7, unit: "days" } } }],
  });
  const key = new b2.ApplicationKey("web1", {
    keyName: "web1",
    capabilities: ["listFiles", "readFiles", "writeFiles"],
    bucketIds: [bucket.bucketId],
    namePrefix: "web1/",
  });

  it("registers itself once as the b2 parameterization of terraform-provider 0.14.0", async () => {
    await promiseOf(key.applicationKeyId);
    expect(packages).toEqual([
      { name: "terraform-provider", version: "0.14.0", parameterName: "b2", parameterVersion: "0.12.0", parameterValue: PARAMETER },
    ]);
  });

  it("registers resources under their type tokens with the package reference", async () => {
    await promiseOf(bucket.bucketId);
    await promiseOf(key.applicationKeyId);
    expect(resourcesOfType("b2:index/bucket:Bucket").map((r) => r.name)).toEqual(["backups"]);
    expect(resourcesOfType("b2:index/applicationKey:ApplicationKey").map((r) => r.name)).toEqual(["web1"]);
    expect(packageRefs.get("backups")).toBe("mock-uuid");
    expect(packageRefs.get("web1")).toBe("mock-uuid");
  });

  it("passes every bucket input through under the bridged names", async () => {
    await promiseOf(bucket.bucketId);
    expect(resourcesOfType("b2:index/bucket:Bucket")[0].inputs).toEqual({
      bucketName: "owui-backups",
      bucketType: "allPrivate",
      defaultServerSideEncryption: { mode: "SSE-B2", algorithm: "AES256" },
      lifecycleRules: [{ fileNamePrefix: "web1/", daysFromHidingToDeleting: 30 }],
      fileLockConfigurations: [{ isFileLockEnabled: true, defaultRetention: { mode: "governance", period: { duration: 7, unit: "days" } } }],
    });
    expect(await promiseOf(bucket.bucketId)).toBe("backups-bucket-id");
  });

  it("asks the engine to keep the application key secret, not its id", async () => {
    // The engine applies additionalSecretOutputs; the mock monitor does not, so check the request.
    await promiseOf(key.applicationKeyId);
    expect(secretOutputs.get("web1")).toEqual(["applicationKey"]);
    expect(secretOutputs.get("backups")).toEqual([]);
    expect(await promiseOf(key.applicationKey)).toBe("web1-key");
    expect(resourcesOfType("b2:index/applicationKey:ApplicationKey")[0].inputs).toEqual({
      keyName: "web1",
      capabilities: ["listFiles", "readFiles", "writeFiles"],
      bucketIds: ["backups-bucket-id"],
      namePrefix: "web1/",
    });
  });

  it("keeps provider credentials secret", async () => {
    const provider = new b2.Provider("b2", { applicationKeyId: "id", applicationKey: "key" });
    expect(await isSecret(provider.applicationKey)).toBe(true);
    expect(await isSecret(provider.applicationKeyId)).toBe(true);
    expect(secretOutputs.get("b2")).toEqual(["applicationKey", "applicationKeyId"]);
    expect(packageRefs.get("b2")).toBe("mock-uuid");
    expect(b2.Provider.isInstance(provider)).toBe(true);
  });

  it("is declared in Pulumi.yaml and package.json the way `pulumi package add` records it", () => {
    const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    expect(project.packages.b2).toEqual({ source: "terraform-provider", version: "0.14.0", parameters: ["registry.terraform.io/backblaze/b2", "0.12.0"] });
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "sdks/b2/package.json"), "utf8"));
    expect(pkg.name).toBe("@pulumi/b2");
    expect(pkg.pulumi).toMatchObject({ resource: true, name: "terraform-provider", version: "0.14.0", parameterization: { name: "b2", version: "0.12.0" } });
    expect(JSON.parse(Buffer.from(pkg.pulumi.parameterization.value, "base64").toString("utf8"))).toEqual(PARAMETER);
  });
});
