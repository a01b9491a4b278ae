import type { Config } from '../config.js';
import { keyFromBase64, loadMasterKey, readKeyFile } from '../crypto/master-key.js';
import type { Store } from '../store/db.js';
import { keyStatus, RewrapRefusedError, rewrapMaster, rotate } from '../store/rotation.js';
import { Vault } from '../store/vault.js';
import { CliError, EXIT } from './errors.js';
import { keyId } from './status.js';

// `bulwark keys status|rotate`. Nothing here prints a secret: key ids are
// numbers (data keys) or HMAC ids (master keys), records are named by table,
// id and name.

/** The configured master key; never creates a key file (`serve` does that). */
export function configuredMasterKey(config: Config): Buffer {
  return loadMasterKey(config.masterKey, config.dataDir, config.masterKeyCommand, { create: false }).key;
}

/** `bulwark keys status`: lines for stdout, and whether something needs the operator (exit 1). */
export async function keysStatusCli(store: Store, master: Buffer | null): Promise<{ lines: string[]; ok: boolean }> {
  const s = await keyStatus(store.db, master);
  const lines: string[] = [];
  if (master === null) lines.push('master key: not given, data keys not checked');
  else
    lines.push(
      `master key: ${keyId(master)}${s.masterMatches === false ? ' is NOT the master key of this store' : s.masterMatches ? " (this store's)" : ' (the store has no key check yet)'}`,
    );
  if (s.keys.length === 0) lines.push('data keys: none yet (the first stored password creates one)');
  for (const k of s.keys) {
    const flags = [k.current ? 'current' : '', k.unwraps === false ? 'DOES NOT UNWRAP' : ''].filter(Boolean);
    lines.push(
      `data key ${k.id}\tcreated ${k.createdAt}\t${k.records} record${k.records === 1 ? '' : 's'}${flags.length ? `\t${flags.join(', ')}` : ''}`,
    );
  }
  for (const o of s.orphans) {
    lines.push(`key id ${o.keyId}\tNO DATA KEY\t${o.records} record${o.records === 1 ? '' : 's'} cannot be opened`);
  }
  const current = s.keys.find((k) => k.current)?.id;
  const notCurrent = s.keys.filter((k) => !k.current).reduce((n, k) => n + k.records, 0);
  if (s.rotation) {
    lines.push(
      `rotation: to data key ${s.rotation.target} since ${s.rotation.startedAt}, not finished (bulwark keys rotate resumes it)`,
    );
  } else if (current !== undefined) {
    lines.push(
      notCurrent === 0 ? 'rotation: none running' : `rotation: none running; ${notCurrent} records under older keys`,
    );
  }
  const ok =
    s.orphans.length === 0 && !s.keys.some((k) => k.unwraps === false && k.records > 0) && s.masterMatches !== false;
  return { lines, ok };
}

export interface RotateCliOptions {
  batch: number;
  pauseMs: number;
  retire: boolean;
  newMasterKeyFile?: string;
}

function newMasterKey(o: RotateCliOptions): Buffer | null {
  const env = process.env.BULWARK_NEW_MASTER_KEY;
  if (o.newMasterKeyFile && env) {
    throw new CliError('give the new master key once: --new-master-key-file or BULWARK_NEW_MASTER_KEY, not both');
  }
  if (o.newMasterKeyFile) return readKeyFile(o.newMasterKeyFile);
  if (env) return keyFromBase64(env, 'BULWARK_NEW_MASTER_KEY');
  return null;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * `bulwark keys rotate`: without a new master key, a routine data-key
 * rotation (a new data key, every record re-encrypted under it). With one,
 * every data key is wrapped again under it (records untouched), the first
 * step of replacing a leaked master key (README: keys).
 */
export async function rotateCli(
  config: Config,
  store: Store,
  o: RotateCliOptions,
  say: (line: string) => void,
  progress: (text: string) => void,
): Promise<number> {
  if (!Number.isInteger(o.batch) || o.batch < 1 || o.batch > 10_000) {
    throw new CliError('--batch must be a whole number from 1 to 10000');
  }
  if (!Number.isInteger(o.pauseMs) || o.pauseMs < 0 || o.pauseMs > 60_000) {
    throw new CliError('--pause-ms must be a whole number from 0 to 60000');
  }
  const next = newMasterKey(o);
  const master = configuredMasterKey(config);
  const vault = new Vault(store, master);
  await vault.ready();
  if (next) {
    if (next.equals(master)) throw new CliError('the new master key is the current one');
    if (o.retire) throw new CliError('--retire goes with a data-key rotation, not with a new master key');
    let ids: number[];
    try {
      ids = await rewrapMaster(store, master, next, new Date());
    } catch (e) {
      if (e instanceof RewrapRefusedError) throw new CliError(e.message, EXIT.CHECK_FAILED);
      throw e;
    }
    say(`re-wrapped ${ids.length} data key(s) (${ids.join(', ') || 'none'}) under the new master key ${keyId(next)}`);
    say('from now on only the new master key opens this store. Next: restart every server with it');
    say('(BULWARK_MASTER_KEY, BULWARK_MASTER_KEY_COMMAND or master.key), then run `bulwark keys rotate --retire`');
    say('with the new key, so every record moves to a data key the old master key never wrapped.');
    return EXIT.OK;
  }
  const r = await rotate(store, vault, {
    batch: o.batch,
    pauseMs: o.pauseMs,
    retire: o.retire,
    onStart: (s) =>
      say(
        `${s.resumed ? 'resuming the rotation' : 'rotating'} to data key ${s.target}: ${s.total} record(s) to re-encrypt`,
      ),
    onProgress: (p) => progress(`\rre-encrypted ${fmt(p.done)}/${fmt(p.total)} records (${fmt(p.rate)}/s)`),
  });
  progress('\n');
  say(
    `re-encrypted ${r.moved} record(s) under data key ${r.target} in ${r.seconds.toFixed(1)} s (${fmt(r.moved / Math.max(r.seconds, 1e-3))}/s)`,
  );
  if (r.retired.length) say(`retired data key(s) ${r.retired.join(', ')}: they sealed nothing`);
  if (r.problems.length) {
    say(`${r.problems.length} record(s) could not be opened and stay under their key:`);
    for (const p of r.problems) say(`  ${p.ref} ${JSON.stringify(p.label)}: ${p.why}`);
    say('set a new password on each (it is then sealed under the new key) and run bulwark keys rotate again.');
  }
  if (r.left > 0) say(`${r.left} record(s) were changed under an older key during the run: run it again`);
  if (!r.finished) return EXIT.CHECK_FAILED;
  say(`rotation to data key ${r.target} finished: every record is under it`);
  return EXIT.OK;
}
