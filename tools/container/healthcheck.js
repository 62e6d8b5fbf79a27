// Container HEALTHCHECK: GET $SIGNER_HEALTH_URL (default http://127.0.0.1:8080/healthz); exit 0
// on 200. Liveness only — readiness (/readyz) is the orchestrator's business.
const url = process.env.SIGNER_HEALTH_URL || 'http://127.0.0.1:8080/healthz';
const timeout = AbortSignal.timeout(2500);
fetch(url, { signal: timeout }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
