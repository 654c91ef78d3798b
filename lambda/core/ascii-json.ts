/**
 * JSON with every non-ASCII UTF-16 code unit written as a `\uXXXX` escape.
 * The output is valid JSON that parses back to the same value; it exists because
 * the local SQS emulator rejects characters outside the Basic Multilingual Plane,
 * and escaped surrogate pairs are accepted everywhere. Being pure ASCII, its
 * string length is also its size in bytes.
 */
const NON_ASCII = /[\u0080-\uffff]/g;
// Stryker disable next-line Regex: it only decides whether to run the replace, which leaves ASCII-only JSON as it is (the saving is the bench's)
const ANY_NON_ASCII = /[\u0080-\uffff]/;

function escape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function toAsciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('value has no JSON representation');
  // Most messages are ASCII already: a search that stops at the first hit is cheaper than a global replace.
  return ANY_NON_ASCII.test(json) ? json.replace(NON_ASCII, escape) : json;
}
