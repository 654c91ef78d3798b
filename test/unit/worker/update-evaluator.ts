/**
 * A small evaluator for the update expressions the job store writes (SET with
 * `if_not_exists` and `list_append`, REMOVE, ADD to a string set), following
 * DynamoDB's rules: `if_not_exists` keeps any present value (NULL included),
 * REMOVE of a missing attribute is a no-op, ADD to a missing set creates it.
 * Beside the condition evaluator, it lets the unit tests check a whole write
 * against the pure model without a database.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

interface Context {
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function clauses(expression: string): Record<'SET' | 'REMOVE' | 'ADD', string> {
  const result = { SET: '', REMOVE: '', ADD: '' };
  const pattern = /\b(SET|REMOVE|ADD)\b/g;
  const marks = [...expression.matchAll(pattern)].map((match) => ({ keyword: match[1] as keyof typeof result, index: match.index ?? 0 }));
  marks.forEach((mark, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].index : expression.length;
    result[mark.keyword] = expression.slice(mark.index + mark.keyword.length, end).trim();
  });
  return result;
}

function nameOf(token: string, context: Context): string {
  const name = context.names[token.trim()];
  if (name === undefined) throw new Error(`undefined name ${token}`);
  return name;
}

function valueOf(token: string, context: Context): AttributeValue {
  const value = context.values[token.trim()];
  if (value === undefined) throw new Error(`undefined value ${token}`);
  return value;
}

function operand(text: string, item: Item, context: Context): AttributeValue | undefined {
  const trimmed = text.trim();
  const call = /^([a-z_]+)\((.*)\)$/s.exec(trimmed);
  if (call) {
    const args = splitTopLevel(call[2]);
    if (call[1] === 'if_not_exists') return item[nameOf(args[0], context)] ?? operand(args[1], item, context);
    if (call[1] === 'list_append') {
      const [a, b] = args.map((arg) => operand(arg, item, context));
      if (a?.L === undefined || b?.L === undefined) throw new Error('list_append of a non-list');
      return { L: [...a.L, ...b.L] };
    }
    throw new Error(`unsupported function ${call[1]}`);
  }
  if (trimmed.startsWith('#')) return item[nameOf(trimmed, context)];
  return valueOf(trimmed, context);
}

/** The item after the update (the input is not changed). */
export function evaluateUpdate(expression: string, item: Item, context: Context): Item {
  const next: Item = { ...item };
  const { SET, REMOVE, ADD } = clauses(expression);
  // Every operand reads the item as it was before the update, as in DynamoDB.
  const assignments = SET === '' ? [] : splitTopLevel(SET).map((assignment) => {
    const [target, source] = assignment.split(/=(.*)/s);
    return [nameOf(target, context), operand(source, item, context)] as const;
  });
  for (const [name, value] of assignments) {
    if (value === undefined) throw new Error(`SET ${name} to a missing attribute`);
    next[name] = value;
  }
  for (const target of REMOVE === '' ? [] : splitTopLevel(REMOVE)) delete next[nameOf(target, context)];
  for (const addition of ADD === '' ? [] : splitTopLevel(ADD)) {
    const [target, valueToken] = addition.split(/\s+/);
    const name = nameOf(target, context);
    const value = valueOf(valueToken, context);
    if (value.SS === undefined) throw new Error('ADD supports string sets only here');
    const existing = next[name]?.SS ?? [];
    next[name] = { SS: [...new Set([...existing, ...value.SS])] };
  }
  return next;
}
