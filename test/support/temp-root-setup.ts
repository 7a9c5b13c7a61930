/**
 * jest globalSetup: the run's temporary directory (temp-root.ts), then, in it, the test S3
 * server's child compiled once for the whole run (s3-server-entry.ts). Project-level global
 * setups run before this one, so the compile is here, where the directory exists.
 */
import { setup as makeTempRoot } from "./temp-root";
import { compileS3ServerEntry } from "./s3-server-entry";

export default async function setup(): Promise<void> {
  await makeTempRoot();
  compileS3ServerEntry();
}
