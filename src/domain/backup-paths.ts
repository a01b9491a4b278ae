/**
 * Paths of backed-up files, as a client names them: Linux `/data/a.txt`,
 * Windows `C:\data\a.txt`. Inside the catalogue every folder has one key, its
 * components joined by "/" after a leading "/" (the root is "/"), whatever the
 * path's own separator, so one browse rule serves both. Names keep their case.
 */

export const MAX_PATH = 4096;
export const MAX_COMPONENT = 255;
export const MAX_DEPTH = 256;

export interface BackupPath {
  windows: boolean;
  components: string[];
}

// C0 controls and DEL, which no file system the product backs up puts in a name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isWindowsPath = (raw: string): boolean => raw.includes('\\') || /^[A-Za-z]:/.test(raw);

/** A file's path; null with the reason when it is not one. */
export function parseFilePath(raw: unknown): { ok: true; value: BackupPath } | { ok: false; problem: string } {
  if (typeof raw !== 'string' || raw === '') return { ok: false, problem: 'must be a non-empty string' };
  if (raw.length > MAX_PATH) return { ok: false, problem: `is longer than ${MAX_PATH} characters` };
  if (CONTROL.test(raw)) return { ok: false, problem: 'holds a control character' };
  if (LONE_SURROGATE.test(raw)) return { ok: false, problem: 'holds a lone surrogate' };
  const windows = isWindowsPath(raw);
  if (!windows && !raw.startsWith('/')) {
    return { ok: false, problem: 'must be absolute: /… on Linux, C:\\… on Windows' };
  }
  if (windows && !/^[A-Za-z]:\\/.test(raw)) return { ok: false, problem: 'must start with a drive, as C:\\' };
  const components = raw.split(windows ? /[\\/]/ : '/').filter((c) => c !== '');
  if (components.length < (windows ? 2 : 1)) return { ok: false, problem: 'names a folder, not a file' };
  if (components.length > MAX_DEPTH) return { ok: false, problem: `is deeper than ${MAX_DEPTH} levels` };
  for (const c of components) {
    if (c === '.' || c === '..') return { ok: false, problem: 'holds a "." or ".." component' };
    if (c.length > MAX_COMPONENT) return { ok: false, problem: `has a name longer than ${MAX_COMPONENT} characters` };
  }
  return { ok: true, value: { windows, components } };
}

/** The key of the folder holding the first `n` components. */
export const folderKey = (components: readonly string[], n = components.length): string =>
  `/${components.slice(0, n).join('/')}`;

/** The path the client knows, for the first `n` components. */
export function displayPath(p: BackupPath, n = p.components.length): string {
  const c = p.components.slice(0, n);
  return p.windows ? c.join('\\') : `/${c.join('/')}`;
}

/**
 * A folder named in a browse or restore request: `/data`, `C:\data\`, and
 * `\` or `/` or empty for the top. Returns its key, or null when it is not a path.
 */
export function requestFolderKey(raw: string): string | null {
  if (raw.length > MAX_PATH || CONTROL.test(raw)) return null;
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed === '/' || trimmed === '\\') return '/';
  const windows = isWindowsPath(trimmed);
  if (!windows && !trimmed.startsWith('/')) return null;
  const components = trimmed.split(windows ? /[\\/]/ : '/').filter((c) => c !== '');
  if (components.some((c) => c === '.' || c === '..')) return null;
  return folderKey(components);
}

/**
 * Whether a client's backed-up paths compare without regard to case: a
 * Windows client's (its OS, or a Windows File System agent, application id
 * 33), as Windows names them; any other's compare exactly. Browse, find and a
 * restore's paths all ask this one rule.
 */
/**
 * A key or pattern folded as browse compares them without case: A-Z to a-z
 * only, as SQLite's lower() does; the store folds the same letters on
 * PostgreSQL (translate), so both stores agree on every name.
 */
export function foldAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function foldsCase(clientOs: string | null | undefined, appId: number): boolean {
  return appId === 33 || (clientOs ?? '').toLowerCase() === 'windows';
}
