# Thin wrapper over CMake presets. `make run` sets up, builds and starts the server;
# `make test` sets up, builds and runs every test, then the sanitizer build (sanitize-test).
PRESET ?= release
TEST_PRESET ?= ci
JOBS ?= $(shell nproc)

.PHONY: setup build run test ci-test sanitize-test bench clean format

setup:
	./scripts/setup.sh

build: setup
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS) --target crm-ai

run: build
	./build/$(PRESET)/crm-ai seed --if-empty
	./build/$(PRESET)/crm-ai serve

# Both parts always run (a failure in the first does not hide the second's); the target fails
# when either did.
test: setup
	@rc=0; $(MAKE) --no-print-directory ci-test || rc=1; \
	$(MAKE) --no-print-directory sanitize-test || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see the CTest summaries above)" >&2; fi; \
	exit $$rc

ci-test: setup
	cmake --preset $(TEST_PRESET) >/dev/null
	cmake --build --preset $(TEST_PRESET) -j $(JOBS)
	ctest --preset $(TEST_PRESET)

# ASan+UBSan (clang-14) build of the parser and storage unit tests and the libFuzzer targets
# only (the sanitize build preset's targets), then `ctest --preset sanitize`: each fuzzer runs
# CRM_FUZZ_SECONDS (20 s by default; e.g. `make sanitize-test CRM_FUZZ_SECONDS=600` by hand).
CRM_FUZZ_SECONDS ?= 20
sanitize-test: setup
	cmake --preset sanitize -DCRM_FUZZ_SECONDS=$(CRM_FUZZ_SECONDS) >/dev/null
	cmake --build --preset sanitize -j $(JOBS)
	ctest --preset sanitize

bench: setup
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)
	./bench/run_all.sh build/$(PRESET)

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
