#!/usr/bin/env node
/**
 * Test support, run by the sandbox's `restic` shim right after a successful `restic init`:
 * gives the new repository a key with cheap scrypt parameters in place of the one restic made.
 *
 * Why: restic calibrates its key derivation at init to take about half a second, and every
 * restic process pays it again when it opens the repository. Over the end-to-end tier that
 * was about 190 s of CPU, a third of the tier, spent on nothing a test asserts. The master
 * key stays the same, so the repository's data, its config and every later restic command
 * are untouched; only the wrapping of the master key changes (restic's key file format:
 * scrypt of the password gives an AES-256-CTR key and a Poly1305-AES MAC key, which seal
 * the master key as IV || ciphertext || MAC).
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

/** The repository's keys/ folder: list, read, write, remove. */
function keyStore(repository) {
  if (repository.startsWith("rclone:")) {
    const root = `${repository.slice("rclone:".length)}/keys`;
    const rclone = (args, input) => execFileSync("rclone", args, { input, maxBuffer: 1 << 20 });
    return {
      list: () => rclone(["lsf", "--files-only", root]).toString().split("\n").filter(Boolean),
      read: (name) => rclone(["cat", `${root}/${name}`]),
      write: (name, data) => rclone(["rcat", `${root}/${name}`], data),
      remove: (name) => rclone(["deletefile", `${root}/${name}`]),
    };
  }
  const root = path.join(repository, "keys");
  return {
    list: () => fs.readdirSync(root),
    read: (name) => fs.readFileSync(path.join(root, name)),
    write: (name, data) => fs.writeFileSync(path.join(root, name), data, { mode: 0o400 }),
    remove: (name) => fs.rmSync(path.join(root, name)),
  };
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

function open(sealed, key) {
  const iv = sealed.subarray(0, 16);
  const ciphertext = sealed.subarray(16, sealed.length - 16);
  if (!crypto.timingSafeEqual(poly1305Aes(key.mac, iv, ciphertext), sealed.subarray(sealed.length - 16))) {
    throw new Error("the key file does not open with RESTIC_PASSWORD");
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

function main() {
  const repository = process.env.RESTIC_REPOSITORY;
  const password = process.env.RESTIC_PASSWORD;
  if (!repository || password === undefined) throw new Error("RESTIC_REPOSITORY and RESTIC_PASSWORD must be set");
  const store = keyStore(repository);
  const names = store.list();
  if (names.length !== 1) throw new Error(`expected the one key of a new repository, found ${names.length}`);
  const original = JSON.parse(store.read(names[0]).toString("utf8"));
  const masterKey = open(Buffer.from(original.data, "base64"), userKey(password, Buffer.from(original.salt, "base64"), original));
  const salt = crypto.randomBytes(64);
  const cheap = {
    ...original,
    ...CHEAP,
    salt: salt.toString("base64"),
    data: seal(masterKey, userKey(password, salt, CHEAP)).toString("base64"),
  };
  const text = Buffer.from(JSON.stringify(cheap));
  store.write(crypto.createHash("sha256").update(text).digest("hex"), text);
  store.remove(names[0]);
}

try {
  main();
} catch (error) {
  process.stderr.write(`restic-cheap-key: ${error.message}\n`);
  process.exit(1);
}
