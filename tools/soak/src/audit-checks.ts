import { createHash } from 'node:crypto';
import { canonicalBytes, SUMMARY_WINDOW_MS, type ChainedAuditRecord } from '@signer/core';
import { groupBy, row, type CheckInput, type CheckRow } from './check-input';
import type { Exchange } from './ledger';

/** How far a summary's span is widened when looking for an unanswered request it may have counted. */
const SPAN_SLACK_MS = 1000;

const isSummary = (record: ChainedAuditRecord) => record.outcome === 'summary';

/** Every 200 against the trail, the bundles, orphan records and the hash chain. */
export function auditRows(input: CheckInput, signed: Exchange[]): CheckRow[] {
  const byCorrelation = groupBy(input.audit, (record) => record.correlationId);
  const ids = new Set(input.exchanges.map((e) => e.id));
  let missing = 0;
  let duplicated = 0;
  let mismatched = 0;
  for (const e of signed) {
    const records = byCorrelation.get(e.id) ?? [];
    if (records.length === 0) missing += 1;
    else if (records.length > 1) duplicated += 1;
    else {
      const [record] = records;
      const bundle = e.response?.['bundle'];
      const matches =
        record.outcome === 'signed' &&
        (record.replayOf !== undefined
          ? record.replayOf === e.auditId
          : record.auditId === e.auditId &&
            record.bundleSha256 === createHash('sha256').update(canonicalBytes(bundle)).digest('hex'));
      if (!matches) mismatched += 1;
    }
  }
  // A summary record stands for many anonymous requests and names none (checked below).
  const summaries = input.audit.filter(isSummary).length;
  const unknown = input.audit.filter((record) => !isSummary(record) && !ids.has(record.correlationId));
  const orphans = unknown.length;
  const orphanSample = [...new Set(unknown.map((r) => `${r.route} ${r.outcome}`))].slice(0, 3).join('; ');
  const failed = [...input.verification.values()];
  return [
    row(
      'every 200 has exactly one audit record (same auditId, bundle hash)',
      `${signed.length} of ${signed.length}`,
      `${signed.length - missing - duplicated - mismatched} matched; ${missing} missing, ${duplicated} duplicated, ${mismatched} mismatched`,
      signed.length > 0 && missing + duplicated + mismatched === 0,
    ),
    row(
      "every 200's bundle verifies (node:crypto, @sigstore/verify, Fulcio chain)",
      `${signed.length} verified`,
      `${signed.length - failed.length} verified${failed.length ? `; failures: ${[...new Set(failed)].slice(0, 3).join('; ')}` : ''}`,
      signed.length > 0 && failed.length === 0,
    ),
    row(
      'no audit record lacks its request',
      '0 of the records',
      `${orphans} of ${input.audit.length - summaries} records (and ${summaries} summary records)${orphans ? ` (${orphanSample})` : ''}`,
      orphans === 0,
    ),
    row(
      'audit chain verifies (PostgreSQL, seq and hashes)',
      `intact, ${input.audit.length} records`,
      input.chain.ok ? `intact, ${input.chain.count} records` : `broken: ${input.chain.reason}`,
      input.chain.ok && input.chain.count === input.audit.length,
    ),
  ];
}

/**
 * Whether the record an answer names may be missing for a documented reason: it was answered
 * while the audit store was down (the refusal stands, its record could not be written; a summary
 * begun up to a second before is written after), or by a replica killed before the summary
 * record it was counted into was due.
 */
export function unrecordable(e: Exchange, input: CheckInput): boolean {
  return input.windows.some((w) => {
    if (w.upstream === 'postgres')
      return e.start < w.end + input.recoveryBoundMs && e.end >= w.injectAt - SUMMARY_WINDOW_MS - 500;
    if (w.upstream === 'replica')
      return e.replica === w.victim && e.end >= w.injectAt - SUMMARY_WINDOW_MS - 500 && e.start < w.start;
    return false;
  });
}

/** The answer an exchange got, as an audit outcome. */
const outcomeOf = (e: Exchange) => (e.status === 200 ? 'signed' : e.code);

/**
 * Every auditId an answer carried is in the trail: a record of that request's own decision (or,
 * for an idempotent replay, of the first request of its operation) with the answer's outcome,
 * named by no other request — or a summary record, which several anonymous refusals past the
 * per-second budget share.
 */
export function auditIdRow(input: CheckInput): CheckRow {
  const records = new Map(input.audit.map((record) => [record.auditId, record]));
  const opOf = new Map(input.exchanges.map((e) => [e.id, e.op]));
  const carried = groupBy(
    input.exchanges.filter((e) => e.auditId !== undefined),
    (e) => e.auditId as string,
  );
  const count = {
    answers: 0,
    own: 0,
    summarised: 0,
    summaries: 0,
    excused: 0,
    missing: 0,
    shared: 0,
    wrong: 0,
  };
  const samples = new Set<string>();
  for (const [id, answers] of carried) {
    count.answers += answers.length;
    const record = records.get(id);
    if (!record) {
      const excused = answers.filter((e) => unrecordable(e, input)).length;
      count.excused += excused;
      count.missing += answers.length - excused;
      if (answers.length > excused) samples.add(`missing: ${answers[0].kind} ${outcomeOf(answers[0])}`);
    } else if (isSummary(record)) {
      count.summarised += answers.length;
      count.summaries += 1;
    } else if (new Set(answers.map((e) => e.op)).size > 1) {
      count.shared += answers.length;
      samples.add(`shared: ${answers.map((e) => e.kind).join(', ')}`);
    } else {
      for (const e of answers) {
        if (opOf.get(record.correlationId) === e.op && record.outcome === outcomeOf(e)) count.own += 1;
        else {
          count.wrong += 1;
          samples.add(`${e.kind} ${outcomeOf(e)} names a record of ${record.route} ${record.outcome}`);
        }
      }
    }
  }
  const sample = samples.size ? ` (${[...samples].slice(0, 3).join('; ')})` : '';
  return row(
    "every auditId answered is in the trail: the request's own record (unique), or a summary's",
    `${count.answers} of ${count.answers} answers`,
    `${count.own} own, ${count.summarised} via ${count.summaries} summaries, ${count.excused} excused (audit store down, replica killed); ` +
      `${count.missing} missing, ${count.shared} shared by requests, ${count.wrong} on another request or outcome${sample}`,
    count.answers > 0 && count.missing + count.shared + count.wrong === 0,
  );
}

/**
 * Each summary record counts exactly the refusals whose answers carried its id, by code — checked
 * where the soak saw every answer: no request to that replica went unanswered during its span.
 */
export function summaryRow(input: CheckInput): CheckRow {
  const summaries = input.audit.filter(isSummary);
  const carried = groupBy(
    input.exchanges.filter((e) => e.auditId !== undefined),
    (e) => e.auditId as string,
  );
  const unanswered = input.exchanges.filter((e) => e.status === 0);
  let matched = 0;
  let unknowable = 0;
  const mismatches: string[] = [];
  for (const record of summaries) {
    const answers = carried.get(record.auditId) ?? [];
    const replicas = new Set(answers.map((e) => e.replica));
    const from = Date.parse(record.time) - SPAN_SLACK_MS;
    const to = Date.parse(record.summary?.until ?? record.time) + SPAN_SLACK_MS;
    const blind = unanswered.some((e) => replicas.has(e.replica) && e.start <= to && e.end >= from);
    if (answers.length === 0 || (replicas.size === 1 && blind)) {
      unknowable += 1;
      continue;
    }
    const byCode: Record<string, number> = {};
    for (const e of answers) byCode[e.code ?? '-'] = (byCode[e.code ?? '-'] ?? 0) + 1;
    const stated = record.summary?.outcomes ?? {};
    const sameCodes =
      Object.keys(byCode).length === Object.keys(stated).length &&
      Object.entries(byCode).every(([code, n]) => stated[code as keyof typeof stated] === n);
    if (replicas.size === 1 && record.summary?.refusals === answers.length && sameCodes) matched += 1;
    else
      mismatches.push(
        `${record.summary?.refusals ?? '?'} counted, ${answers.length} answered on ${[...replicas].join('+')}`,
      );
  }
  return row(
    "every summary record's refusals equal the answers that carried its id (by code)",
    'each summary whose span the soak saw whole',
    `${matched} of ${summaries.length} match; ${unknowable} overlapped an unanswered request; ${mismatches.length} mismatched` +
      (mismatches.length ? ` (${mismatches.slice(0, 3).join('; ')})` : ''),
    matched > 0 && mismatches.length === 0,
  );
}
