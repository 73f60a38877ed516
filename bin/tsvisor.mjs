#!/usr/bin/env node
// Entry point installed as `tsvisor`: the bundled CLI.
import '../dist/tsvisor.mjs';
