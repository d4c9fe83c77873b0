import { Client } from 'pg';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
import { validateEnv } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

describe(dataSourceOptions.name, () => {
  /** Every character that must be percent-encoded in a URL's userinfo. */
  const PASSWORD = 'p@ss:w/rd%';

  it('hands TypeORM and pg the DATABASE_PASSWORD exactly as written', () => {
    const { database } = validateEnv({
      DATABASE_URL: 'postgres://boardroom@postgres:5432/boardroom',
      DATABASE_PASSWORD: PASSWORD,
    });
    const options = dataSourceOptions(database) as { url?: string };
    expect(options.url).toBeDefined();
    // TypeORM's reading of the URL (its `password` option to the pool) ...
    expect(DriverUtils.buildDriverOptions({ url: options.url })).toMatchObject({
      username: 'boardroom',
      password: PASSWORD,
      host: 'postgres',
      port: 5432,
      database: 'boardroom',
    });
    // ... and pg's, which wins: the pool passes the URL on as `connectionString`.
    const client = new Client({ connectionString: options.url });
    expect({ user: client.user, password: client.password, host: client.host, database: client.database }).toEqual({
      user: 'boardroom',
      password: PASSWORD,
      host: 'postgres',
      database: 'boardroom',
    });
  });
});
