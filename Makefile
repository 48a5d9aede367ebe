# swift-otp: the whole set-up is `make demo` or `make test` on a fresh Debian machine.
# Each target installs what it needs from Debian (apt-get, with sudo when not root) when it is missing.

SWIFT      ?= swift
CMAKE_DIR  ?= .build-cmake
SUDO       := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
APT_PKGS   := libuv1-dev libssl-dev pkg-config
CMAKE_PKGS := cmake ninja-build

.PHONY: all deps cmake-deps erlang build demo demo-test view view-test test unit-test cmake-build cmake-test test-tsan test-asan valgrind soak soak-boundary bench bench-smoke compare clean

all: build

# Install the Debian packages named in $(1) that are not installed yet.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PKGS))

cmake-deps: deps
	$(call apt_install,$(CMAKE_PKGS))

## The distribution tests run against real Erlang and Elixir nodes: Debian's erlang-base (erl, erlc, epmd),
## erlang-ssl (inet_tls_dist) and elixir, and EPMD listening on 127.0.0.1 only (a running EPMD is kept); the TLS
## tests make their certificates with the openssl command.
erlang: deps
	$(call apt_install,erlang-base erlang-ssl elixir openssl)
	ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon

build: deps
	$(SWIFT) build

## Build and run the demo.
demo: deps
	$(SWIFT) build -c release --product otp-demo
	$$($(SWIFT) build -c release --show-bin-path)/otp-demo

## The demo, then its shop kept running with its live view served: watch it with `otp-top` (printed).
view: deps
	$(SWIFT) build -c release --product otp-demo
	$(SWIFT) build -c release --product otp-top
	$$($(SWIFT) build -c release --show-bin-path)/otp-demo --view

## otp-top as a user runs it: the demo with its view in tmux, otp-top in another window, the screen read back.
view-test: deps
	$(call apt_install,tmux)
	$(SWIFT) build --product otp-demo
	$(SWIFT) build --product otp-top
	bash Tests/view/otp-top-test.sh $$($(SWIFT) build --show-bin-path)

## otp-demo's configuration errors (a cookie file others can read, a bad node name) end it with one line
## and status 1, and the cookie it is given is never printed.
demo-test: erlang
	$(SWIFT) build --product otp-demo
	bash Tests/demo/config-errors.sh $$($(SWIFT) build --show-bin-path)/otp-demo

## Every code sample of the guides (docs/*.md, README.md) compiles: extracted into a package of their own.
doc-samples: deps
	python3 Tests/doc-samples/extract.py
	cd .build-doc-samples && $(SWIFT) build

## The DocC catalog of the OTP module builds without warnings (swift-docc-plugin), its guides are the
## current docs/ (Tests/docc/guides.py writes them), and every link of the rendered site resolves.
docs: deps
	python3 Tests/docc/guides.py --check
	$(SWIFT) package generate-documentation --target OTP --warnings-as-errors > .build/docc.log 2>&1 || (cat .build/docc.log; exit 1)
	python3 Tests/docc/links.py .build/plugins/Swift-DocC/outputs/OTP.doccarchive
	@echo "DocC OK: the OTP documentation builds without warnings and its links resolve"

## The whole test suite: unit and loop tests (distribution against real Erlang nodes), otp-top in a terminal, the CMake build (library, demo, hosts),
## the guides' code samples, the DocC catalog, and one iteration of every benchmark (so the suite cannot
## rot; nothing about speed is asserted).
test: unit-test view-test demo-test cmake-test doc-samples docs bench-smoke

unit-test: erlang
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## The cross-thread tests (facade, loop, embedding) under ThreadSanitizer; any report fails the run.
TSAN_FILTER := NodeGroup|AsyncFacade|TypedFacade|LoopTests|Embedding|LoopExecutor|ServiceLifecycle|ApplicationTests|ErlangInterop|ConnectionRobustness|NodeIdentity|FragmentTests|RemoteSpawnTests|PartitionTests|TLSDistributionTests
test-tsan: erlang
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan -Xswiftc -DOTP_TSAN
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan \
		--filter "$(TSAN_FILTER)"

## The whole suite under AddressSanitizer; any report fails the run. (libuv itself is not instrumented:
## `make valgrind` covers what happens inside it.)
test-asan: erlang
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan -Xswiftc -DOTP_ASAN
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

## valgrind memcheck over the libuv-heavy programs: the demo (real-loop timers and call timeouts, a node on a
## dedicated thread woken by posts from another thread, supervision, node close; debug build), the demo in
## an Erlang cluster driven by a real Erlang node (Tests/valgrind/distribution.sh), and the C
## host (a node embedded in a host's loop, then closed; CMake release build). Any invalid read or write, or
## use of uninitialised memory (but for the Swift runtime's metadata layout:
## Tests/valgrind/swift-runtime.supp), fails the run. valgrind 3.19 itself crashes on programs parked in
## dispatchMain (the XCTest bundle, async @main hosts): see docs/reliability.md.
VALGRIND := valgrind --tool=memcheck --error-exitcode=1 --leak-check=no --quiet \
	--suppressions=Tests/valgrind/swift-runtime.supp
valgrind: cmake-build erlang
	$(call apt_install,valgrind)
	$(SWIFT) build --product otp-demo
	$(VALGRIND) $$($(SWIFT) build --show-bin-path)/otp-demo > $(CMAKE_DIR)/valgrind-demo.out
	grep -q "dedicated thread stopped; node closed" $(CMAKE_DIR)/valgrind-demo.out
	bash Tests/valgrind/distribution.sh $$($(SWIFT) build --show-bin-path)/otp-demo "$(VALGRIND)" $(CMAKE_DIR)/valgrind-node.out
	$(VALGRIND) $(CMAKE_DIR)/otp-c-host > $(CMAKE_DIR)/valgrind-c-host.out  # a redirect: valgrind's exit code fails the step
	cat $(CMAKE_DIR)/valgrind-c-host.out
	grep -q "uv_loop_close returned 0" $(CMAKE_DIR)/valgrind-c-host.out
	@echo "valgrind OK: no invalid reads or writes in the demo, the demo in a cluster, or the C host"

## Long runs, not part of `make test` (about 4.5 minutes): 200,000 model-based sequences and 600 fault
## seeds; then, release build, 10M spawn/exit cycles, 1M live GenServers, 1M pending timers and facade
## traffic from 8 threads for 3 minutes (Benchmarks/Tools/Soak; figures go to docs/reliability.md).
soak: deps
	OTP_PROPERTY_SEQUENCES=200000 OTP_FAULT_SEEDS=600 $(SWIFT) test --filter "ModelBased|FaultInjection"
	cd Benchmarks && $(SWIFT) build -c release --product Soak
	cd Benchmarks && $$($(SWIFT) build -c release --show-bin-path)/Soak

## The distribution boundary under load, not part of `make test` (about 2 minutes): a release otp-demo in a
## cluster on 127.0.0.1, 200,000 short-lived Erlang callers, 2,000 half-sent handshakes and 200 silent
## ones, a 100 MB message to nobody; resident sizes go to docs/reliability.md.
soak-boundary: erlang
	$(SWIFT) build -c release --product otp-demo
	python3 Benchmarks/boundary_soak.py $$($(SWIFT) build -c release --show-bin-path)/otp-demo

## Build the OTP library and the demo with CMake + Ninja (Release: whole-module optimisation).
cmake-build: cmake-deps
	$(SWIFT) package resolve
	cmake -S . -B $(CMAKE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_Swift_COMPILER=$$(command -v swiftc)
	cmake --build $(CMAKE_DIR)

## The CMake build works: it builds, and its demo runs to the end.
cmake-test: cmake-build
	$(CMAKE_DIR)/otp-demo > $(CMAKE_DIR)/demo.out
	grep -q "dedicated thread stopped; node closed" $(CMAKE_DIR)/demo.out
	grep -q "reached max restart intensity" $(CMAKE_DIR)/demo.out
	$(CMAKE_DIR)/otp-swift-host | tee $(CMAKE_DIR)/swift-host.out
	grep -q "swift-host: Hello, Swift! (#2)" $(CMAKE_DIR)/swift-host.out
	$(CMAKE_DIR)/otp-c-host | tee $(CMAKE_DIR)/c-host.out
	grep -q 'c-host: over TCP the node answered "HELLO FROM A SOCKET"' $(CMAKE_DIR)/c-host.out
	grep -q "c-host: done (0 failures)" $(CMAKE_DIR)/c-host.out
	rm -rf $(CMAKE_DIR)/prefix $(CMAKE_DIR)/c-host-project
	cmake --install $(CMAKE_DIR) --prefix $(CMAKE_DIR)/prefix > /dev/null
	cmake -S Examples/Hosts/c-host -B $(CMAKE_DIR)/c-host-project -G Ninja -DCMAKE_PREFIX_PATH=$(abspath $(CMAKE_DIR))/prefix > /dev/null
	cmake --build $(CMAKE_DIR)/c-host-project > /dev/null
	$(CMAKE_DIR)/c-host-project/c-host | grep -q "c-host: done (0 failures)"
	@echo "CMake build OK: the demo, the Swift host and the C host ran to the end; find_package(SwiftOTP) builds the C host from an install"

## One iteration of each benchmark, a quick run of the comparison's Swift side, and the distribution
## benchmark's swift-otp nodes once.
bench-smoke: erlang
	python3 Benchmarks/compare.py --check-readme
	cd Benchmarks && OTP_BENCH_SMOKE=1 $(SWIFT) package benchmark --no-progress --quiet
	cd Benchmarks && $(SWIFT) build -c release --product Compare
	cd Benchmarks && $(SWIFT) build -c release --product DistBench
	cd Benchmarks && $$($(SWIFT) build -c release --show-bin-path)/Compare --quick > /dev/null
	bash Benchmarks/dist_smoke.sh $$(cd Benchmarks && $(SWIFT) build -c release --show-bin-path)/DistBench
	@echo "Benchmarks OK: every benchmark ran once"

## swift-otp beside Erlang/OTP (installs erlang-base), Swift actors and otpylib (from PyPI, skipped when
## unreachable), in one run, and distribution on loopback (swift-otp and Erlang nodes calling each other):
## writes docs/benchmarks.md and Benchmarks/results/latest.json. QUICK=1: smoke run.
compare: erlang
	$(call apt_install,python3-venv)
	python3 Benchmarks/compare.py $(if $(QUICK),--quick)

## The benchmark suite (release build, ordo-one/benchmark; about two minutes).
bench: deps
	cd Benchmarks && $(SWIFT) package benchmark

clean:
	rm -rf .build .build-tsan .build-asan .build-doc-samples $(CMAKE_DIR) Benchmarks/.build
