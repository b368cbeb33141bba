/** Options of the `nest-add` schematic (`nest add nestjs-ws-routes`). */
export interface NestAddOptions {
  sourceRoot?: string;
  module?: string;
}
