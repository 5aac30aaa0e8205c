#!/usr/bin/env node
// Turns a CUDA source into C++ for the CPU emulation (SIKED_CUDA=EMULATE):
//   kernel<T>(...)<<<grid, block, smem, stream>>>(args...)
// becomes
//   ::siked_emu::launch(::siked_emu::LaunchConfig(grid, block, smem, stream), "kernel<T>", kernel<T>, args...)
// (emulate/include/siked_emu/launch.h), `extern __shared__ T name[];` becomes a pointer to the
// block's dynamic shared memory, and `#pragma unroll [n]` becomes GCC's `#pragma GCC unroll n`.
// Every newline of the input is kept in place and a #line directive names the input, so compiler
// errors point at the real .cu line. Comments and string literals are never rewritten. A .cu
// file also gets `#include <cuda_runtime.h>` first, as nvcc gives every .cu file.
//
// Usage: node rewrite.mjs <input.cu|.cuh> <output>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** 1 where source[i] is code, 0 inside comments, string and character literals. */
function codeMask(source) {
  const mask = new Uint8Array(source.length);
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === 'R' && next === '"' && !/[\w]/.test(source[i - 1] ?? '')) {
      const open = source.indexOf('(', i + 2);
      const delimiter = source.slice(i + 2, open);
      const end = source.indexOf(`)${delimiter}"`, open);
      i = end < 0 ? source.length : end + delimiter.length + 2;
    } else if (c === '"' || (c === "'" && !/[0-9a-fA-F]/.test(source[i - 1] ?? ''))) {
      // A quote after a hex digit is a C++14 digit separator (1'000), not a character literal.
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n')
        i += source[i] === '\\' ? 2 : 1;
      i++;
    } else {
      mask[i] = 1;
      i++;
    }
  }
  return mask;
}

const OPEN = { '(': ')', '[': ']', '{': '}' };
const CLOSE = { ')': '(', ']': '[', '}': '{' };

class RewriteError extends Error {}

function lineOf(source, index) {
  return source.slice(0, index).split('\n').length;
}

/** Index of the bracket closing the one at `open` (code only). */
function matchForward(source, mask, open) {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (!mask[i]) continue;
    if (OPEN[source[i]]) depth++;
    else if (CLOSE[source[i]] && --depth === 0) return i;
  }
  throw new RewriteError(`unbalanced '${source[open]}' at line ${lineOf(source, open)}`);
}

/** Index of the bracket opening the one at `close` (code only). */
function matchBackward(source, mask, close) {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (!mask[i]) continue;
    if (CLOSE[source[i]]) depth++;
    else if (OPEN[source[i]] && --depth === 0) return i;
  }
  throw new RewriteError(`unbalanced '${source[close]}' at line ${lineOf(source, close)}`);
}

/** Start of the kernel expression ending just before `end`: a qualified name, maybe with <...>. */
function calleeStart(source, mask, end) {
  let i = end - 1;
  while (i >= 0 && /\s/.test(source[i])) i--;
  if (source[i] === '>') {
    let depth = 0;
    for (; i >= 0; i--) {
      if (!mask[i]) continue;
      const c = source[i];
      if (CLOSE[c]) i = matchBackward(source, mask, i);
      else if (c === '>') depth++;
      else if (c === '<' && --depth === 0) break;
    }
    i--;
    while (i >= 0 && /\s/.test(source[i])) i--;
  }
  const nameEnd = i + 1;
  while (i >= 0 && /[\w:]/.test(source[i])) i--;
  if (i + 1 === nameEnd)
    throw new RewriteError(`no kernel name before <<< at line ${lineOf(source, end)}`);
  return i + 1;
}

/** Index of the `>>>` closing the launch configuration that starts at `from`. */
function configEnd(source, mask, from) {
  for (let i = from; i < source.length; i++) {
    if (!mask[i]) continue;
    if (OPEN[source[i]]) i = matchForward(source, mask, i);
    else if (source.startsWith('>>>', i)) return i;
    else if (source[i] === ';') break;
  }
  throw new RewriteError(`no >>> after <<< at line ${lineOf(source, from)}`);
}

function rewriteLaunches(source) {
  const mask = codeMask(source);
  let out = '';
  let copied = 0;
  for (let at = source.indexOf('<<<'); at >= 0; at = source.indexOf('<<<', at + 3)) {
    if (!mask[at] || at < copied) continue;
    const start = calleeStart(source, mask, at);
    const close = configEnd(source, mask, at + 3);
    let open = close + 3;
    while (open < source.length && /\s/.test(source[open])) open++;
    if (source[open] !== '(')
      throw new RewriteError(`no argument list after >>> at line ${lineOf(source, close)}`);
    const end = matchForward(source, mask, open);
    const callee = source.slice(start, at).trimEnd();
    const gap = source.slice(start + callee.length, at) + source.slice(close + 3, open);
    const args = source.slice(open + 1, end);
    const name = JSON.stringify(callee.replace(/\s+/g, ' '));
    out += source.slice(copied, start);
    out += `::siked_emu::launch(::siked_emu::LaunchConfig(${source.slice(at + 3, close)}), ${name}, ${callee}${gap}`;
    out += args.trim() ? `, ${args})` : `${args})`;
    copied = end + 1;
    at = end;
  }
  return out + source.slice(copied);
}

function rewriteDirectives(source) {
  return source
    .replace(/^([ \t]*)#[ \t]*pragma[ \t]+unroll\b(.*)$/gm, (_, indent, rest) => {
      // CUDA's bare form unrolls fully when the trip count is known, and CUDA takes any constant
      // expression; GCC wants a literal, so anything but one becomes 16 (covers the kernels' loops).
      const count = /^[ \t]*\(?[ \t]*(\d+)[ \t]*\)?[ \t]*(\/\/.*)?$/.exec(rest);
      return `${indent}#pragma GCC unroll ${count ? count[1] : '16'}`;
    })
    .replace(
      /extern[ \t]+__shared__[ \t]+(?:(?:__align__|alignas)[ \t]*\([^)]*\)[ \t]*)?([A-Za-z_][\w:]*(?:[ \t]+[A-Za-z_][\w:]*)*)[ \t]+([A-Za-z_]\w*)[ \t]*\[[ \t]*\][ \t]*;/g,
      (_, type, name) => `${type}* ${name} = static_cast<${type}*>(::siked_emu::dynamic_shared());`,
    );
}

export function rewrite(source, inputPath) {
  const quoted = path.resolve(inputPath).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  // nvcc includes cuda_runtime.h in every .cu translation unit before its first line.
  const prelude = inputPath.endsWith('.cu') ? '#include <cuda_runtime.h>\n' : '';
  return `${prelude}#line 1 "${quoted}"\n${rewriteDirectives(rewriteLaunches(source))}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node rewrite.mjs <input.cu> <output.cpp>');
    process.exit(2);
  }
  try {
    const result = rewrite(readFileSync(input, 'utf8'), input);
    mkdirSync(path.dirname(output), { recursive: true });
    writeFileSync(output, result);
  } catch (error) {
    if (!(error instanceof RewriteError)) throw error;
    console.error(`${input}: ${error.message}`);
    process.exit(1);
  }
}
