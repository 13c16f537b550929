#!/usr/bin/env node
// mergelogs: merge pen's request log with web-server logs, offline. The code lives in dist/.
import { run } from '../dist/lib/cli/mergelogs.js';

process.exitCode = run(process.argv.slice(2));
