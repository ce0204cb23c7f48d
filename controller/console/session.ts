// The admin token for this tab: sessionStorage only (gone when the tab
// closes, not shared with other tabs, never put in a URL where it would land
// in history, logs and Referer headers).

const KEY = 'weft.adminToken';

export const session = {
  token(): string | undefined {
    try {
      return sessionStorage.getItem(KEY) ?? undefined;
    } catch {
      return undefined; // storage disabled: the user logs in again
    }
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // nothing stored, nothing to clear
    }
  },
};
