#!/usr/bin/env node
// penlogd: merge pen's request log with the web servers' logs (UDP). The code lives in dist/.
import { main } from '../dist/lib/cli/penlogd.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
