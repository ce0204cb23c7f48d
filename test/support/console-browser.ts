// Headless Chromium (Debian's, driven by playwright-core) inside a network
// namespace the test made: the browser reaches the lab's controller where it
// listens, and every packet it sends stays in that namespace (the lab has no
// route out, so a request to a CDN would fail, which is also the point).
//
// Playwright talks to Chromium over a pipe (fds 3 and 4), not the network,
// so the browser can be started through a tiny wrapper that enters the
// namespace first. Flags: shared/TESTING.md.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface NetnsBrowser {
  browser: Browser;
  /** Close the browser and remove the wrapper; safe to call twice. */
  close(): Promise<void>;
}

/** Start headless Chromium inside the namespace at `netnsPath` (/run/netns/NAME). */
export async function launchInNetns(netnsPath: string): Promise<NetnsBrowser> {
  if (!/^\/run\/netns\/[A-Za-z0-9_.-]+$/.test(netnsPath)) throw new Error(`not a named namespace path: ${netnsPath}`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-chromium-'));
  const wrapper = join(dir, 'chromium');
  // The path is checked above: nothing a shell could read as more than a word.
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${netnsPath} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  let browser: Browser;
  try {
    // headless: playwright adds --headless and a fresh --user-data-dir of its own.
    browser = await chromium.launch({ executablePath: wrapper, args: FLAGS, headless: true, timeout: 60_000 });
  } catch (e: unknown) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let closed = false;
  return {
    browser,
    close: async () => {
      if (closed) return;
      closed = true;
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
