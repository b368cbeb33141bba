import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { WsModuleOptions } from './interfaces/ws-module-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableWsModule,
  MODULE_OPTIONS_TOKEN: WS_MODULE_OPTIONS,
  OPTIONS_TYPE: WS_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: WS_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WsModuleOptions>()
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWsOptions')
  .setExtras({}, (definition) => ({ ...definition, global: true }))
  .build();
