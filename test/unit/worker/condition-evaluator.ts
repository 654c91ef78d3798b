/**
 * A small evaluator for the subset of DynamoDB condition expressions the job
 * store writes (OR, AND, NOT, parentheses, comparators, IN, attribute_not_exists,
 * attribute_type, contains, size), following DynamoDB's rules: strings compare by
 * UTF-8 bytes, a comparison with a missing attribute or a value of another type
 * is false. It lets the unit tests check the expression against the pure model
 * on arbitrary items without a database.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Operand = AttributeValue | undefined;

interface Context {
  readonly item: Item;
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

const TOKEN = /\s*(<=|>=|<>|[()=<>,]|[#:][A-Za-z0-9_]+|[A-Za-z_]+)/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(expression);
    if (match === null) throw new Error(`cannot tokenize at ${TOKEN.lastIndex}: ${expression.slice(TOKEN.lastIndex)}`);
    tokens.push(match[1]);
  }
  return tokens;
}

function typeOf(value: AttributeValue): string {
  return Object.entries(value).find(([, member]) => member !== undefined)?.[0] ?? '';
}

function equal(a: Operand, b: Operand): boolean {
  if (a === undefined || b === undefined || typeOf(a) !== typeOf(b)) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function compare(a: Operand, b: Operand): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.S !== undefined && b.S !== undefined) return Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  if (a.N !== undefined && b.N !== undefined) return Math.sign(Number(a.N) - Number(b.N));
  return undefined;
}

export function evaluateCondition(expression: string, context: Context): boolean {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const expect = (token: string) => {
    const actual = next();
    if (actual !== token) throw new Error(`expected ${token}, got ${actual} in ${expression}`);
  };

  const operand = (): Operand => {
    const token = next();
    if (token === 'size') {
      // DynamoDB's size(): string and binary length, element count of sets, lists and maps.
      expect('(');
      const value = operand();
      expect(')');
      if (value === undefined) return undefined;
      const length = value.S?.length ?? value.L?.length ?? value.SS?.length ?? value.NS?.length ?? (value.M ? Object.keys(value.M).length : undefined);
      return length === undefined ? undefined : { N: String(length) };
    }
    if (token.startsWith('#')) {
      const name = context.names[token];
      if (name === undefined) throw new Error(`undefined name ${token}`);
      return context.item[name];
    }
    if (token.startsWith(':')) {
      const value = context.values[token];
      if (value === undefined) throw new Error(`undefined value ${token}`);
      return value;
    }
    throw new Error(`expected an operand, got ${token}`);
  };

  const call = (name: string): boolean => {
    expect('(');
    const first = operand();
    const args: Operand[] = [];
    while (peek() === ',') {
      next();
      args.push(operand());
    }
    expect(')');
    switch (name) {
      case 'attribute_not_exists':
        return first === undefined;
      case 'attribute_exists':
        return first !== undefined;
      case 'attribute_type':
        return first !== undefined && typeOf(first) === args[0]?.S;
      case 'contains': {
        const needle = args[0];
        if (first === undefined || needle === undefined) return false;
        if (first.SS !== undefined) return needle.S !== undefined && first.SS.includes(needle.S);
        if (first.S !== undefined) return needle.S !== undefined && first.S.includes(needle.S);
        if (first.L !== undefined) return first.L.some((element) => equal(element, needle));
        return false;
      }
      default:
        throw new Error(`unsupported function ${name}`);
    }
  };

  const primary = (): boolean => {
    const token = peek();
    if (token === '(') {
      next();
      const value = or();
      expect(')');
      return value;
    }
    if (/^[A-Za-z_]+$/.test(token) && token !== 'size' && tokens[position + 1] === '(') return call(next());
    const left = operand();
    const op = next();
    if (op === 'IN') {
      expect('(');
      const candidates = [operand()];
      while (peek() === ',') {
        next();
        candidates.push(operand());
      }
      expect(')');
      return candidates.some((candidate) => equal(left, candidate));
    }
    const right = operand();
    if (op === '=') return equal(left, right);
    if (op === '<>') return left !== undefined && right !== undefined && !equal(left, right);
    const order = compare(left, right);
    if (order === undefined) return false;
    switch (op) {
      case '<':
        return order < 0;
      case '<=':
        return order <= 0;
      case '>':
        return order > 0;
      case '>=':
        return order >= 0;
      default:
        throw new Error(`unsupported comparator ${op}`);
    }
  };

  const not = (): boolean => {
    if (peek() === 'NOT') {
      next();
      return !not();
    }
    return primary();
  };

  const and = (): boolean => {
    let value = not();
    while (peek() === 'AND') {
      next();
      value = not() && value;
    }
    return value;
  };

  const or = (): boolean => {
    let value = and();
    while (peek() === 'OR') {
      next();
      value = and() || value;
    }
    return value;
  };

  const result = or();
  if (position !== tokens.length) throw new Error(`unexpected ${peek()} in ${expression}`);
  return result;
}
