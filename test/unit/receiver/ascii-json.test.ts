import fc from 'fast-check';
import { toAsciiJson } from '../../../lambda/core/ascii-json';

describe('toAsciiJson', () => {
  it('escapes every non-ASCII character, including emoji as surrogate pairs', () => {
    // Prepare
    const value = { note: 'café 背景 🎬', sep: '\u2028' };

    // Act
    const json = toAsciiJson(value);

    // Assess
    expect(json).toBe('{"note":"caf\\u00e9 \\u80cc\\u666f \\ud83c\\udfac","sep":"\\u2028"}');
    expect(/^[\x20-\x7e]*$/.test(json)).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
  ])('refuses %s, which has no JSON representation, with a clear error', (_name, value) => {
    expect(() => toAsciiJson(value)).toThrow(new TypeError('value has no JSON representation'));
  });

  it('leaves ASCII-only JSON byte-identical to JSON.stringify', () => {
    const value = { a: 1, b: ['x', null, true], c: 'quote " and \\ backslash\n' };
    expect(toAsciiJson(value)).toBe(JSON.stringify(value));
  });

  it('parses back to the same value for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = toAsciiJson(value);
        expect(/^[^\u0080-\uffff]*$/.test(json)).toBe(true);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
