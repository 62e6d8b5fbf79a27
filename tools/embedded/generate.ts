// Generates the embedded profile's dev material into a folder (used by `npm start`).
import { generateEmbeddedProfile } from '@signer/testing';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: embedded-profile <dir>\n');
  process.exit(2);
}
generateEmbeddedProfile(dir).then(
  (profile) => process.stdout.write(`${JSON.stringify(profile)}\n`),
  (error: unknown) => {
    process.stderr.write(`cannot generate the embedded profile: ${String(error)}\n`);
    process.exit(1);
  },
);
