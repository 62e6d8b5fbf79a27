import type { ErrorObject } from 'ajv';

/** The JSON-schema subset the configuration schema uses (TypeBox output). */
interface Schema {
  type?: string;
  default?: unknown;
  const?: unknown;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  minProperties?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  patternProperties?: Record<string, Schema>;
}

const entries = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;

function numberForm(schema: Schema): string {
  const kind = schema.type === 'integer' ? 'an integer' : 'a number';
  const { minimum, maximum, exclusiveMinimum } = schema;
  if (minimum !== undefined && maximum !== undefined) return `${kind} from ${minimum} to ${maximum}`;
  if (exclusiveMinimum !== undefined) return `${kind} greater than ${exclusiveMinimum}`;
  if (minimum !== undefined) return `${kind} of at least ${minimum}`;
  if (maximum !== undefined) return `${kind} of at most ${maximum}`;
  return kind;
}

function stringForm(schema: Schema): string {
  if (schema.pattern !== undefined) return `a string matching ${schema.pattern}`;
  const { minLength, maxLength } = schema;
  const base = minLength !== undefined && minLength > 0 ? 'a non-empty string' : 'a string';
  return maxLength === undefined ? base : `${base} of at most ${maxLength} characters`;
}

/** The expected form of a value, in words, from its schema alone (never from the value given). */
export function expectedForm(schema: Schema): string {
  if (schema.anyOf) {
    if (schema.anyOf.every((branch) => 'const' in branch)) {
      return `one of ${schema.anyOf.map((branch) => JSON.stringify(branch.const)).join(', ')}`;
    }
    return schema.anyOf.map(expectedForm).join(', or ');
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  switch (schema.type) {
    case 'integer':
    case 'number':
      return numberForm(schema);
    case 'string':
      return stringForm(schema);
    case 'boolean':
      return 'true or false';
    case 'array': {
      const least = schema.minItems ? ` of at least ${entries(schema.minItems)}` : '';
      return `a list${least}${schema.items ? ` (each ${expectedForm(schema.items)})` : ''}`;
    }
    case 'object': {
      // Keys with a default are "required" in the schema only so that Ajv fills them in.
      const required = (schema.required ?? []).filter(
        (key) => schema.properties?.[key]?.default === undefined,
      );
      if (required.length > 0) return `a mapping with ${required.join(' and ')}`;
      if (schema.minProperties) return `a mapping with at least ${entries(schema.minProperties)}`;
      return 'a mapping';
    }
    default:
      return 'a valid value';
  }
}

/** `authority.allowedAlgorithms.1` → `['authority', 'allowedAlgorithms', '1']`. */
const segments = (instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));

/** One invalid key: its path (for the message and its position) and what was expected. */
export interface KeyProblem {
  path: string[];
  problem: string;
}

function describeOne(error: ErrorObject): KeyProblem {
  const path = segments(error.instancePath);
  const parent = (error.parentSchema ?? {}) as Schema;
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent.properties ?? {});
      const names = Object.keys(parent.patternProperties ?? {});
      const hint = known.length
        ? ` (known keys: ${known.join(', ')})`
        : names.length
          ? ` (expected a name matching ${names.join(' or ')})`
          : '';
      return { path: [...path, extra], problem: `unknown key${hint}` };
    }
    case 'required':
      return {
        path: [...path, (error.params as { missingProperty: string }).missingProperty],
        problem: 'required',
      };
    default:
      return { path, problem: `expected ${expectedForm(parent)}` };
  }
}

/**
 * Every invalid key once, naming the key and the allowed values or expected form. Ajv reports a
 * union's failure once per branch (`must be equal to constant`, …) and then `anyOf`: the branch
 * errors are dropped and the union is described whole. Needs Ajv's `verbose` (for `parentSchema`);
 * the offending value (`error.data`) is never read.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[]): KeyProblem[] {
  const unions = errors.filter((error) => error.keyword === 'anyOf').map((error) => `${error.schemaPath}/`);
  const seen = new Set<string>();
  const problems: KeyProblem[] = [];
  for (const error of errors) {
    if (unions.some((union) => error.schemaPath.startsWith(union))) continue;
    const described = describeOne(error);
    const key = `${described.path.join('.')}\u0000${described.problem}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(described);
  }
  return problems;
}
