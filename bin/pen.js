#!/usr/bin/env node
// pen: TCP/UDP load balancer. The code lives in dist/ (compiled TypeScript).
import '../dist/lib/cli/pen.js';
