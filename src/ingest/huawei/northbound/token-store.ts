import type { DataSource } from 'typeorm';

/** A token as the client keeps it; times in epoch ms. */
export interface StoredToken {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly expiresAt: number;
  /** From then on it is renewed. */
  readonly refreshAt: number;
}

/**
 * Where several instances share one token. `exclusive` runs `renew` while
 * holding a lock all instances share, with the token stored now; what `renew`
 * saves becomes every instance's token.
 */
export interface TokenStore {
  exclusive<T>(renew: (stored: StoredToken | null, save: (token: StoredToken) => Promise<void>) => Promise<T>): Promise<T>;
}

/**
 * The token in the `huawei_token` row of the app, renewed under a
 * session-level advisory lock on a connection of its own (not a transaction:
 * a login may take the client's whole retry budget, longer than PostgreSQL
 * lets a transaction sit idle). A crashed holder's lock goes with its connection.
 */
export class PostgresTokenStore implements TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly appId: string,
  ) {}

  async exclusive<T>(renew: (stored: StoredToken | null, save: (token: StoredToken) => Promise<void>) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const key = `ota-gateway:huawei-token:${this.appId}`;
    try {
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      try {
        const rows: { access_token: string; refresh_token: string | null; expires_at: Date; refresh_at: Date }[] = await runner.query(
          'SELECT access_token, refresh_token, expires_at, refresh_at FROM huawei_token WHERE app_id = $1',
          [this.appId],
        );
        const row = rows[0];
        const stored = row
          ? { accessToken: row.access_token, refreshToken: row.refresh_token, expiresAt: new Date(row.expires_at).getTime(), refreshAt: new Date(row.refresh_at).getTime() }
          : null;
        return await renew(stored, async (token) => {
          await runner.query(
            `INSERT INTO huawei_token (app_id, access_token, refresh_token, expires_at, refresh_at, updated_at) VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (app_id) DO UPDATE SET access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
               expires_at = EXCLUDED.expires_at, refresh_at = EXCLUDED.refresh_at, updated_at = EXCLUDED.updated_at`,
            [this.appId, token.accessToken, token.refreshToken, new Date(token.expiresAt), new Date(token.refreshAt)],
          );
        });
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }
}
