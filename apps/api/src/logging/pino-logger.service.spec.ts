import pino from 'pino';
import { Writable } from 'node:stream';
import { PinoLoggerService } from './pino-logger.service';

describe(PinoLoggerService.name, () => {
  const capture = () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    return { lines, logger: new PinoLoggerService(pino({ level: 'info' }, sink)) };
  };

  it("drops the path from Nest's controller lines, which show the global prefix even for excluded routes", () => {
    const { lines, logger } = capture();
    logger.log('HealthController {/api/v1/health}:', 'RoutesResolver');
    logger.log('Mapped {/health/live, GET} route', 'RouterExplorer');
    expect(lines.map((l) => [l.context, l.msg])).toEqual([
      ['RoutesResolver', 'HealthController:'],
      ['RouterExplorer', 'Mapped {/health/live, GET} route'],
    ]);
  });

  it('keeps every other message as it is, with its context and stack', () => {
    const { lines, logger } = capture();
    logger.log('UsersController {/api/v1/users}:', 'Other');
    logger.error('boom', 'Error: boom\n    at x', 'Ctx');
    expect(lines.map((l) => [l.context, l.msg, l.stack])).toEqual([
      ['Other', 'UsersController {/api/v1/users}:', undefined],
      ['Ctx', 'boom', 'Error: boom\n    at x'],
    ]);
  });
});
