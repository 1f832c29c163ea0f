import { chmod, mkdir, open, stat } from "node:fs/promises";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./local.js";

/**
 * Creates `SAILFIN_HOME` owner-only (0700). An existing home is left as it is, but reported when
 * other users can enter it (the operator chose its place and may share it on purpose); what
 * Sailfin writes inside is 0600/0700 anyway.
 *
 * @example const { loose } = await preparePrivateHome("/srv/sailfin"); if (loose) log.warn("…");
 */
export async function preparePrivateHome(home: string): Promise<{ readonly loose: boolean; readonly mode: number }> {
  const existing = await stat(home).catch(() => null);
  if (existing === null) await mkdir(home, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir applies the umask; chmod makes a new home exactly 0700.
  if (existing === null) await chmod(home, PRIVATE_DIR_MODE);
  const mode = (existing?.mode ?? PRIVATE_DIR_MODE) & 0o777;
  return { loose: (mode & 0o077) !== 0, mode };
}

/**
 * Makes `path` an owner-only file (0600), creating it empty when absent: SQLite gives its -wal
 * and -shm files the database file's mode, so a private database file keeps all three private.
 *
 * @example await ensurePrivateFile(join(home, "sailfin.db"));
 */
export async function ensurePrivateFile(path: string): Promise<void> {
  const handle = await open(path, "a", PRIVATE_FILE_MODE);
  await handle.close();
  await chmod(path, PRIVATE_FILE_MODE);
}
