#!/usr/bin/env node
// Validates an OpenAPI document with a standard validator from the npm registry (not our code).
import { Validator } from '@seriousme/openapi-schema-validator';

const validator = new Validator();
const result = await validator.validate(process.argv[2]);
if (result.valid) {
  console.log(`valid OpenAPI ${validator.version}`);
} else {
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
