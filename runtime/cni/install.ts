// `weft install-cni`: put the CNI shim where runtimes look for plugins and,
// optionally, a conflist that puts a runtime network on a weft network — the
// way Calico's and Cilium's installers do. Both writes are atomic (temp file
// + rename), so a runtime exec'ing the plugin during an upgrade never sees a
// half-written file.
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CNI_PLUGIN_TYPE, renderConflist, type ConflistOptions } from '../../model/cni/cni-conflist.js';
import { WeftError, errorMessage } from '../../model/errors.js';

/** The built shim: dist/bin/weft-cni, from the compiled CLI or from the source tree. */
function defaultShimPath(): string {
  const candidates = [new URL('../../bin/weft-cni', import.meta.url), new URL('../../dist/bin/weft-cni', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string);
}

function conflistFileName(network: string): string {
  return `weft-${network}.conflist`;
}

async function sha256(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}

async function ensureDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (e: unknown) {
    throw new WeftError('Invalid', `${what} ${dir} cannot be created: ${errorMessage(e)}`, { cause: e });
  }
  if (!(await stat(dir)).isDirectory()) throw new WeftError('Invalid', `${what} ${dir} is not a directory`);
}

/** Write `data` to `path` through a temp file in the same directory and a rename. */
async function replaceFile(path: string, write: (temp: string) => Promise<void>, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await write(temp);
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (e: unknown) {
    await unlink(temp).catch(() => {});
    throw new WeftError('Internal', `write ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

export interface InstallResult {
  path: string;
  changed: boolean;
}

/** Copy the shim to BIN_DIR/weft; unchanged when the same bytes are there already. */
export async function installShim(binDir: string, shimPath = defaultShimPath()): Promise<InstallResult> {
  if (!existsSync(shimPath)) {
    throw new WeftError('NotFound', `the CNI shim ${shimPath} is not built: run npm run build (it needs a C compiler: apt-get install build-essential)`);
  }
  await ensureDir(binDir, 'CNI bin dir');
  const target = join(binDir, CNI_PLUGIN_TYPE);
  if ((await sha256(target)) === (await sha256(shimPath))) {
    await chmod(target, 0o755); // same bytes, but a runtime cannot exec it without the mode
    return { path: target, changed: false };
  }
  await replaceFile(target, (temp) => copyFile(shimPath, temp), 0o755);
  return { path: target, changed: true };
}

/** Write CONF_DIR/weft-NET.conflist; unchanged when it holds the same text. */
export async function installConflist(confDir: string, o: ConflistOptions): Promise<InstallResult> {
  await ensureDir(confDir, 'CNI config dir');
  const target = join(confDir, conflistFileName(o.network));
  const text = `${JSON.stringify(renderConflist(o), null, 2)}\n`;
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === text) return { path: target, changed: false };
  await replaceFile(target, (temp) => writeFile(temp, text), 0o644);
  return { path: target, changed: true };
}
