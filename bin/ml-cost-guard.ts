#!/usr/bin/env node
/**
 * CDK app entry: the app lib/app.ts defines (config from context, the stacks, cdk-nag on every synth). A config
 * problem prints its message, without a stack trace, and exits 1; anything else is a bug and keeps its trace.
 */
import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';

const code = defineApp(new App(), { env: process.env, stderr: (text) => process.stderr.write(text) });
if (code !== 0) process.exit(code);
