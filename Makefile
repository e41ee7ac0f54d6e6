# Thin wrapper over CMake presets. `make run` sets up, builds and starts the server;
# `make test` sets up, builds and runs every test.
PRESET ?= release
TEST_PRESET ?= ci
JOBS ?= $(shell nproc)

.PHONY: setup build run test bench clean format

setup:
	./scripts/setup.sh

build: setup
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS) --target crm-ai

run: build
	./build/$(PRESET)/crm-ai seed --if-empty
	./build/$(PRESET)/crm-ai serve

test: setup
	cmake --preset $(TEST_PRESET) >/dev/null
	cmake --build --preset $(TEST_PRESET) -j $(JOBS)
	ctest --preset $(TEST_PRESET)

bench: setup
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)
	./bench/run_all.sh build/$(PRESET)

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
