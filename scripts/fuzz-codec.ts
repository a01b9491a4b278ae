// Coverage-guided fuzzing of the CommServe body codec (`npm run fuzz`).
//
//   npm run fuzz                          60 s (FUZZ_SECONDS), corpus in fuzz/corpus/, findings in fuzz/crashes/
//   FUZZ_SECONDS=3600 npm run fuzz        an hour
//   npm run fuzz -- fuzz/crashes/<file>   replays one input
//
// Jazzer.js would be the usual tool, but its npm package does not run here:
// 4.0.0's prebuilt libFuzzer addon needs glibc 2.38 (Debian 12 has 2.36), and
// 2.x downloads its addon from GitHub at install time. So this is a small
// greybox loop of its own: V8's precise block coverage (node:inspector) is the
// feedback, an input that reaches a block (or a count bucket) never seen before
// joins the corpus, and mutations are byte edits, dictionary tokens and
// splices of corpus entries.
//
// What counts as a finding: anything the decoders throw that is not a refusal
// (CsError), and a decoded XML or JSON message that the reply writer cannot
// turn back into well-formed XML that the decoder reads again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { decodeJson, decodeXml } from '../src/commserve/codec.js';
import { CsError } from '../src/commserve/errors.js';
import { buildXml } from '../src/http/xml.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CORPUS = path.join(ROOT, 'fuzz/corpus');
const CRASHES = path.join(ROOT, 'fuzz/crashes');
const SECONDS = Number(process.env.FUZZ_SECONDS) || 60;
const MAX_LEN = 4096;
/** Scripts whose blocks count as coverage: the codec and the parsers under it. */
const COVERED =
  /\/src\/(commserve\/codec|http\/xml)\.ts|\/node_modules\/(fast-xml-parser|saxes|xmlchars|jsonc-parser)\//;

/** One input through both decoders; throws only on a finding. */
function target(data: Buffer): void {
  const text = data.toString('utf8');
  for (const decode of [decodeXmlMessage, decodeJsonMessage]) {
    let decoded: { root: string; value: Record<string, unknown> } | null;
    try {
      decoded = decode(text);
    } catch (e) {
      if (e instanceof CsError) continue;
      throw e;
    }
    if (decoded === null) continue;
    // The reply writer must write what was read as XML the decoder reads back.
    const xml = buildXml(decoded.root, decoded.value);
    try {
      decodeXml(xml);
    } catch (e) {
      throw new Error(
        `a decoded message written back is not readable XML (${(e as Error).message}): ${xml.slice(0, 500)}`,
      );
    }
  }
}

function decodeXmlMessage(text: string) {
  const msg = decodeXml(text);
  return { root: msg.root, value: msg.value as Record<string, unknown> };
}

function decodeJsonMessage(text: string) {
  const v = decodeJson(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return { root: 'Reply', value: v as Record<string, unknown> };
}

// -- coverage -----------------------------------------------------------------

const session = new Session();
session.connect();
function post<T>(method: string, params: Record<string, unknown> = {}): T {
  let out: T | undefined;
  let failure: Error | null = null;
  // Same-thread inspector sessions answer synchronously.
  session.post(method, params, (err, res) => {
    failure = err;
    out = res as T;
  });
  if (failure) throw failure;
  return out as T;
}

interface Coverage {
  result: Array<{
    url: string;
    functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }>;
  }>;
}

post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

/** The features one run reached: each covered block, with its hit count in a power-of-two bucket. */
function features(): string[] {
  const cov = post<Coverage>('Profiler.takePreciseCoverage');
  const out: string[] = [];
  for (const script of cov.result) {
    if (!COVERED.test(script.url)) continue;
    for (const fn of script.functions) {
      for (const r of fn.ranges) {
        if (r.count > 0) out.push(`${script.url}:${r.startOffset}:${Math.min(8, Math.floor(Math.log2(r.count)))}`);
      }
    }
  }
  return out;
}

// -- mutation -------------------------------------------------------------------

const TOKENS = [
  '<',
  '>',
  '/>',
  '</',
  '="',
  '"',
  "'",
  '&amp;',
  '&#0;',
  '&#x10FFFF;',
  '&lt;',
  '&unknown;',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0"?>',
  '<!DOCTYPE a [<!ENTITY x "y">]>',
  'xmlns:a="b"',
  '__proto__',
  'constructor',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"_type_"',
  '"_x"',
  '\\u0000',
  '\\ud800',
  '1e999',
  '-0',
  'null',
  'true',
  '\u0000',
  '\uFEFF',
  '\uFFFF',
  '\r\n',
].map((t) => Buffer.from(t));

const SEEDS = [
  '<DM2ContentIndexing_CheckCredentialReq username="admin" password="x" timeOut="30"/>',
  '<App_SetPasskeyRequest><currentPasskey>a</currentPasskey><newPasskey>b</newPasskey><passkeyOpType>2</passkeyOpType></App_SetPasskeyRequest>',
  '<a><b c="1">t</b><b>u</b><d/></a>',
  '{"mode":4,"username":"admin","password":"eA=="}',
  '{"users":[{"userEntity":{"userName":"a"},"email":"a@b.c"}],}',
  '{"App_SetPasskeyRequest":{"_passkey":"x","passkey":"y","_type_":3}}',
  '{"entityAssociated":{"entity":[{"entityType":3,"_type_":150,"entityId":1}]},"securityAssociations":{"associationsOperationType":"ADD","associations":[]}}',
];

let rngState = (Number(process.env.FUZZ_SEED) || Date.now()) >>> 0;
const rand = (n: number) => {
  // xorshift32: reproducible from FUZZ_SEED.
  rngState ^= rngState << 13;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  return (rngState >>> 0) % n;
};

function mutate(input: Buffer, corpus: Buffer[]): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rand(4);
  for (let i = 0; i < rounds; i++) {
    const at = rand(b.length + 1);
    switch (rand(7)) {
      case 0: // flip a byte
        if (b.length > 0) b[rand(b.length)] = rand(256);
        break;
      case 1: // insert a token
        b = Buffer.concat([b.subarray(0, at), TOKENS[rand(TOKENS.length)] as Buffer, b.subarray(at)]);
        break;
      case 2: {
        // delete a range
        const len = 1 + rand(16);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 3: {
        // repeat a range
        const len = 1 + rand(32);
        const times = 1 + rand(8);
        const piece = b.subarray(at, at + len);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: times }, () => piece), b.subarray(at)]);
        break;
      }
      case 4: {
        // splice another corpus entry in
        const other = corpus[rand(corpus.length)] as Buffer;
        const from = rand(other.length + 1);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + rand(64)), b.subarray(at)]);
        break;
      }
      case 5: // a random ASCII character
        b = Buffer.concat([b.subarray(0, at), Buffer.from([32 + rand(95)]), b.subarray(at)]);
        break;
      default: // cut
        b = b.subarray(0, at);
    }
  }
  return b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b;
}

// -- the loop --------------------------------------------------------------------

function save(dir: string, data: Buffer): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, createHash('sha256').update(data).digest('hex').slice(0, 16));
  fs.writeFileSync(file, data);
  return file;
}

const replay = process.argv[2];
if (replay) {
  target(fs.readFileSync(replay));
  process.stdout.write(`${replay}: no finding\n`);
  process.exit(0);
}

const corpus: Buffer[] = SEEDS.map((s) => Buffer.from(s));
if (fs.existsSync(CORPUS)) for (const f of fs.readdirSync(CORPUS)) corpus.push(fs.readFileSync(path.join(CORPUS, f)));
const seen = new Set<string>();
features();
for (const c of corpus) {
  target(c);
  for (const f of features()) seen.add(f);
}

const end = Date.now() + SECONDS * 1000;
let runs = 0;
let findings = 0;
let lastReport = Date.now();
while (Date.now() < end) {
  const input = mutate(corpus[rand(corpus.length)] as Buffer, corpus);
  runs++;
  try {
    target(input);
  } catch (e) {
    findings++;
    const file = save(CRASHES, input);
    process.stdout.write(
      `finding: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}\n  input saved to ${file}\n`,
    );
    features();
    continue;
  }
  let fresh = false;
  for (const f of features()) {
    if (!seen.has(f)) {
      seen.add(f);
      fresh = true;
    }
  }
  if (fresh) {
    corpus.push(input);
    save(CORPUS, input);
  }
  if (Date.now() - lastReport > 5000) {
    lastReport = Date.now();
    process.stderr.write(`runs ${runs}, corpus ${corpus.length}, features ${seen.size}, findings ${findings}\n`);
  }
}
process.stdout.write(
  `fuzzed ${runs} inputs in ${SECONDS} s (seed ${process.env.FUZZ_SEED ?? 'from the clock'}): corpus ${corpus.length}, features ${seen.size}, findings ${findings}\n`,
);
process.exit(findings > 0 ? 1 : 0);
