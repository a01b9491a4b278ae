/**
 * The product's application ids, by which cvpysdk picks an agent's classes
 * (its file-system path rules among them). An agent imported without an
 * `appId` takes the id its name implies; "File System" follows its client's
 * OS (Windows 33, otherwise Linux 29).
 */
export const APP_IDS: Readonly<Record<string, number>> = {
  'linux file system': 29,
  'windows file system': 33,
  'unix file system': 29,
  'virtual server': 106,
  'sql server': 81,
  oracle: 22,
  'exchange mailbox': 137,
  'big data apps': 64,
  'cloud apps': 134,
};

export const FILE_SYSTEM_LINUX = 29;
export const FILE_SYSTEM_WINDOWS = 33;
export const FILE_SYSTEM_IDS: ReadonlySet<number> = new Set([FILE_SYSTEM_LINUX, FILE_SYSTEM_WINDOWS]);

/** An agent's application id: the stored one, else by its name and its client's OS. */
export function appIdOf(
  stored: number | null | undefined,
  agentName: string,
  clientOs: string | null | undefined,
): number {
  if (stored) return stored;
  const key = agentName.trim().toLowerCase();
  if (key === 'file system') return clientOs === 'Windows' ? FILE_SYSTEM_WINDOWS : FILE_SYSTEM_LINUX;
  return APP_IDS[key] ?? (clientOs === 'Windows' ? FILE_SYSTEM_WINDOWS : FILE_SYSTEM_LINUX);
}

/** The name cvpysdk knows an agent by ("file system" for both file-system ids). */
export function appNameOf(appId: number, agentName: string): string {
  return FILE_SYSTEM_IDS.has(appId) ? 'File System' : agentName;
}
