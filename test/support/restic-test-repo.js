#!/usr/bin/env node
/**
 * Test support for the sandbox's `restic` shim: restic repositories without restic's key cost.
 *
 * Why: restic calibrates its key derivation at init, which costs about 2.8 s of CPU, and gives
 * the key scrypt parameters that cost every later restic process half a second to open the
 * repository. Over the end-to-end tier that was first 190 s and then 80 s of CPU (about thirty
 * inits), spent on nothing a test asserts.
 *
 *   cheap-key          after a real `restic init`: the repository's one key is rewrapped with
 *                      cheap scrypt parameters. The master key stays the same.
 *   clone <template>   in place of `restic init`: a new repository at RESTIC_REPOSITORY made from
 *                      <template>, which the real restic initialised (once per test run, with
 *                      RESTIC_TEMPLATE_PASSWORD, and then gave a cheap key) and which holds
 *                      nothing else. The new one has the template's layout, chunker
 *                      polynomial and master key, a fresh repository id (restic's cache is kept
 *                      per id) and a cheap key for RESTIC_PASSWORD. Fails, as `restic init`
 *                      does, where a repository config already exists.
 *
 * Either way every later restic command works on the repository unchanged; only how the master
 * key is wrapped differs from what `restic init` leaves (restic's key file format: scrypt of the
 * password gives an AES-256-CTR key and a Poly1305-AES MAC key, which seal the master key as
 * IV || ciphertext || MAC; the config file is sealed the same way with the master key).
 *
 * Plain JavaScript so that node starts it without a compiler. Reads what restic reads:
 * RESTIC_REPOSITORY (a path, or "rclone:<remote>:<path>" through the rclone on PATH with the
 * caller's environment) and RESTIC_PASSWORD.
 */
"use strict";
const { execFileSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

/** Cheap and still valid for restic (N a power of two above 1, r and p positive). */
const CHEAP = { N: 1024, r: 8, p: 1 };
const P1305 = (1n << 130n) - 5n;

/** A repository's files by their path in it ("config", "keys/<id>"): list, read, write, remove. */
function repositoryFiles(repository) {
  if (repository.startsWith("rclone:")) {
    const root = repository.slice("rclone:".length);
    const rclone = (args, input) => execFileSync("rclone", args, { input, maxBuffer: 1 << 20 });
    return {
      list: (dir) => rclone(["lsf", "--files-only", `${root}/${dir}`]).toString().split("\n").filter(Boolean),
      read: (name) => rclone(["cat", `${root}/${name}`]),
      write: (name, data) => rclone(["rcat", `${root}/${name}`], data),
      remove: (name) => rclone(["deletefile", `${root}/${name}`]),
      // Object storage has no folders to make: restic writes its files under their prefixes.
      makeLayout: () => {},
    };
  }
  return {
    list: (dir) => (fs.existsSync(path.join(repository, dir)) ? fs.readdirSync(path.join(repository, dir)) : []),
    read: (name) => fs.readFileSync(path.join(repository, name)),
    write: (name, data) => fs.writeFileSync(path.join(repository, name), data, { mode: 0o400, flag: "wx" }),
    remove: (name) => fs.rmSync(path.join(repository, name)),
    // restic's local layout: the folders of the template, each 0700.
    makeLayout: (template) => {
      for (const dir of foldersUnder(template)) fs.mkdirSync(path.join(repository, dir), { recursive: true, mode: 0o700 });
    },
  };
}

function foldersUnder(root, under = "") {
  return fs
    .readdirSync(path.join(root, under), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [path.join(under, e.name), ...foldersUnder(root, path.join(under, e.name))]);
}

const littleEndian = (bytes) => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);

/** Poly1305-AES (restic's MAC): r clamped, s = AES-128(k, nonce). */
function poly1305Aes(macKey, nonce, message) {
  const r = littleEndian(macKey.subarray(16, 32)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const cipher = crypto.createCipheriv("aes-128-ecb", macKey.subarray(0, 16), null).setAutoPadding(false);
  const s = littleEndian(Buffer.concat([cipher.update(nonce), cipher.final()]));
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const block = message.subarray(i, i + 16);
    acc = ((acc + littleEndian(block) + (1n << BigInt(8 * block.length))) * r) % P1305;
  }
  const tag = (acc + s) & ((1n << 128n) - 1n);
  return Buffer.from(Array.from({ length: 16 }, (_, i) => Number((tag >> BigInt(8 * i)) & 0xffn)));
}

/** The user key (encryption key, MAC key) that scrypt makes of the password. */
function userKey(password, salt, { N, r, p }) {
  const derived = crypto.scryptSync(password, salt, 64, { N, r, p, maxmem: 512 * 1024 * 1024 });
  return { encryption: derived.subarray(0, 32), mac: derived.subarray(32, 64) };
}

/** The key that seals a repository's files, from the master key's JSON in a key file. */
function masterKeyOf(json) {
  const master = JSON.parse(json.toString("utf8"));
  return {
    encryption: Buffer.from(master.encrypt, "base64"),
    mac: Buffer.concat([Buffer.from(master.mac.k, "base64"), Buffer.from(master.mac.r, "base64")]),
  };
}

function open(sealed, key, what) {
  const iv = sealed.subarray(0, 16);
  const ciphertext = sealed.subarray(16, sealed.length - 16);
  if (!crypto.timingSafeEqual(poly1305Aes(key.mac, iv, ciphertext), sealed.subarray(sealed.length - 16))) {
    throw new Error(`${what} does not open with its key`);
  }
  const decipher = crypto.createDecipheriv("aes-256-ctr", key.encryption, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function seal(plaintext, key) {
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv("aes-256-ctr", key.encryption, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, poly1305Aes(key.mac, iv, ciphertext)]);
}

/** The one key file of a new repository, and the master key's JSON it holds. */
function onlyKey(files, password) {
  const names = files.list("keys");
  if (names.length !== 1) throw new Error(`expected the one key of a new repository, found ${names.length}`);
  const keyFile = JSON.parse(files.read(`keys/${names[0]}`).toString("utf8"));
  const master = open(Buffer.from(keyFile.data, "base64"), userKey(password, Buffer.from(keyFile.salt, "base64"), keyFile), "the key file");
  return { name: names[0], keyFile, master };
}

/** Writes a key file for the password with cheap parameters; returns its name. */
function writeCheapKey(files, keyFile, master, password) {
  const salt = crypto.randomBytes(64);
  const cheap = { ...keyFile, ...CHEAP, created: new Date().toISOString(), salt: salt.toString("base64"), data: seal(master, userKey(password, salt, CHEAP)).toString("base64") };
  const text = Buffer.from(JSON.stringify(cheap));
  const name = crypto.createHash("sha256").update(text).digest("hex");
  files.write(`keys/${name}`, text);
  return name;
}

function cheapKey(repository, password) {
  const files = repositoryFiles(repository);
  const { name, keyFile, master } = onlyKey(files, password);
  writeCheapKey(files, keyFile, master, password);
  files.remove(`keys/${name}`);
}

function clone(repository, password, template, templatePassword) {
  const from = repositoryFiles(template);
  const { keyFile, master } = onlyKey(from, templatePassword);
  const masterKey = masterKeyOf(master);
  const config = JSON.parse(open(from.read("config"), masterKey, "the template's config").toString("utf8"));
  const id = crypto.randomBytes(32).toString("hex");

  const to = repositoryFiles(repository);
  if (to.list("").includes("config")) throw new Error(`create repository at ${repository} failed: config file already exists`);
  to.makeLayout(template);
  writeCheapKey(to, keyFile, master, password);
  to.write("config", seal(Buffer.from(JSON.stringify({ ...config, id })), masterKey));
  process.stdout.write(`created restic repository ${id.slice(0, 10)} at ${repository} (cloned from the test run's template)\n`);
}

function main(argv) {
  const repository = process.env.RESTIC_REPOSITORY;
  const password = process.env.RESTIC_PASSWORD;
  if (!repository || password === undefined) throw new Error("RESTIC_REPOSITORY and RESTIC_PASSWORD must be set");
  if (argv[0] === "cheap-key" && argv.length === 1) return cheapKey(repository, password);
  if (argv[0] === "clone" && argv.length === 2 && process.env.RESTIC_TEMPLATE_PASSWORD !== undefined) {
    return clone(repository, password, argv[1], process.env.RESTIC_TEMPLATE_PASSWORD);
  }
  throw new Error("usage: restic-test-repo.js cheap-key | clone <template> (with RESTIC_TEMPLATE_PASSWORD)");
}

try {
  main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`restic-test-repo: ${error.message}\n`);
  process.exit(1);
}
