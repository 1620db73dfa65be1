'use strict';
// Shared by the Node `ws` peers of tst_node_interop: the messages every pairing exchanges, and
// the watchdog. tst_node_interop.cpp (nodeMessages()) builds the same list; keep both in sync.

const crypto = require('crypto');

const HARD_TIMEOUT_MS = 60000; // no peer process lives longer than this
const MAX_SIZE = 16 * 1024 * 1024; // the largest message any pairing exchanges is 4 MiB

// size bytes: byte i = ((i & 0xFF) + (i >> 8) * 7 + (i >> 16) * 13 + seed) & 0xFF
// (the pattern of tests/interop/peers/interop_common.py; deflate shrinks it a lot).
function pattern(size, seed) {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; ++i)
    out[i] = ((i & 0xff) + (i >>> 8) * 7 + (i >>> 16) * 13 + seed) & 0xff;
  return out;
}

// xorshift32 (Marsaglia), on unsigned 32-bit values.
function xorshift32(x) {
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  return x;
}

// size bytes (a multiple of 4) that deflate cannot shrink: xorshift32 outputs, little-endian.
function randomBytes(size, seed) {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i += 4) {
    x = xorshift32(x);
    out.writeUInt32LE(x, i);
  }
  return out;
}

// Compressible ASCII text of exactly size bytes: numbered lines, cut at size.
function compressibleText(size, seed) {
  const parts = [];
  let n = 0;
  let length = 0;
  while (length < size) {
    const line = Buffer.from(`${seed}:${n} the quick brown fox jumps over the lazy dog\n`, 'latin1');
    parts.push(line);
    length += line.length;
    ++n;
  }
  return Buffer.concat(parts, length).subarray(0, size);
}

// Non-ASCII text (2-, 3- and 4-byte UTF-8) of at least minSize bytes: words drawn by
// xorshift32 from a vocabulary, each followed by a space.
const VOCABULARY = ['ünïcødé', '☃', '😀', 'Ελληνικά', '日本語のテキスト', 'кириллица', 'עברית',
                    '🚀🌍', 'naïve', 'é', 'ﬁ', '𝄞 music', 'ASCII'];

function nonAsciiText(minSize, seed) {
  const words = VOCABULARY.map((w) => Buffer.from(w + ' ', 'utf8'));
  const parts = [];
  let length = 0;
  let x = seed >>> 0;
  while (length < minSize) {
    x = xorshift32(x);
    const w = words[x % words.length];
    parts.push(w);
    length += w.length;
  }
  return Buffer.concat(parts, length);
}

// In the order they are sent: { text, data (Buffer, UTF-8 for text), compress, parts }.
// compress: false is sent without permessage-deflate (a per-message opt-out both libraries
// have); parts, if any: the message is sent frame by frame, a compressed message in several
// frames (RFC 7692 §6.1), with empty frames and cuts inside UTF-8 sequences.
function messages() {
  const text = (data, compress = true) => ({ text: true, data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), compress });
  const binary = (data, compress = true) => ({ text: false, data, compress });
  const fragmented = (msg, cuts) => {
    const bounds = [0, ...cuts, msg.data.length, msg.data.length];
    msg.parts = [];
    for (let i = 0; i + 1 < bounds.length; ++i)
      msg.parts.push(msg.data.subarray(bounds[i], bounds[i + 1]));
    return msg;
  };
  return [
    text(''),
    binary(Buffer.alloc(0)),
    text('ten bytes!'),
    binary(pattern(10, 1)),
    text('héllo wörld ☃ 😀'),
    text(compressibleText(100, 2)),
    binary(pattern(1024, 3)),
    text(compressibleText(64 * 1024, 4)),
    binary(pattern(64 * 1024, 5)),
    binary(pattern(64 * 1024, 9), false),
    text(compressibleText(4 * 1024 * 1024, 6)),
    binary(randomBytes(1024 * 1024, 0x9e3779b9)),
    text(nonAsciiText(300000, 12345)),
    // 5 frames: 3000 bytes, 67001 bytes, empty, the rest, an empty final one; both cuts
    // fall inside a UTF-8 sequence.
    fragmented(text(nonAsciiText(100000, 777)), [3000, 70001, 70001]),
    text('the end ☃'),
  ];
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function describe(msg) {
  return `${msg.text ? 'text' : 'binary'}(${msg.data.length})`;
}

// The first differing byte of two Buffers, or -1 if they are equal.
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ++i)
    if (a[i] !== b[i])
      return i;
  return a.length === b.length ? -1 : n;
}

// Kill this process after HARD_TIMEOUT_MS, whatever it is waiting for.
function armWatchdog(name) {
  setTimeout(() => {
    process.stdout.write(`ERROR ${name}: hard timeout of ${HARD_TIMEOUT_MS / 1000} s\n`);
    process.exit(2);
  }, HARD_TIMEOUT_MS).unref();
}

module.exports = {
  HARD_TIMEOUT_MS, MAX_SIZE, messages, sha256, describe, firstDifference, armWatchdog,
  pattern, randomBytes, compressibleText, nonAsciiText,
};
