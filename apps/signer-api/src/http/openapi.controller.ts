import { Controller, Get, Inject } from '@nestjs/common';
import type { SignerRuntime } from '../wiring/create-runtime';
import { buildOpenApiDocument, serverEntry } from './openapi-document';
import { SIGNER_RUNTIME } from './tokens';
import { SIGNER_VERSION } from './version';

@Controller('api/v1/signer')
export class OpenApiController {
  private document: { url: string; body: Record<string, unknown> } | undefined;

  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /** `GET /openapi.json`: the document generated from the validating schemas. No auth. */
  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    // Built on first use: the public base URL is final only once the listener has its port.
    const url = this.runtime.publicBaseUrl;
    if (this.document?.url !== url) {
      this.document = { url, body: buildOpenApiDocument(SIGNER_VERSION, serverEntry(url)) };
    }
    return this.document.body;
  }
}
