// `npm start`'s embedded profile: generates its dev material into a folder when absent or of an
// older format, and prints `{ generated, profile }` as one JSON line.
import { ensureEmbeddedProfile } from '@signer/dev';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: embedded-profile <dir>\n');
  process.exit(2);
}
ensureEmbeddedProfile(dir).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`cannot generate the embedded profile: ${String(error)}\n`);
    process.exit(1);
  },
);
