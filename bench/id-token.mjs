// The Node side of bench/compare.sh: what a JavaScript action does to get the token, with the
// toolkit's own calls. The runner's variables and GITHUB_OUTPUT come from the environment.
import * as core from '@actions/core';

const token = await core.getIDToken(process.env.BENCH_AUDIENCE ?? 'sts.amazonaws.com');
core.setOutput('token', token);
