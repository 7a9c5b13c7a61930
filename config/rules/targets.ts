/**
 * Rules of each target on its own: a name that fits file and variable names, and the keys an
 * unmanaged bucket needs to be reached.
 */
import { NAME_PATTERN } from "../fields";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

export function targetProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();
  for (const [tname, t] of Object.entries(cfg.targets)) {
    const at = `targets.${tname}`;
    if (!NAME_PATTERN.test(tname)) add(at, "target names must be lowercase letters, digits and '-', starting with a letter");
    if (t.type === "s3") {
      if (!t.managed && !t.bucket) add(`${at}.bucket`, "required unless the target is managed");
      if (!t.region && !t.endpoint) add(`${at}.region`, "required unless endpoint is given");
      if (Boolean(t.accessKeyId) !== Boolean(t.secretAccessKey)) add(`${at}.secretAccessKey`, "accessKeyId and secretAccessKey go together");
    } else if (t.type === "b2") {
      if (!t.managed) {
        if (!t.bucket) add(`${at}.bucket`, "required unless the target is managed");
        if (!t.keyId) add(`${at}.keyId`, "required unless the target is managed");
        if (!t.applicationKey) add(`${at}.applicationKey`, "required unless the target is managed");
      }
    }
  }
  return problems;
}
