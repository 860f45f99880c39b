// A tally of named checks for the JavaScript test clients: each failure is printed as it happens,
// and finish() prints the totals and exits non-zero unless every check passed (and some ran).
export function checks(name) {
  let passed = 0;
  let failed = 0;
  return {
    check(ok, what) {
      if (ok) passed++;
      else {
        failed++;
        console.error(`FAIL: ${what}`);
      }
    },
    finish() {
      console.log(`${name}: ${passed} passed, ${failed} failed`);
      process.exit(failed === 0 && passed > 0 ? 0 : 1);
    },
  };
}
