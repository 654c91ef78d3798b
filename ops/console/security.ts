/**
 * Who may talk to the console. It serves 127.0.0.1 only, yet any page open in
 * the operator's browser can send requests to 127.0.0.1, and a DNS-rebinding
 * page can even make them look same-origin. So:
 *
 * - every request carries the per-run token: in the URL (`?token=`, the printed
 *   link) or in the cookie the first answer sets (HttpOnly, SameSite=Strict,
 *   Path=/), compared in constant time; without it 401, with a wrong one 403;
 * - the Host header must name the console itself (127.0.0.1 or localhost and
 *   its port): a rebound name (evil.example → 127.0.0.1) is refused with 403
 *   before anything else, token or not;
 * - a state-changing request is a POST of a form that also carries a CSRF
 *   value derived from the token, from a page of the console's own origin
 *   (Origin, or Fetch Metadata's Sec-Fetch-Site, when the browser sends them);
 * - answers forbid framing, sniffing, referrers and caching, and a strict CSP
 *   allows only the console's own script and stylesheet.
 *
 * Pure: the server hands requests' facts in and writes the verdicts out.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'console_token';
export const CSRF_FIELD = 'csrf';
export const TOKEN_PARAMETER = 'token';

/** 256 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The form field value state-changing requests carry; derived, so the page never holds the token itself. */
export function csrfValue(token: string): string {
  return createHmac('sha256', token).update('console csrf v1').digest('base64url');
}

export function constantTimeEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Lengths differ: compare against itself so the time does not depend on where they differ.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** The cookie the first tokened answer sets. No Max-Age: it ends with the browser session, and the token with the run. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

/** Host names the console answers to: the loopback address it binds, and the name browsers give it. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

export function allowedOrigins(port: number): ReadonlySet<string> {
  return new Set([...allowedHosts(port)].map((host) => `http://${host}`));
}

export interface RequestFacts {
  readonly method: string;
  readonly host?: string;
  /** The `token` query parameter. */
  readonly queryToken?: string;
  readonly cookie?: string;
  readonly origin?: string;
  readonly secFetchSite?: string;
  readonly contentType?: string;
}

export type Verdict =
  | { readonly allowed: true; readonly setCookie: boolean }
  | { readonly allowed: false; readonly status: 401 | 403 | 405 | 415; readonly reason: string };

/**
 * The gate every request passes, before routing. `setCookie` asks the server
 * to set the token cookie (the token came in the URL).
 */
export function checkRequest(facts: RequestFacts, token: string, port: number): Verdict {
  if (facts.host === undefined || !allowedHosts(port).has(facts.host.toLowerCase())) {
    return { allowed: false, status: 403, reason: 'unexpected Host header (the console answers to 127.0.0.1 and localhost only)' };
  }
  const fromQuery = facts.queryToken;
  const fromCookie = parseCookies(facts.cookie).get(TOKEN_COOKIE);
  const given = fromQuery ?? fromCookie;
  if (given === undefined || given === '') return { allowed: false, status: 401, reason: 'no token: open the console: link it printed' };
  if (!constantTimeEquals(given, token)) return { allowed: false, status: 403, reason: 'wrong token (each run of the console has its own)' };
  if (facts.method !== 'GET' && facts.method !== 'HEAD' && facts.method !== 'POST') {
    return { allowed: false, status: 405, reason: 'method not allowed' };
  }
  if (facts.method === 'POST') {
    // Browsers send Origin on every POST; when they do not (old ones, or Fetch
    // Metadata only), Sec-Fetch-Site must say same-origin. A client sending
    // neither (curl) still needs the token and the CSRF field.
    if (facts.origin !== undefined && !allowedOrigins(port).has(facts.origin.toLowerCase())) {
      return { allowed: false, status: 403, reason: 'cross-origin POST refused' };
    }
    if (facts.origin === undefined && facts.secFetchSite !== undefined && facts.secFetchSite !== 'same-origin') {
      return { allowed: false, status: 403, reason: 'cross-site POST refused' };
    }
    const mediaType = facts.contentType?.split(';')[0].trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      return { allowed: false, status: 415, reason: 'POST a form (application/x-www-form-urlencoded)' };
    }
  }
  return { allowed: true, setCookie: fromQuery !== undefined && fromQuery !== fromCookie };
}

/** The form's CSRF field, checked after the body is read. */
export function csrfMatches(form: URLSearchParams, token: string): boolean {
  const given = form.get(CSRF_FIELD);
  return given !== null && constantTimeEquals(given, csrfValue(token));
}

/** Headers on every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The first URL carries the token: no other site may see it. Not `no-referrer`:
  // with it browsers send `Origin: null` on the console's own form posts.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
