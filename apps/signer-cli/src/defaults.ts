export const DEFAULT_PREDICATE_TYPE = 'https://stella-ops.org/attestations/scan-report/1';
export const BUNDLE_SUFFIX = '.bundle.json';
