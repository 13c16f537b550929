#!/usr/bin/env node
// penlog: send web-server log lines from stdin to penlogd. The code lives in dist/.
import { main } from '../dist/lib/cli/penlog.js';

process.exitCode = await main(process.argv.slice(2));
