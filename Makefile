# OpenCMQ — the commands users and CI run. `make run` and `make test` work on a fresh
# Debian 12 machine as root: both install what is missing first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
HTTP ?= 127.0.0.1:8080
TCP ?= 127.0.0.1:8090
DATA ?= ./data

.PHONY: deps build build-server build-for-test build-asan run test unit-test asan-test integration-test bench sim clean format cluster cluster-stop cluster-status fault

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The server and its CLI only: what make run and make cluster need (a first make run on a
# fresh machine compiles no test program).
build-server: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target cmqd cmqctl

# Every program, the integration tests and the simulator, optimised: all but the unit tests.
build-for-test: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target programs_and_integration_tests

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMQ_SANITIZE=ON

# Only the unit test programs: they are what make test runs under the sanitizers.
build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests

run: build-server
	mkdir -p $(DATA)
	exec $(BUILD)/cmqd --http $(HTTP) --tcp $(TCP) --data $(DATA)

# The integration tests, the simulator and the fault tests on the optimised build, then the
# unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (make unit-test runs them
# optimised).
test: build-for-test build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -L '^(integration|sim|fault)$$'
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -L unit

# A 3-node cluster on loopback in the background (HTTP 127.0.0.1:8081-8083; docs/cluster.md).
cluster: build-server
	BUILD=$(BUILD) scripts/cluster start

cluster-stop:
	BUILD=$(BUILD) scripts/cluster stop

cluster-status:
	BUILD=$(BUILD) scripts/cluster status

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	bench/run

SEEDS ?= 1000
# More simulator seeds than make test runs (3- and 5-node clusters, every fault enabled).
sim: build
	$(BUILD)/cmq-sim --seeds $(SEEDS) --nodes 3
	$(BUILD)/cmq-sim --seeds $(SEEDS) --first-seed 1000001 --nodes 5

DURATION ?= 600
# Fault tests (tests/fault/, docs/fault-tests.md): 3 real cmqd nodes behind fault-injecting
# proxies, killed, paused and partitioned while producers and consumers run, then a checker.
# make fault DURATION=120 SEED=7: a shorter run with the fault schedule of seed 7;
# CMQD_ARGS="..." gives every node more arguments (e.g. the --peer-tls-* files).
fault: build-server
	python3 -m unittest discover -s tests/fault -p 'test_*.py'
	python3 tests/fault/run.py --cmqd $(BUILD)/cmqd --duration $(DURATION) $(if $(SEED),--seed $(SEED)) $(if $(CMQD_ARGS),--cmqd-args="$(CMQD_ARGS)")

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')
