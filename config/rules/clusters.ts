/**
 * Rules of the Kubernetes clusters: a backup target the cluster's tools can reach (S3 API, keys
 * the pods can hold), pruning only with keys that cannot erase object versions, storage every
 * replica can mount, cron expressions in the dialect of the object that reads them, and no two
 * clusters or hosts writing one location.
 */
import { cnpgScheduleProblem, kubernetesScheduleProblem } from "../../calendar/kubernetes-cron";
import { clusterAreas, clusterLocation } from "../clusters";
import { jobsOnTarget } from "../locations";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

/** Storage classes whose objects barman-cloud and restic cannot read without a restore request first. */
const ARCHIVE_CLASSES = new Set(["GLACIER", "DEEP_ARCHIVE"]);

/** Whether one key prefix contains the other (or they are the same). */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

export function clusterProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();
  if (cfg.hosts.length === 0 && cfg.clusters.length === 0) add("hosts", "needs at least one host (or a Kubernetes cluster under clusters)");

  const names = new Map<string, string>();
  const places = new Map<string, string>();
  const written: { readonly target: string; readonly location: string; readonly by: string }[] = [];
  cfg.clusters.forEach((cluster, ci) => {
    const cp = `clusters[${ci}]`;
    const other = names.get(cluster.name);
    if (other) add(`${cp}.name`, `duplicate cluster name "${cluster.name}" (also ${other})`);
    else names.set(cluster.name, cp);
    // The objects have fixed names inside the namespace: two clusters there would overwrite each other.
    const place = `${cluster.kubeconfig ?? "(ambient kubeconfig)"}\u0000${cluster.namespace}`;
    const sharing = places.get(place);
    if (sharing) add(`${cp}.namespace`, `"${cluster.namespace}" on the same Kubernetes cluster as ${sharing}; give each its own namespace`);
    else places.set(place, cp);

    const ow = cluster.openwebui;
    const files = cluster.files;
    if (ow.replicas > 1 && files.provider === "pvc" && files.accessMode !== "ReadWriteMany") {
      add(`${cp}.files.accessMode`, `is ${files.accessMode}, but ${cp}.openwebui.replicas is ${ow.replicas}: every replica mounts the file volume, so it must be ReadWriteMany (with a storage class that provides it), or use files: { provider: s3 }`);
    }
    if (!ow.host) {
      if (ow.ingressClassName) add(`${cp}.openwebui.ingressClassName`, `needs ${cp}.openwebui.host (no Ingress is created without a host)`);
      if (ow.tlsSecret) add(`${cp}.openwebui.tlsSecret`, `needs ${cp}.openwebui.host (no Ingress is created without a host)`);
    }

    const dbSchedule = cnpgScheduleProblem(cluster.backup.schedule);
    if (dbSchedule) add(`${cp}.backup.schedule`, dbSchedule);
    if (cluster.backup.files) {
      if (files.provider !== "pvc") add(`${cp}.backup.files`, `only for files on a volume (files.provider: pvc); with files in S3 the bucket's versioning keeps their history`);
      const f = kubernetesScheduleProblem(cluster.backup.files.schedule);
      if (f) add(`${cp}.backup.files.schedule`, f);
      const c = kubernetesScheduleProblem(cluster.backup.files.checkSchedule);
      if (c) add(`${cp}.backup.files.checkSchedule`, c);
    }
    if (cluster.restoreDrill.enabled) {
      const d = kubernetesScheduleProblem(cluster.restoreDrill.schedule);
      if (d) add(`${cp}.restoreDrill.schedule`, d);
    }
    if (files.provider === "pvc" && !cfg.resticPassword) {
      add("resticPassword", `required because ${cp} keeps files on a volume that k8up backs up with restic (set it with: pulumi config set --secret openwebui:resticPassword …)`);
    }

    const tname = cluster.backup.target;
    const target = cfg.targets[tname];
    const tp = `${cp}.backup.target`;
    if (!target) {
      const s3 = Object.entries(cfg.targets).filter(([, t]) => t.type === "s3").map(([n]) => n);
      add(tp, `unknown target "${tname}"; s3 targets: ${s3.join(", ") || "(none defined under targets)"}`);
      return;
    }
    if (target.type === "b2") {
      add(tp, `"${tname}" is a b2 target; WAL archiving (barman-cloud) and the cluster's backups speak the S3 API. Declare the bucket as type: s3 with endpoint: https://s3.<region>.backblazeb2.com and an application key (B2's S3-compatible API)`);
      return;
    }
    if (target.type === "local") {
      add(tp, `"${tname}" is a local target, a path on a host; a cluster backs up to object storage: use an s3 target`);
      return;
    }
    if (!target.managed && !(target.accessKeyId && target.secretAccessKey)) {
      add(tp, `"${tname}" is not managed and has no accessKeyId/secretAccessKey; the cluster's pods need a key: set targets.${tname}.accessKeyId and secretAccessKey, or make the target managed`);
    }
    if (cluster.backup.retention !== undefined && !target.managed) {
      add(
        `${cp}.backup.retention`,
        `prunes from inside the cluster, but "${tname}" is not managed, so nothing shows its key cannot delete object versions (history could be erased with it); remove retention and expire old backups with the bucket's lifecycle, or use a managed target, whose keys can only add delete markers`,
      );
    }
    const storageClass = target.managed?.lifecycle?.transitionStorageClass;
    if (target.managed?.lifecycle?.transitionDays !== undefined && storageClass && ARCHIVE_CLASSES.has(storageClass)) {
      add(`targets.${tname}.managed.lifecycle.transitionStorageClass`, `${storageClass} objects cannot be read without a restore request, and ${cp} reads WAL, base backups and files from this bucket to restore; use an instant-retrieval class (STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR)`);
    }
    for (const area of clusterAreas(cluster)) written.push({ target: tname, location: clusterLocation(target, cluster.name, area), by: cp });
  });

  // No two writers share a location: host jobs and clusters on the same target.
  const seen: { target: string; location: string; by: string }[] = [];
  const targetsUsed = new Set(written.map((w) => w.target));
  for (const tname of targetsUsed) for (const tj of jobsOnTarget(cfg, tname)) seen.push({ target: tname, location: tj.location, by: tj.path });
  for (const w of written) {
    const clash = seen.find((s) => s.target === w.target && s.by !== w.by && overlaps(s.location, w.location));
    if (clash) add(`${w.by}.backup.target`, `writes ${w.location}/ on target "${w.target}", where ${clash.by} writes ${clash.location}/; give the target a different prefix or rename the cluster`);
    seen.push(w);
  }
  return problems;
}
