import {
  CALLER_KEY_FILE,
  DEFAULT_PREDICATE_TYPE,
  DEFAULT_PROFILE_DIR,
  PROFILE_ENV,
  URL_ENV,
} from '../defaults';

// Plain text, no imports beyond constants: `signer --help` must start in well under 300 ms.
export const HELP = `signer — the Stella Ops Signer's CLI for callers and operators

Usage (any deployment; --url defaults to $${URL_ENV}):
  signer sign <file> --url URL --token-file FILE --scanner-digest sha256:HEX
                     (--dpop-key JWK | --client-cert PEM --client-key PEM) [--cacert PEM]
                     (--poe-file FILE | --poe-format mtls) [--predicate-type URI]
                     [--predicate-file JSON] [--out FILE] [--idempotency-key KEY]
      Sign the file's SHA-256 as the in-toto subject; writes the response to FILE (default
      <file>.bundle.json), prints the auditId. Default predicate type: ${DEFAULT_PREDICATE_TYPE}

  signer verify <bundle.json> [--artifact FILE] [--url URL | --key PEM | --trusted-root JSON]
                [--certificate-identity ID --certificate-oidc-issuer URL]
      kms bundles: DSSE (node:crypto) and Sigstore bundle (@sigstore/verify) with the key from
      GET /keys or --key. Keyless bundles: against --trusted-root, and only once timestamped.
      --artifact: the file's SHA-256 must be a subject of the statement.

  signer referrers <sha256:HEX> --url URL --token-file FILE --dpop-key JWK
      The release verdict for a scanner image (exit 1 when not trusted).

  signer keys --url URL
      The Signer's public keys (GET /keys).

  signer ceremony create|list|get|approve|reject|execute|cancel … --url URL --token-file FILE
                  (--dpop-key JWK | --client-cert PEM --client-key PEM)
      Dual-control ceremonies: \`create --op key.revoke --key NAME --reason TEXT\` (other ops:
      key.register, key.activate, key.retire, key.set-default, trust-anchor.add|remove),
      \`approve ID\`, \`reject ID --reason TEXT\`, \`execute ID\`, \`cancel ID\`, \`list [--status S]\`.
      \`signer ceremony\` lists every flag.

  signer dpop-proof --method M --url URL --dpop-key JWK [--token-file FILE] [--nonce N]
      Print one DPoP proof for curl: -H "DPoP: $(signer dpop-proof …)".

  signer audit verify|export|migrate|chains|end-chain …
      Audit trail: hash chain check (file or PostgreSQL), one tenant's export, schema migration,
      open chains of crashed replicas.
      \`signer audit\` lists the options.

  signer dev token|sign|verify … [--profile DIR]
      The same with the embedded dev profile (\`npm start\`) filling what is not given: URL,
      caller DPoP key (<DIR>/${CALLER_KEY_FILE}), dev OpTok, PoE, scanner digest.
      --profile defaults to $${PROFILE_ENV}, else ./${DEFAULT_PROFILE_DIR}.

  signer --version | --help
Global: --json prints one JSON document on stdout (a result, or {"error": …}).
Exit codes: 0 ok; 1 refused, not verified or not trusted; 2 usage; 3 unreachable, timeout or 5xx.
See docs/cli.md.
`;
