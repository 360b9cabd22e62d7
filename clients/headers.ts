/**
 * Header profiles. `minimal` is what a lean script sends; `browser` adds what
 * a real page pays on every request (user agent, accept lists, language,
 * referer, a session cookie), so the overhead figures can be read either way.
 */
import type { HeaderProfile } from './contract.ts';

const BROWSER: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: '*/*',
  'accept-language': 'en-US,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br, zstd',
  referer: 'http://127.0.0.1/app/',
  'sec-fetch-dest': 'empty',
  'sec-fetch-mode': 'cors',
  'sec-fetch-site': 'same-origin',
  cookie: 'session=3f9a1c2e7b5d4a60b8e1c9f2d7a4e6b1',
};

/** Extra request headers for a profile. */
export function profileHeaders(p: HeaderProfile | undefined): Record<string, string> {
  return p === 'browser' ? { ...BROWSER } : {};
}
