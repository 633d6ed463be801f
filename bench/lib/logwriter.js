// SPDX-License-Identifier: MIT
// Writes LINES lines of BYTES bytes (newline included) to stdout as fast as it can, then records
// how long that took in RESULT (a JSON file). Usage: node logwriter.js LINES BYTES RESULT TAG
//
// Line n is "<TAG> <n> xxx...x\n", so a reader can check that every line arrived exactly once and
// whole. Lines are written in batches of about 64 KiB (what a busy logger's stream buffers hand
// to write(2)), waiting for 'drain' when the stream asks for it.
'use strict';

const fs = require('fs');

const [lines, bytes] = [Number(process.argv[2]), Number(process.argv[3])];
const [result, tag] = [process.argv[4], process.argv[5]];
const pad = 'x'.repeat(bytes);

async function main() {
  const start = process.hrtime.bigint();
  let batch = '';
  for (let seq = 1; seq <= lines; seq++) {
    const prefix = `${tag} ${seq} `;
    batch += prefix + pad.slice(0, Math.max(0, bytes - prefix.length - 1)) + '\n';
    if (batch.length >= 65536 || seq === lines) {
      const more = process.stdout.write(batch);
      batch = '';
      if (!more) await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
  }
  // The last write's callback: the bytes left this process (pipe or file).
  await new Promise((resolve) => process.stdout.write('', resolve));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.writeFileSync(result, JSON.stringify({ lines, bytes, seconds, lines_per_s: lines / seconds,
    stdout: fs.fstatSync(1).isFIFO() ? 'pipe' : 'file' }));
}

main();
