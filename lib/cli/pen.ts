// The `pen` command: argv -> start-up (lib/run/start.ts), nothing more.
import { main } from '../run/start.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
