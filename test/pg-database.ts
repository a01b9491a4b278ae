// Creates or drops a PostgreSQL database for one CI run:
//   tsx test/pg-database.ts create|drop <admin-url> <name>
// Exits non-zero when PostgreSQL cannot be reached, so CI fails instead of skipping.
import pg from 'pg';

const [action, url, name] = process.argv.slice(2);
if (!action || !url || !name || !/^[a-z_][a-z0-9_]*$/.test(name)) {
  process.stderr.write('usage: tsx test/pg-database.ts create|drop <admin-url> <name>\n');
  process.exit(2);
}
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
try {
  await client.connect();
  if (action === 'create') await client.query(`create database ${name}`);
  else await client.query(`drop database if exists ${name} with (force)`);
  process.stdout.write(`${action === 'create' ? 'created' : 'dropped'} database ${name}\n`);
} catch (e) {
  process.stderr.write(`PostgreSQL ${action} of ${name} failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
