// Writes the generated API documents: docs/openapi.json and docs/errors.md (`nx run signer-api:docs`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderErrorCatalogue } from '../../apps/signer-api/src/http/error-catalogue';
import { buildOpenApiDocument } from '../../apps/signer-api/src/http/openapi-document';
import { SIGNER_VERSION } from '../../apps/signer-api/src/http/version';

const docs = join(process.argv[2] ?? process.cwd(), 'docs');
writeFileSync(
  join(docs, 'openapi.json'),
  `${JSON.stringify(buildOpenApiDocument(SIGNER_VERSION), null, 2)}\n`,
);
writeFileSync(join(docs, 'errors.md'), renderErrorCatalogue());
process.stdout.write(`wrote ${join(docs, 'openapi.json')} and ${join(docs, 'errors.md')}\n`);
