#!/usr/bin/env node
// run.js: run the browser tests (every *.test.js in this folder, in name
// order; each exports { tests: [async functions], teardown }) one after the
// other.  Prints "ok NAME" or "FAIL NAME: message" per test and ends with
// "N passed, N failed"; exit status 0 only when nothing failed.
//
//   node tests/browser/run.js [NAME...]     only the tests named (plus the
//                                          ones they depend on: a file's
//                                          tests run in order up to the last
//                                          one named)
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const TEST_TIMEOUT_MS = Number(process.env.LABELD_BROWSER_TEST_TIMEOUT || 60000);

function withTimeout(promise, ms, name) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms);
	});
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function oneLine(e) {
	let m = (e && (e.message || String(e))) || 'failed';
	if (e && e.code === 'ERR_ASSERTION' && e.generatedMessage === false && 'actual' in e)
		m += ` (got ${JSON.stringify(e.actual)}, want ${JSON.stringify(e.expected)})`;
	const at = e && e.stack ? (e.stack.split('\n').find((l) => /\.test\.js:\d+/.test(l)) || '') : '';
	const where = at.match(/([\w.-]+\.test\.js:\d+)/);
	return (where ? where[1] + ': ' : '') + m.replace(/\s+/g, ' ').slice(0, 600);
}

async function main() {
	const only = process.argv.slice(2);
	const out = process.env.LABELD_BROWSER_OUT || path.join(process.cwd(), 'browser-output');
	fs.mkdirSync(out, { recursive: true });
	process.env.LABELD_BROWSER_OUT = out;
	let passed = 0, failed = 0;
	const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
	for (const f of files) {
		let mod;
		try {
			mod = require(path.join(__dirname, f));
		} catch (e) {
			console.log(`FAIL ${f}: could not load: ${oneLine(e)}`);
			failed++;
			continue;
		}
		let tests = mod.tests || [];
		if (only.length) {
			const last = Math.max(...only.map((n) => tests.findIndex((t) => t.name === n)));
			tests = last < 0 ? [] : tests.slice(0, last + 1);
		}
		for (const t of tests) {
			const t0 = Date.now();
			try {
				await withTimeout(t(), TEST_TIMEOUT_MS, t.name);
				console.log(`ok ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
				passed++;
			} catch (e) {
				console.log(`FAIL ${t.name}: ${oneLine(e)}`);
				if (process.env.LABELD_BROWSER_VERBOSE)
					console.error(e);
				failed++;
			}
		}
		if (mod.teardown) {
			try {
				await withTimeout(mod.teardown(), 20000, 'teardown');
			} catch (e) {
				console.error(`# ${f} teardown: ${oneLine(e)}`);
			}
		}
	}
	console.log(`${passed} passed, ${failed} failed`);
	return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((rc) => process.exit(rc), (e) => {
	console.log(`FAIL runner: ${oneLine(e)}`);
	console.log('0 passed, 1 failed');
	process.exit(1);
});
