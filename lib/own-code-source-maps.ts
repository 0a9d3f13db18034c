import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';

/*
 * Source maps that map only the project's own code. esbuild maps every byte of the
 * bundle, the AWS SDK and the other dependencies included; with --enable-source-maps
 * Node reads and parses the map of each file as it loads it, so the maps cost cold-start
 * time. Leaving dependencies' code unmapped (Source Map v3 one-field segments) keeps
 * stack traces of our code exactly as before; a frame inside a dependency shows its
 * position in the bundle file, as it would without source maps. The maps shrink to
 * about 40 % and a cold start spends about a third less on them (BENCHMARKS.md).
 */

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

function decodeSegment(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new Error(`invalid base64 VLQ character "${char}" in a source map`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeValue(value: number): string {
  let vlq = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out += BASE64[digit];
  } while (vlq > 0);
  return out;
}

export interface SourceMapV3 {
  version: number;
  sources: string[];
  sourcesContent?: (string | null)[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}

/** The map with only the segments whose source `keep` accepts; other code is left unmapped, unused sources and names dropped. */
export function keepSources(map: SourceMapV3, keep: (source: string) => boolean): SourceMapV3 {
  const sourceIndex = new Map<number, number>();
  const sources: string[] = [];
  const sourcesContent: (string | null)[] = [];
  const nameIndex = new Map<number, number>();
  const names: string[] = [];
  // Absolute values across the whole map, as decoded and as re-encoded.
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  let outSource = 0;
  let outLine = 0;
  let outColumn = 0;
  let outName = 0;
  const lines = map.mappings.split(';').map((text) => {
    let generated = 0;
    let outGenerated = 0;
    let unmapped = true; // a line starts unmapped
    const out: string[] = [];
    for (const segment of text === '' ? [] : text.split(',')) {
      const fields = decodeSegment(segment);
      generated += fields[0] ?? 0;
      let kept = false;
      if (fields.length >= 4) {
        source += fields[1] as number;
        line += fields[2] as number;
        column += fields[3] as number;
        if (fields.length >= 5) name += fields[4] as number;
        const path = map.sources[source] ?? '';
        if (keep(path)) {
          kept = true;
          let s = sourceIndex.get(source);
          if (s === undefined) {
            s = sources.length;
            sourceIndex.set(source, s);
            sources.push(path);
            sourcesContent.push(map.sourcesContent?.[source] ?? null);
          }
          let encoded = encodeValue(generated - outGenerated) + encodeValue(s - outSource) + encodeValue(line - outLine) + encodeValue(column - outColumn);
          outSource = s;
          outLine = line;
          outColumn = column;
          if (fields.length >= 5) {
            let n = nameIndex.get(name);
            if (n === undefined) {
              n = names.length;
              nameIndex.set(name, n);
              names.push(map.names[name] as string);
            }
            encoded += encodeValue(n - outName);
            outName = n;
          }
          out.push(encoded);
          outGenerated = generated;
          unmapped = false;
        }
      }
      if (!kept && !unmapped) {
        // From here on the code is not ours: a one-field segment ends the previous mapping.
        out.push(encodeValue(generated - outGenerated));
        outGenerated = generated;
        unmapped = true;
      }
    }
    return out.join(',');
  });
  return { ...map, sources, names, mappings: lines.join(';'), ...(map.sourcesContent && { sourcesContent }) };
}

/** Code of a dependency (installed under node_modules), as a source map names it. */
export function isDependency(source: string): boolean {
  return /(^|[\\/])node_modules[\\/]/.test(source);
}

/** Code esbuild made up itself (`<define:NAME>` for a build-time constant, `<runtime>`): nothing to map it to. */
export function isGenerated(source: string): boolean {
  return /^<[^>]+>$/.test(source);
}

/** Rewrites every source map a build wrote so that it maps only the project's own code. */
export function ownCodeSourceMapsPlugin(): Plugin {
  return {
    name: 'kallisti-own-code-source-maps',
    setup(pluginBuild) {
      pluginBuild.onEnd((result) => {
        // Builds kept in memory (write: false) are only inspected, never deployed: their maps are left whole.
        if (pluginBuild.initialOptions.write === false) return;
        const root = pluginBuild.initialOptions.absWorkingDir ?? process.cwd();
        for (const file of Object.keys(result.metafile?.outputs ?? {})) {
          if (!file.endsWith('.map')) continue;
          const full = path.resolve(root, file);
          const map = keepSources(JSON.parse(readFileSync(full, 'utf8')) as SourceMapV3, (source) => !isDependency(source) && !isGenerated(source));
          if (map.sources.length > 0) {
            writeFileSync(full, JSON.stringify(map));
            continue;
          }
          // A file of dependencies only: its map would map nothing, yet Node would still read it
          // and measure every line of the file at load. No map, and no reference to one.
          rmSync(full);
          const code = full.slice(0, -'.map'.length);
          writeFileSync(code, readFileSync(code, 'utf8').replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n'));
        }
      });
    },
  };
}
