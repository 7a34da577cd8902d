// hush-relay command line: placeholder until the relay lands (issue 3).
console.error('hush-relay: not built yet');
process.exit(1);
