#!/usr/bin/env node
// penctl: send one control command to a running pen (or Pen) and print the reply.
import { main } from '../dist/lib/cli/penctl.js';

await main();
