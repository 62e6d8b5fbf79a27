import ts from 'typescript';

/**
 * One field of a wire body, by path (`bundle.dsse.signatures[].sig`), as either side describes it:
 * the client's hand-written TypeScript types, or the JSON Schema in the served OpenAPI document.
 * `open` is an object the client treats as opaque (`Record<string, …>`): not compared below it.
 */
export interface Field {
  kind: 'string' | 'number' | 'boolean' | 'object' | 'open' | 'array' | 'enum' | 'unknown';
  values?: string[];
  required: boolean;
  nullable: boolean;
}

export type Fields = Map<string, Field>;

type Schema = Record<string, unknown>;

/** Walks a JSON Schema (with `$ref`s into `document`) into fields. */
export function schemaFields(document: Schema, schema: Schema): Fields {
  const fields: Fields = new Map();
  const resolve = (node: Schema): Schema => {
    const ref = node['$ref'];
    if (typeof ref !== 'string') return node;
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((at, part) => (at as Schema)[part], document);
    return resolve(target as Schema);
  };
  const walk = (raw: Schema, path: string, required: boolean): void => {
    let node = resolve(raw);
    let nullable = false;
    const anyOf = node['anyOf'] as Schema[] | undefined;
    if (anyOf) {
      const members = anyOf.map(resolve).filter((member) => member['type'] !== 'null');
      nullable = members.length < anyOf.length;
      if (members.every((member) => 'const' in member)) {
        fields.set(path, {
          kind: 'enum',
          values: members.map((m) => String(m['const'])),
          required,
          nullable,
        });
        return;
      }
      if (members.length !== 1) throw new Error(`${path}: anyOf of ${members.length} shapes is not handled`);
      node = members[0];
    }
    const at = (kind: Field['kind'], values?: string[]) =>
      fields.set(path, { kind, values, required, nullable });
    if ('const' in node) return void at('enum', [String(node['const'])]);
    if (Array.isArray(node['enum'])) return void at('enum', (node['enum'] as unknown[]).map(String));
    switch (node['type']) {
      case 'string':
      case 'boolean':
        return void at(node['type']);
      case 'integer':
      case 'number':
        return void at('number');
      case 'array':
        at('array');
        return walk(node['items'] as Schema, `${path}[]`, true);
      case 'object': {
        const properties = (node['properties'] ?? {}) as Record<string, Schema>;
        if (Object.keys(properties).length === 0) return void at('open');
        at('object');
        const names = new Set((node['required'] ?? []) as string[]);
        for (const [name, child] of Object.entries(properties))
          walk(child, join(path, name), names.has(name));
        return;
      }
      default:
        throw new Error(`${path}: schema type ${JSON.stringify(node['type'])} is not handled`);
    }
  };
  walk(schema, '', true);
  return fields;
}

/** Walks a TypeScript type into fields; a union of object types merges its members' fields. */
export function typeFields(checker: ts.TypeChecker, type: ts.Type): Fields {
  const fields: Fields = new Map();
  // The members of a union (`poe`) describe one field together: its values and requiredness merge.
  const put = (path: string, field: Field) => {
    const known = fields.get(path);
    if (!known) return void fields.set(path, field);
    fields.set(path, {
      kind: known.kind === field.kind ? known.kind : 'unknown',
      values: known.values && field.values ? [...new Set([...known.values, ...field.values])] : undefined,
      required: known.required && field.required,
      nullable: known.nullable || field.nullable,
    });
  };
  const walk = (whole: ts.Type, path: string, required: boolean): void => {
    const members = whole.isUnion() ? whole.types : [whole];
    const nullable = members.some((member) => member.flags & ts.TypeFlags.Null);
    const rest = members.filter((member) => !(member.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
    const at = (kind: Field['kind'], values?: string[]) => put(path, { kind, values, required, nullable });
    if (rest.every((member) => member.isStringLiteral()))
      return void at(
        'enum',
        rest.map((member) => (member as ts.StringLiteralType).value),
      );
    if (rest.every((member) => member.flags & ts.TypeFlags.BooleanLike)) return void at('boolean');
    if (rest.length === 1 && rest[0].flags & ts.TypeFlags.String) return void at('string');
    if (rest.length === 1 && rest[0].flags & ts.TypeFlags.Number) return void at('number');
    if (rest.length === 1 && rest[0].flags & ts.TypeFlags.Unknown) return void at('unknown');
    if (rest.length === 1 && checker.isArrayType(rest[0])) {
      at('array');
      return walk(checker.getTypeArguments(rest[0] as ts.TypeReference)[0], `${path}[]`, true);
    }
    if (rest.every((member) => member.flags & ts.TypeFlags.Object)) {
      if (rest.some((member) => checker.getIndexInfosOfType(member).length > 0)) return void at('open');
      at('object');
      const names = new Set(rest.flatMap((member) => member.getProperties().map((p) => p.name)));
      for (const name of names) {
        const symbols = rest.map((member) => member.getProperty(name));
        const inAll = symbols.every((symbol) => symbol && !(symbol.flags & ts.SymbolFlags.Optional));
        for (const symbol of symbols)
          if (symbol) walk(checker.getTypeOfSymbol(symbol), join(path, name), Boolean(inAll));
      }
      return;
    }
    throw new Error(`${path}: type ${checker.typeToString(whole)} is not handled`);
  };
  walk(type, '', true);
  return fields;
}

/**
 * Where the client's fields differ from the server's. A request may not send what the server does
 * not accept, and must send what it requires; a response type may not require what the server
 * does not always send. Both sides name the same fields; a client `string` may read a server enum.
 */
export function drift(client: Fields, server: Fields, direction: 'request' | 'response'): string[] {
  const found: string[] = [];
  const under = (path: string, open: Set<string>) =>
    [...open].some((prefix) => path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[]`));
  const opaque = new Set([...client].filter(([, field]) => field.kind === 'open').map(([path]) => path));
  for (const path of new Set([...client.keys(), ...server.keys()])) {
    if (under(path, opaque)) continue;
    const ours = client.get(path);
    const theirs = server.get(path);
    if (!ours) found.push(`${path || '(body)'}: served, missing in the client`);
    else if (!theirs) found.push(`${path}: in the client, not served`);
    else found.push(...differences(path || '(body)', ours, theirs, direction));
  }
  return found;
}

function differences(path: string, ours: Field, theirs: Field, direction: 'request' | 'response'): string[] {
  const found: string[] = [];
  const readsEnumAsString = direction === 'response' && ours.kind === 'string' && theirs.kind === 'enum';
  const opaqueObject = ours.kind === 'open' && (theirs.kind === 'object' || theirs.kind === 'open');
  if (ours.kind !== theirs.kind && !readsEnumAsString && !opaqueObject)
    found.push(`${path}: client ${ours.kind}, served ${theirs.kind}`);
  if (ours.kind === 'enum' && theirs.kind === 'enum') {
    const a = [...(ours.values ?? [])].sort().join('|');
    const b = [...(theirs.values ?? [])].sort().join('|');
    if (a !== b) found.push(`${path}: client ${a}, served ${b}`);
  }
  if (ours.nullable !== theirs.nullable)
    found.push(`${path}: nullable ${ours.nullable} vs ${theirs.nullable}`);
  if (direction === 'request' && theirs.required && !ours.required)
    found.push(`${path}: required by the server, optional in the client`);
  if (direction === 'response' && ours.required && !theirs.required)
    found.push(`${path}: required by the client, not always served`);
  return found;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
