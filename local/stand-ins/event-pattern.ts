/**
 * EventBridge event patterns, for the local bus stand-in and the local stream
 * runner (Lambda's event filtering uses the same syntax).
 *
 * Implements what the stack's own rules and filters use, and the common
 * operators a team may put in `qualityReviewProps.detailPattern`, following
 * the EventBridge User Guide ("Creating event patterns", "Comparison operators
 * for use in event patterns", "Matching events on null values and empty
 * strings", "Matching on multiple values of an event field"):
 *
 * - fields are ANDed, the values of a field's array are ORed;
 * - a pattern object descends into the event's object (an array of objects
 *   matches when any element does);
 * - a leaf matches when the event's value, or any element of an array value,
 *   equals a listed string, number, boolean or null (null and "" differ);
 * - operators: `prefix`, `suffix`, `equals-ignore-case`, `anything-but`
 *   (a value, a list, or `{ prefix | suffix }`), `numeric` (one or two
 *   comparisons), `exists`.
 *
 * Left out, and refused when a pattern is compiled (so `npm start` fails
 * loudly instead of routing differently from AWS): `wildcard`, `cidr`, `$or`,
 * and the ignore-case forms of prefix/suffix/anything-but.
 */

export class UnsupportedPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Matcher = (value: Json | undefined, present: boolean) => boolean;
export type EventPattern = Record<string, unknown>;
export type CompiledPattern = (event: unknown) => boolean;

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarEquals(value: Json | undefined, expected: unknown): boolean {
  if (expected === null) return value === null;
  if (typeof expected === 'number') return typeof value === 'number' && value === expected;
  return value === expected;
}

/** A leaf condition against one scalar of the event. */
function compileCondition(condition: unknown, path: string): { readonly test: (value: Json | undefined) => boolean; readonly exists?: boolean } {
  if (!isObject(condition)) {
    if (Array.isArray(condition)) throw new UnsupportedPatternError(`${path}: a nested array is not a valid match value`);
    return { test: (value) => scalarEquals(value, condition) };
  }
  const keys = Object.keys(condition);
  if (keys.length !== 1) throw new UnsupportedPatternError(`${path}: an operator object holds exactly one operator (got ${keys.join(', ') || 'none'})`);
  const [operator] = keys;
  const argument = condition[operator];
  switch (operator) {
    case 'prefix':
      if (typeof argument !== 'string') throw new UnsupportedPatternError(`${path}: only a string prefix is supported`);
      return { test: (value) => typeof value === 'string' && value.startsWith(argument) };
    case 'suffix':
      if (typeof argument !== 'string') throw new UnsupportedPatternError(`${path}: only a string suffix is supported`);
      return { test: (value) => typeof value === 'string' && value.endsWith(argument) };
    case 'equals-ignore-case':
      if (typeof argument !== 'string') throw new UnsupportedPatternError(`${path}: equals-ignore-case takes a string`);
      return { test: (value) => typeof value === 'string' && value.toLowerCase() === argument.toLowerCase() };
    case 'exists':
      if (typeof argument !== 'boolean') throw new UnsupportedPatternError(`${path}: exists takes true or false`);
      return { test: () => true, exists: argument };
    case 'numeric':
      return { test: compileNumeric(argument, path) };
    case 'anything-but':
      return { test: compileAnythingBut(argument, path) };
    default:
      throw new UnsupportedPatternError(`${path}: operator "${operator}" is not implemented by the local stand-in`);
  }
}

function compileNumeric(argument: unknown, path: string): (value: Json | undefined) => boolean {
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw new UnsupportedPatternError(`${path}: numeric takes one or two (operator, number) pairs`);
  }
  const comparisons: Array<[string, number]> = [];
  for (let index = 0; index < argument.length; index += 2) {
    const [operator, bound] = [argument[index], argument[index + 1]];
    // EventBridge limits numeric matching to ±1.0e9 and refuses a rule outside it.
    if (typeof operator !== 'string' || !NUMERIC_OPERATORS.has(operator) || typeof bound !== 'number' || Math.abs(bound) > 1e9) {
      throw new UnsupportedPatternError(`${path}: numeric pair ${JSON.stringify([operator, bound])} is not valid`);
    }
    comparisons.push([operator, bound]);
  }
  return (value) =>
    typeof value === 'number' &&
    comparisons.every(([operator, bound]) => {
      switch (operator) {
        case '=':
          return value === bound;
        case '<':
          return value < bound;
        case '<=':
          return value <= bound;
        case '>':
          return value > bound;
        default:
          return value >= bound;
      }
    });
}

function compileAnythingBut(argument: unknown, path: string): (value: Json | undefined) => boolean {
  if (isObject(argument)) {
    const keys = Object.keys(argument);
    const [operator] = keys;
    const text = argument[operator];
    if (keys.length !== 1 || typeof text !== 'string' || (operator !== 'prefix' && operator !== 'suffix')) {
      throw new UnsupportedPatternError(`${path}: anything-but supports a value, a list, { prefix } or { suffix } here`);
    }
    return operator === 'prefix'
      ? (value) => typeof value === 'string' && !value.startsWith(text)
      : (value) => typeof value === 'string' && !value.endsWith(text);
  }
  const excluded = Array.isArray(argument) ? argument : [argument];
  for (const each of excluded) {
    if (typeof each !== 'string' && typeof each !== 'number') throw new UnsupportedPatternError(`${path}: anything-but lists strings or numbers`);
  }
  // A value of another type than the excluded ones still "is anything but" them.
  return (value) => value !== undefined && !excluded.some((each) => scalarEquals(value, each));
}

function compileLeaf(conditions: unknown[], path: string): Matcher {
  const compiled = conditions.map((condition, index) => compileCondition(condition, `${path}[${index}]`));
  return (value, present) => {
    for (const condition of compiled) {
      if (condition.exists !== undefined) {
        // exists applies to leaves: a field holding an object is not one.
        const leafPresent = present && !isObject(value);
        if (condition.exists === leafPresent) return true;
        continue;
      }
      if (!present) continue;
      const candidates = Array.isArray(value) ? value : [value];
      if (candidates.some((candidate) => condition.test(candidate))) return true;
    }
    return false;
  };
}

function compileObject(pattern: Record<string, unknown>, path: string): (event: Json | undefined) => boolean {
  const fields = Object.entries(pattern).map(([key, sub]): [string, Matcher] => {
    const where = path === '' ? key : `${path}.${key}`;
    if (key.startsWith('$')) throw new UnsupportedPatternError(`${where}: "${key}" is not implemented by the local stand-in`);
    if (Array.isArray(sub)) {
      if (sub.length === 0) throw new UnsupportedPatternError(`${where}: an empty match list matches nothing; EventBridge refuses it`);
      return [key, compileLeaf(sub, where)];
    }
    if (isObject(sub)) {
      const inner = compileObject(sub, where);
      return [key, (value) => (Array.isArray(value) ? value.some((element) => inner(element)) : inner(value))];
    }
    throw new UnsupportedPatternError(`${where}: a pattern value must be an array or an object`);
  });
  return (event) => {
    const record = isObject(event) ? (event as Record<string, Json>) : {};
    return fields.every(([key, matcher]) => matcher(record[key], Object.prototype.hasOwnProperty.call(record, key)));
  };
}

/** Compiles a pattern once; throws `UnsupportedPatternError` for what the stand-in does not implement. */
export function compilePattern(pattern: unknown): CompiledPattern {
  if (!isObject(pattern) || Object.keys(pattern).length === 0) throw new UnsupportedPatternError('an event pattern is a non-empty JSON object');
  const compiled = compileObject(pattern, '');
  return (event) => compiled(event as Json);
}

export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}
