#!/usr/bin/env node
// The binary runs the TypeScript source directly (Node >= 22.18 / 24 strips types).
import '../src/main.ts';
