import { SignerClient, type Ceremony, type CeremonyOperation, type CeremonyStatus } from '@signer/client';
import { parseCommand, stringOption, type ParsedCommand } from '../args';
import { BINDING_OPTIONS, callerBinding } from '../binding';
import { emit, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { targetUrl, URL_OPTION } from '../defaults';
import { readOptionFile } from '../files';

const CALLER = { ...URL_OPTION, ...BINDING_OPTIONS } as const;
const OPERATION_OPTIONS = {
  op: { type: 'string' },
  key: { type: 'string' },
  reason: { type: 'string' },
  ref: { type: 'string' },
  profile: { type: 'string' },
  'valid-from': { type: 'string' },
  'valid-until': { type: 'string' },
  plan: { type: 'string' },
  'public-key-file': { type: 'string' },
  label: { type: 'string' },
  'key-id': { type: 'string' },
} as const;

/** Which flags each operation takes (beyond --op); the Signer checks their values. */
const OPERATION_FLAGS: Readonly<
  Record<CeremonyOperation['kind'], { required: string[]; optional: string[] }>
> = {
  'key.register': { required: ['key', 'ref'], optional: ['profile', 'valid-from', 'valid-until'] },
  'key.activate': { required: ['key'], optional: [] },
  'key.retire': { required: ['key'], optional: [] },
  'key.revoke': { required: ['key', 'reason'], optional: [] },
  'key.set-default': { required: ['key'], optional: ['plan'] },
  'trust-anchor.add': { required: ['public-key-file'], optional: ['label'] },
  'trust-anchor.remove': { required: ['key-id'], optional: [] },
};
const STATUSES: readonly CeremonyStatus[] = [
  'pending',
  'approved',
  'rejected',
  'executed',
  'expired',
  'cancelled',
];
const STEPS = ['approve', 'reject', 'execute', 'cancel'] as const;

export const CEREMONY_USAGE = `signer ceremony <subcommand> --url URL --token-file FILE (--dpop-key JWK | --client-cert PEM --client-key PEM)
  create --op KIND [operation flags]   start a ceremony (scope signer.ceremony.initiate)
      key.register --key NAME --ref REF [--profile P] [--valid-from T] [--valid-until T]
      key.activate|key.retire --key NAME    key.revoke --key NAME --reason TEXT
      key.set-default --key NAME [--plan PLAN]
      trust-anchor.add --public-key-file PEM [--label TEXT]    trust-anchor.remove --key-id sha256:HEX
  list [--status S] [--limit N]        newest first
  get ID | approve ID | reject ID --reason TEXT | execute ID | cancel ID
`;

/** `ceremony …`: dual-control ceremonies (contract §11) on any deployment. */
export async function ceremony(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, io);
  if (sub === 'list') return list(rest, io);
  if (sub === 'get') return stepOn('get', rest, io);
  if ((STEPS as readonly string[]).includes(sub ?? ''))
    return stepOn(sub as (typeof STEPS)[number], rest, io);
  throw usageError(
    `ceremony: expected create, list, get, approve, reject, execute or cancel, got ${sub ?? 'nothing'}\n${CEREMONY_USAGE}`,
  );
}

async function client(command: string, parsed: ParsedCommand, io: CliIo): Promise<SignerClient> {
  const baseUrl = targetUrl(command, parsed, io);
  const binding = await callerBinding(command, parsed, io);
  return new SignerClient({
    baseUrl,
    accessToken: binding.token,
    dpopKey: binding.dpopKey,
    fetch: binding.fetch,
  });
}

function operationFrom(parsed: ParsedCommand, io: CliIo): CeremonyOperation {
  const kind = stringOption(parsed, 'op');
  if (kind === undefined || !(kind in OPERATION_FLAGS))
    throw usageError(
      `ceremony create: --op expected one of ${Object.keys(OPERATION_FLAGS).join(', ')}, got ${kind ?? 'none'}`,
    );
  const flags = OPERATION_FLAGS[kind as CeremonyOperation['kind']];
  for (const name of Object.keys(OPERATION_OPTIONS).filter((n) => n !== 'op')) {
    const given = stringOption(parsed, name) !== undefined;
    if (flags.required.includes(name) && !given)
      throw usageError(`ceremony create --op ${kind}: --${name} is required`);
    if (given && !flags.required.includes(name) && !flags.optional.includes(name))
      throw usageError(`ceremony create --op ${kind}: --${name} does not apply`);
  }
  const value = (name: string) => stringOption(parsed, name) as string;
  const optional = (field: string, name: string) =>
    stringOption(parsed, name) === undefined ? {} : { [field]: value(name) };
  switch (kind as CeremonyOperation['kind']) {
    case 'key.register':
      return {
        kind: 'key.register',
        name: value('key'),
        ref: value('ref'),
        ...optional('profile', 'profile'),
        ...optional('validFrom', 'valid-from'),
        ...optional('validUntil', 'valid-until'),
      };
    case 'key.revoke':
      return { kind: 'key.revoke', name: value('key'), reason: value('reason') };
    case 'key.set-default':
      return { kind: 'key.set-default', name: value('key'), ...optional('plan', 'plan') };
    case 'trust-anchor.add':
      return {
        kind: 'trust-anchor.add',
        publicKeyPem: readOptionFile(io, '--public-key-file', value('public-key-file')),
        ...optional('label', 'label'),
      };
    case 'trust-anchor.remove':
      return { kind: 'trust-anchor.remove', keyId: value('key-id') };
    default:
      return { kind: kind as 'key.activate' | 'key.retire', name: value('key') };
  }
}

/** One line per ceremony: id, status, approvals/threshold, operation and what it changes. */
function line(c: Ceremony): string {
  const op = c.operation;
  const target = 'name' in op ? op.name : 'keyId' in op ? op.keyId : (op.label ?? '');
  const extra = c.resultVersion !== undefined ? ` → state v${c.resultVersion}` : '';
  return `${c.id}\t${c.status}\t${c.approvals.length}/${c.threshold}\t${op.kind} ${target}${extra}\n`;
}

async function create(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('ceremony create', args, { ...CALLER, ...OPERATION_OPTIONS }, []);
  const operation = operationFrom(parsed, io);
  const created = await (await client('ceremony create', parsed, io)).createCeremony(operation);
  emit(io, line(created), created);
  return EXIT_OK;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    'ceremony list',
    args,
    { ...CALLER, status: { type: 'string' }, limit: { type: 'string' } },
    [],
  );
  const status = stringOption(parsed, 'status');
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
    throw usageError(`ceremony list: --status expected one of ${STATUSES.join(', ')}, got ${status}`);
  const limitText = stringOption(parsed, 'limit');
  if (limitText !== undefined && !/^(100|[1-9][0-9]?)$/.test(limitText))
    throw usageError(`ceremony list: --limit expected an integer from 1 to 100, got ${limitText}`);
  const answer = await (
    await client('ceremony list', parsed, io)
  ).listCeremonies({
    ...(status === undefined ? {} : { status: status as CeremonyStatus }),
    ...(limitText === undefined ? {} : { limit: Number(limitText) }),
  });
  emit(io, answer.ceremonies.map(line).join(''), answer);
  return EXIT_OK;
}

async function stepOn(step: 'get' | (typeof STEPS)[number], args: string[], io: CliIo): Promise<number> {
  const command = `ceremony ${step}`;
  const options = step === 'reject' ? { ...CALLER, reason: { type: 'string' as const } } : CALLER;
  const parsed = parseCommand(command, args, options, ['id']);
  const reason = stringOption(parsed, 'reason');
  if (step === 'reject' && (reason === undefined || reason.trim() === ''))
    throw usageError('ceremony reject: --reason is required');
  const signer = await client(command, parsed, io);
  const id = parsed.positionals[0];
  const answer = step === 'get' ? await signer.getCeremony(id) : await signer.ceremonyStep(id, step, reason);
  emit(io, line(answer), answer);
  return EXIT_OK;
}
