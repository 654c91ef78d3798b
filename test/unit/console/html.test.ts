/** Escaping by default, and the CLI commands the pages show. */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { cliCommand, escapeHtml, html, query, shellQuote, show } from '../../../ops/console/html';

describe('console HTML', () => {
  it('escapes every interpolated string: no markup from outside survives', () => {
    const unescape = (text: string): string =>
      text.replace(/&(lt|gt|quot|#39|amp);/g, (_entity, name: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[name] ?? '');
    fc.assert(
      fc.property(fc.string(), (text) => {
        const rendered = html`${text}`.value;
        return !/[<>"']/.test(rendered) && unescape(rendered) === text;
      }),
    );
    expect(html`${'<script>alert(1)</script>'}`.value).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('keeps nested html as markup, renders arrays and drops undefined, null and false', () => {
    const inner = html`<b>${'x & y'}</b>`;

    expect(html`<p>${inner}${[html`<i>1</i>`, '<2>']}${undefined}${null}${false}${0}</p>`.value).toBe('<p><b>x &amp; y</b><i>1</i>&lt;2&gt;0</p>');
  });

  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('builds query strings without empty parameters', () => {
    expect(query({ a: 'x y', b: '', c: undefined, d: false, e: 2, f: true })).toBe('?a=x+y&e=2&f=true');
    expect(query({})).toBe('');
  });

  it('shows strings as they are and other values as JSON', () => {
    expect(show('text')).toBe('text');
    expect(show({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(show(undefined)).toBe('');
  });

  it('quotes CLI arguments so the shell hands them over unchanged', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !text.includes('\0')), (argument) => {
        const echoed = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(argument)}`], { encoding: 'utf8' });
        return echoed.stdout === argument;
      }),
      { numRuns: 60 },
    );
    expect(shellQuote('job_8f3a')).toBe('job_8f3a');
    expect(cliCommand('replay', ['--job-id', "it's"])).toBe("npm run replay -- --job-id 'it'\\''s'");
    expect(cliCommand('redrive', [])).toBe('npm run redrive');
  });
});
