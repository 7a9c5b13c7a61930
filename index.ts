/**
 * The Pulumi program. Config comes from `Pulumi.<stack>.yaml` (keys under `openwebui:`),
 * is validated as a whole before any resource is declared, and drives program/deploy.ts.
 */
import { configFromPulumi } from "./config/sources";
import { deployStack, stackOutputs } from "./program/deploy";

const outputs = stackOutputs(deployStack(configFromPulumi()));

/** Per host: where Open WebUI listens, where its data lives, which containers backups pause. */
export const openwebui = outputs.openwebui;
/**
 * Per host: WEBUI_SECRET_KEY (secret). A restore onto a new stack needs the same key, or every
 * stored API key and OAuth credential in webui.db is unreadable: `pulumi stack output --show-secrets openwebuiSecretKeys`.
 */
export const openwebuiSecretKeys = outputs.openwebuiSecretKeys;
/**
 * Per host whose stack runs PostgreSQL: the password of its `openwebui` role (secret), to reach
 * the database by hand: `pulumi stack output --show-secrets openwebuiDatabasePasswords`.
 */
export const openwebuiDatabasePasswords = outputs.openwebuiDatabasePasswords;
/** Per host: EC2 instance and DLM snapshot policy, where the stack manages them. */
export const hostProtection = outputs.hostProtection;
/** Per managed target: the bucket the stack created. */
export const backupBuckets = outputs.backupBuckets;
/**
 * Per host with restic jobs: the password of its restic repositories (secret). Without it the
 * backups cannot be read: keep a copy outside this stack, `pulumi stack output --show-secrets resticPasswords`.
 */
export const resticPasswords = outputs.resticPasswords;
/** Per host: hash of the installed backup files (secret: it covers credentials). */
export const backupFiles = outputs.backupFiles;
/** Per Kubernetes cluster: namespace, URL (with an Ingress) and the hash naming the current version's pre-upgrade backups. */
export const clusters = outputs.clusters;
/**
 * Per Kubernetes cluster: WEBUI_SECRET_KEY (secret). A restore elsewhere needs it:
 * `pulumi stack output --show-secrets openwebuiClusterSecretKeys`.
 */
export const openwebuiClusterSecretKeys = outputs.openwebuiClusterSecretKeys;
