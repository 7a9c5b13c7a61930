/** BackupJobs in a fresh mocked Pulumi program, for the component's unit and artifact tests. */
import * as pulumi from "@pulumi/pulumi";
import { BackupJobs } from "../../components/backup-jobs";
import { installMocks, promiseOf, registered } from "./pulumi-mocks";
import { TARGETS, hostInput } from "./schedule-fixtures";

/** Builds one BackupJobs in a fresh mocked program and waits until its children are registered. */
export async function program(host: Record<string, unknown> = {}, extra: { root?: string } = {}) {
  installMocks();
  const input = hostInput(host);
  const jobs = new BackupJobs("box", { host: input.host, targets: TARGETS, notify: input.notify, resticPassword: pulumi.secret(input.resticPassword), stack: "prod", root: extra.root });
  const [hash, stdin] = await Promise.all([promiseOf(jobs.contentHash), promiseOf(jobs.install.stdin as pulumi.Output<string>)]);
  await new Promise((r) => setTimeout(r, 10));
  return { jobs, input, hash, stdin, resources: [...registered] };
}
