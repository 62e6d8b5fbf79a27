// Generates the embedded profile's dev material into a folder (used by `npm start`).
import { generateEmbeddedProfile } from '@signer/dev';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: embedded-profile <dir>\n');
  process.exit(2);
}
const port = process.env['SIGNER_DEV_PORT'] ? Number(process.env['SIGNER_DEV_PORT']) : undefined;
generateEmbeddedProfile(dir, { port }).then(
  (profile) => process.stdout.write(`${JSON.stringify(profile)}\n`),
  (error: unknown) => {
    process.stderr.write(`cannot generate the embedded profile: ${String(error)}\n`);
    process.exit(1);
  },
);
