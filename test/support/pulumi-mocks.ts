/**
 * Pulumi engine mocks shared by component tests: every registered resource is captured
 * by type token, and outputs are awaited through `promiseOf`.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
}

export const registered: RegisteredResource[] = [];

/** What the engine receives for a resource that mocks' `newResource` does not see: its URN and dependencies. */
export interface EngineView {
  readonly urn: string;
  /** URNs of the resources it depends on (dependsOn, and those its inputs came from). */
  readonly dependencies: readonly string[];
}

/**
 * Records, by `<type>::<name>`, the URN and dependencies of every resource registered with the
 * mock monitor of this `pulumi` module (call after setMocks). A test asks "does the container
 * wait for the backup?" of what the engine would be told, not of the program's objects.
 */
export function recordEngineView(runtime: typeof pulumi.runtime): Map<string, EngineView> {
  const views = new Map<string, EngineView>();
  const monitor: any = runtime.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) =>
    register(req, (err: unknown, res: any) => {
      if (res) views.set(`${req.getType()}::${req.getName()}`, { urn: res.getUrn(), dependencies: req.getDependenciesList() });
      callback(err, res);
    });
  return views;
}

/** The engine's view of the resources registered since the last `installMocks`. */
export let engine = new Map<string, EngineView>();

/** Whether resource `a` depends on resource `b` (each `{ type, name }`), as the engine is told. */
export function dependsOn(a: { type: string; name: string }, b: { type: string; name: string }): boolean {
  const target = engine.get(`${b.type}::${b.name}`)?.urn;
  return target !== undefined && (engine.get(`${a.type}::${a.name}`)?.dependencies ?? []).includes(target);
}

/** Installs mocks that echo inputs as outputs (plus an id and any `extraOutputs` per type). */
export function installMocks(extraOutputs: Record<string, (inputs: any, name: string) => Record<string, unknown>> = {}, stack = "test") {
  registered.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const id = `${args.name}-id`;
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        const extra = extraOutputs[args.type]?.(args.inputs, args.name) ?? {};
        return { id, state: { ...args.inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    "openwebui",
    stack,
    false,
  );
  engine = recordEngineView(pulumi.runtime);
}

export function resourcesOfType(type: string): RegisteredResource[] {
  return registered.filter((r) => r.type === type);
}

/** Resolves an Output's value (also of secrets) inside a mocked program. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Whether an Output is marked secret. */
export function isSecret<T>(output: pulumi.Output<T>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** The engine's marker for a secret input, as mocks receive it. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps a resource input that may arrive as a secret: `{ secret, value }`. */
export function unwrapInput(input: any): { secret: boolean; value: any } {
  if (input && typeof input === "object" && input[SECRET_SIG_KEY] === SECRET_SIG_VALUE) return { secret: true, value: input.value };
  return { secret: false, value: input };
}

/** Answers the AWS lookups the program makes for EC2 hosts: a Debian AMI, zones, a subnet. */
export function awsLookupMock(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  switch (args.token) {
    case "aws:ec2/getAmi:getAmi":
      return { id: "ami-0debian12", name: "debian-12-amd64-20250101-1234", architecture: "x86_64" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { id: "eu-central-1", names: ["eu-central-1a", "eu-central-1b", "eu-central-1c"] };
    case "aws:ec2/getSubnet:getSubnet":
      return { id: args.inputs.id, availabilityZone: "eu-central-1b", vpcId: "vpc-0abc" };
    default:
      throw new Error(`unexpected call ${args.token}`);
  }
}
