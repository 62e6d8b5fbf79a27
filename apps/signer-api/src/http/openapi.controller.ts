import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument } from './openapi-document';
import { SIGNER_VERSION } from './version';

@Controller('api/v1/signer')
export class OpenApiController {
  private readonly document = buildOpenApiDocument(SIGNER_VERSION);

  /** `GET /openapi.json`: the document generated from the validating schemas. No auth. */
  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}
