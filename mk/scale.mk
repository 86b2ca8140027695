# Many jobs at once (issue 13): figures, not a timed test.
#   make bench-scale  1,000 executions watched at once (memory over an idle Node, the worker's
#                     request rate), status connections held on a blocking worker, a 10,000-job
#                     soak in default and --compat mode (memory slope, handles released), and
#                     verify()'s candidate search against a native Ed25519 loop
# BENCH_WATCH, BENCH_WATCH_COMPAT, BENCH_SOAK, BENCH_SOAK_LANES, BENCH_MODES and SANDRUN_PKG
# change what is run (bench/scale.mjs says how).

.PHONY: bench-scale

bench-scale: $(call DEPS,setup pkg devnode)
	@node --expose-gc bench/scale.mjs
