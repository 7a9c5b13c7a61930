/**
 * What a cluster runs, pinned. Chart versions and the CRD schemas the tests validate against
 * (test/fixtures/k8s/) come from the same upstream tags; images the charts do not pin are pinned
 * here. Bumping one of these is a deliberate change: refresh the vendored CRDs with it.
 */

export interface PinnedChart {
  /** Helm release name. */
  readonly release: string;
  readonly chart: string;
  readonly repo: string;
  readonly version: string;
  /** The application version the chart deploys (its appVersion), for the docs and the tests. */
  readonly appVersion: string;
  readonly namespace: string;
}

/** CloudNativePG operator: chart cloudnative-pg 0.29.0 (cloudnative-pg/charts tag cloudnative-pg-v0.29.0), operator 1.30.0. */
export const CNPG_CHART: PinnedChart = {
  release: "cnpg",
  chart: "cloudnative-pg",
  repo: "https://cloudnative-pg.github.io/charts",
  version: "0.29.0",
  appVersion: "1.30.0",
  namespace: "cnpg-system",
};

/**
 * The barman-cloud CNPG-I plugin: chart plugin-barman-cloud 0.7.0 (tag plugin-barman-cloud-v0.7.0),
 * plugin v0.13.0. It must run in the operator's namespace, and needs cert-manager.
 */
export const BARMAN_CLOUD_CHART: PinnedChart = {
  release: "barman-cloud",
  chart: "plugin-barman-cloud",
  repo: "https://cloudnative-pg.github.io/charts",
  version: "0.7.0",
  appVersion: "v0.13.0",
  namespace: "cnpg-system",
};

/** k8up: chart k8up 4.9.0 (k8up-io/k8up tag k8up-4.9.0), operator v2.15.0. */
export const K8UP_CHART: PinnedChart = {
  release: "k8up",
  chart: "k8up",
  repo: "https://k8up-io.github.io/k8up",
  version: "4.9.0",
  appVersion: "v2.15.0",
  namespace: "k8up",
};

/** The official Open WebUI chart; its version and image tag come from the config. */
export const OPENWEBUI_CHART = {
  release: "open-webui",
  chart: "open-webui",
  repo: "https://helm.openwebui.com",
} as const;

export const OPENWEBUI_IMAGE_REPOSITORY = "ghcr.io/open-webui/open-webui";

/** The plugin's name in `Cluster.spec.plugins` and `Backup.spec.pluginConfiguration`. */
export const BARMAN_CLOUD_PLUGIN = "barman-cloud.cloudnative-pg.io";

/**
 * PostgreSQL for the database: CloudNativePG's `standard` image carries pgvector. 18.4 is the
 * major/minor CNPG 1.30.0 defaults to (its `system` image, pkg/versions/versions.go).
 */
export const POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:18.4-standard-trixie";

/**
 * Tools of the restore drill and the migration step, pinned by tag. Not pulled or run here:
 * docs/kubernetes.md lists them under what stays unverified.
 */
export const TOOL_IMAGES = {
  /** kubectl, bash and jq. */
  kubectl: "docker.io/alpine/k8s:1.33.4",
  restic: "docker.io/restic/restic:0.18.1",
  rclone: "docker.io/rclone/rclone:1.71.0",
} as const;
