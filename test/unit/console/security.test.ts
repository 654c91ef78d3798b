/** The console's gate: token, cookie, Host, Origin, CSRF and content type, one rule per test. */
import fc from 'fast-check';
import {
  CSRF_FIELD,
  SECURITY_HEADERS,
  TOKEN_COOKIE,
  checkRequest,
  constantTimeEquals,
  csrfMatches,
  csrfValue,
  newToken,
  parseCookies,
  tokenCookie,
  type RequestFacts,
} from '../../../ops/console/security';

const TOKEN = newToken();
const PORT = 4321;
const HOST = `127.0.0.1:${PORT}`;

function get(facts: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'GET', host: HOST, ...facts };
}

function post(facts: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'POST', host: HOST, cookie: `${TOKEN_COOKIE}=${TOKEN}`, origin: `http://${HOST}`, contentType: 'application/x-www-form-urlencoded', ...facts };
}

describe('the console gate', () => {
  describe('the token', () => {
    it('refuses a request without it with 401', () => {
      expect(checkRequest(get(), TOKEN, PORT)).toMatchObject({ allowed: false, status: 401 });
      expect(checkRequest(get({ queryToken: '' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 401 });
    });

    it('refuses a wrong one with 403, in the URL or in the cookie', () => {
      expect(checkRequest(get({ queryToken: newToken() }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
      expect(checkRequest(get({ cookie: `${TOKEN_COOKIE}=${newToken()}` }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
    });

    it('lets the printed link in and asks for the cookie to be set', () => {
      expect(checkRequest(get({ queryToken: TOKEN }), TOKEN, PORT)).toEqual({ allowed: true, setCookie: true });
    });

    it('lets the cookie alone in, without setting it again', () => {
      expect(checkRequest(get({ cookie: `other=1; ${TOKEN_COOKIE}=${TOKEN}` }), TOKEN, PORT)).toEqual({ allowed: true, setCookie: false });
    });

    it('is 256 random bits, URL- and cookie-safe, new each run', () => {
      const tokens = new Set(Array.from({ length: 50 }, () => newToken()));
      expect(tokens.size).toBe(50);
      for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('sets an HttpOnly, SameSite=Strict session cookie for the whole console', () => {
      expect(tokenCookie(TOKEN)).toBe(`${TOKEN_COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`);
    });
  });

  describe('the Host header (DNS rebinding)', () => {
    it('refuses another name for 127.0.0.1 with 403, even with the right token', () => {
      expect(checkRequest(get({ host: `attacker.example:${PORT}`, queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
      expect(checkRequest(get({ host: '127.0.0.1:9999', queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
      expect(checkRequest(get({ host: undefined, queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
    });

    it('accepts 127.0.0.1 and localhost with the console\'s port', () => {
      expect(checkRequest(get({ host: `localhost:${PORT}`, queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: true });
      expect(checkRequest(get({ host: `LOCALHOST:${PORT}`, queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: true });
    });
  });

  describe('state-changing requests', () => {
    it('accepts a form POST from the console\'s own pages', () => {
      expect(checkRequest(post(), TOKEN, PORT)).toMatchObject({ allowed: true });
      expect(checkRequest(post({ contentType: 'application/x-www-form-urlencoded; charset=UTF-8' }), TOKEN, PORT)).toMatchObject({ allowed: true });
    });

    it('refuses a POST from another origin, or from an opaque one (Origin: null)', () => {
      expect(checkRequest(post({ origin: 'http://attacker.example' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
      expect(checkRequest(post({ origin: 'null' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
    });

    it('refuses a POST whose browser says it is cross-site when it sends no Origin', () => {
      expect(checkRequest(post({ origin: undefined, secFetchSite: 'cross-site' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 403 });
      expect(checkRequest(post({ origin: undefined, secFetchSite: 'same-origin' }), TOKEN, PORT)).toMatchObject({ allowed: true });
    });

    it('refuses anything but a form with 415', () => {
      expect(checkRequest(post({ contentType: 'application/json' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 415 });
      expect(checkRequest(post({ contentType: 'text/plain' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 415 });
      expect(checkRequest(post({ contentType: undefined }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 415 });
    });

    it('refuses other methods with 405', () => {
      expect(checkRequest(get({ method: 'DELETE', queryToken: TOKEN }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 405 });
    });

    it('checks the token before the origin: a foreign page without it learns nothing', () => {
      expect(checkRequest(post({ cookie: undefined, origin: 'http://attacker.example' }), TOKEN, PORT)).toMatchObject({ allowed: false, status: 401 });
    });

    it('needs the CSRF field derived from this run\'s token', () => {
      expect(csrfMatches(new URLSearchParams({ [CSRF_FIELD]: csrfValue(TOKEN) }), TOKEN)).toBe(true);
      expect(csrfMatches(new URLSearchParams({ [CSRF_FIELD]: csrfValue(newToken()) }), TOKEN)).toBe(false);
      expect(csrfMatches(new URLSearchParams({ [CSRF_FIELD]: TOKEN }), TOKEN)).toBe(false);
      expect(csrfMatches(new URLSearchParams(), TOKEN)).toBe(false);
    });
  });

  describe('helpers', () => {
    it('compares in constant time and says false for any other string, of any length', () => {
      fc.assert(fc.property(fc.string(), (other) => constantTimeEquals(other, TOKEN) === (other === TOKEN)));
      expect(constantTimeEquals(TOKEN, TOKEN)).toBe(true);
    });

    it('parses cookies, keeping the first of a repeated name', () => {
      expect(parseCookies('a=1; b = 2; a=3; junk')).toEqual(new Map([['a', '1'], ['b', '2']]));
      expect(parseCookies(undefined).size).toBe(0);
    });

    it('forbids framing, sniffing, caching and every script or style but the console\'s own', () => {
      expect(SECURITY_HEADERS['x-frame-options']).toBe('DENY');
      expect(SECURITY_HEADERS['x-content-type-options']).toBe('nosniff');
      expect(SECURITY_HEADERS['cache-control']).toBe('no-store');
      expect(SECURITY_HEADERS['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'.*style-src 'self'.*frame-ancestors 'none'/);
      expect(SECURITY_HEADERS['content-security-policy']).not.toMatch(/unsafe/);
    });
  });
});
