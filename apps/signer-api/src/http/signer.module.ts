import { Module, type DynamicModule } from '@nestjs/common';
import type { SignerRuntime } from '../wiring/create-runtime';
import { CeremoniesController } from './ceremonies.controller';
import { HealthController } from './health.controller';
import { KeysController } from './keys.controller';
import { OpenApiController } from './openapi.controller';
import { ReferrersController } from './referrers.controller';
import { SignController } from './sign.controller';
import { SIGNER_RUNTIME } from './tokens';

@Module({})
export class SignerModule {
  static forRuntime(runtime: SignerRuntime): DynamicModule {
    return {
      module: SignerModule,
      controllers: [
        SignController,
        ReferrersController,
        KeysController,
        CeremoniesController,
        HealthController,
        OpenApiController,
      ],
      providers: [{ provide: SIGNER_RUNTIME, useValue: runtime }],
    };
  }
}
