import { Logger, type INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

/**
 * How the sample and every example start listening: `PORT` (default 3000) on `HOST` (default all
 * interfaces), SIGTERM/SIGINT close the WebSocket connections with 1001, and one line
 * "Listening on <url>" says where (the tests wait for it).
 */
export async function listen(app: INestApplication, name: string, hint: string): Promise<void> {
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0');
  const { port } = app.getHttpServer().address() as AddressInfo;
  Logger.log(
    `Listening on ${await app.getUrl()} (${hint.replaceAll('<port>', String(port))})`,
    name,
  );
}
