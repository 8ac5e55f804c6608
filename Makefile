# Entry points for building and testing lakelog; thin wrappers over scripts/.
#
#   make build   configure and build everything into build/
#   make unit    build, then run the unit tests (GoogleTest via ctest)
#   make test    the whole suite from a fresh machine (= scripts/test.sh)
#   make asan    the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang,
#                build-asan/, shared with the fuzz targets)
#   make tsan    the unit tests under ThreadSanitizer (build-tsan/)
#   make fuzz    every libFuzzer target for FUZZ_SECONDS seconds each (build-asan/)
#
# JOBS sets the build parallelism, CTEST_JOBS the test parallelism.

JOBS ?= 2
CTEST_JOBS ?= 2
FUZZ_SECONDS ?= 60

export LAKELOG_JOBS := $(JOBS)

# ThreadSanitizer keeps its shadow memory at fixed addresses. Where the kernel randomizes mmap
# with more bits than the runtime expects (vm.mmap_rnd_bits = 32 on many 6.x kernels), a TSan
# binary dies at start with "FATAL: ThreadSanitizer: unexpected memory mapping". Running with
# address-space randomization off (setarch -R, inherited by every child: ninja's test discovery,
# ctest, the tests) avoids that without root; where setarch is unavailable we run plainly.
TSAN_LAUNCH := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)

# The hostile-input tests (*NeverCrash*) are slow under ThreadSanitizer (its allocator and the
# garbage-sized buffers they decode: ~100 s for the slowest), so the TSan run gives every test
# up to 15 minutes instead of ctest's default 300 s.
TSAN_TEST_TIMEOUT := 900

# The Kafka sink's and the ingest daemon's tests (librdkafka clients, its mock cluster) are left
# out of the TSan run: Debian's librdkafka starts its threads with C11 thrd_create, which gcc 12's
# ThreadSanitizer does not intercept, so a librdkafka thread has no TSan state and crashes in
# TSan's allocator on its first calloc (KafkaSinkTest.UnreachableBrokerIsRetryable, thread
# "rdk:main"). They run in the plain suite and under ASan (make asan), and tests/kafka runs the
# sink and the daemon against a real broker.
TSAN_EXCLUDE := ^(KafkaSinkTest|IngestDaemonTest)\.

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: all build unit test asan tsan fuzz

all: build

build:
	LAKELOG_BUILD_DIR=build bash scripts/build.sh -DLAKELOG_BUILD_TESTS=ON -DLAKELOG_BUILD_BENCH=ON

unit: build
	ctest --test-dir build --output-on-failure -j$(CTEST_JOBS) --no-tests=error

test:
	bash scripts/test.sh

# One clang build (build-asan/) serves the unit tests under ASan + UBSan and the fuzz targets
# (scripts/fuzz.sh): the library is compiled once for both, and clang also checks the locking
# annotations (-Wthread-safety) of the library and the tests.
ASAN_CMAKE := -DCMAKE_CXX_COMPILER=clang++ -DLAKELOG_SANITIZE=asan \
              -DLAKELOG_BUILD_FUZZ=ON -DLAKELOG_BUILD_TESTS=ON -DLAKELOG_BUILD_BENCH=OFF

asan:
	LAKELOG_BUILD_DIR=build-asan LAKELOG_TARGETS=lakelog_tests bash scripts/build.sh $(ASAN_CMAKE)
	$(ASAN_ENV) ctest --test-dir build-asan --output-on-failure -j$(CTEST_JOBS) --no-tests=error

tsan:
	$(TSAN_LAUNCH) env LAKELOG_BUILD_DIR=build-tsan LAKELOG_TARGETS=lakelog_tests \
	  bash scripts/build.sh -DLAKELOG_SANITIZE=tsan -DLAKELOG_BUILD_TESTS=ON -DLAKELOG_BUILD_BENCH=OFF
	$(TSAN_ENV) $(TSAN_LAUNCH) ctest --test-dir build-tsan --output-on-failure -j$(CTEST_JOBS) \
	  --no-tests=error \
	  --timeout $(TSAN_TEST_TIMEOUT) -E '$(TSAN_EXCLUDE)'

fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
